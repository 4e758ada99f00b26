//! The contract-testing part of the control API (docs/sandbox-tools.md): `faults`, `requests` and `report`
//! under `/sandbox/api`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::control::{bad_request, json_body};
use crate::http::routes::control as routes;
use crate::sandbox::faults::FaultSpec;
use crate::sandbox::report::report;
use crate::sandbox::report_junit::junit;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            routes::FAULTS,
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route(routes::FAULT, delete(delete_fault))
        .route(routes::REQUESTS, get(requests).delete(clear_requests))
        .route(routes::REPORT, get(client_report))
}

async fn add_fault(State(state): State<AppState>, body: Bytes) -> Response {
    let spec: FaultSpec = match json_body(&body) {
        Ok(spec) => spec,
        Err(response) => return response,
    };
    let mut spec = spec;
    if let Some(name) = spec.plan.as_deref() {
        match state.plan_state(name) {
            // An alias is stored as the plan's id, which requests are matched by.
            Some(plan) => spec.plan = Some(plan.plan.id.to_string()),
            None => {
                return bad_request(format!(
                    "plan {name:?} is not a plan of the network (GET /sandbox/api/plans)"
                ));
            }
        }
    }
    match state.tools.faults.add(spec) {
        Ok(fault) => (StatusCode::CREATED, Json(fault)).into_response(),
        Err(e) => bad_request(e),
    }
}

async fn list_faults(State(state): State<AppState>) -> Response {
    Json(state.tools.faults.active()).into_response()
}

async fn clear_faults(State(state): State<AppState>) -> Response {
    Json(json!({"deleted": state.tools.faults.clear()})).into_response()
}

async fn delete_fault(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match id.parse().ok().filter(|id| state.tools.faults.remove(*id)) {
        Some(_) => Json(json!({"deleted": 1})).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "not_found", "error_description": "no active fault has that id"})),
        )
            .into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
struct Filter {
    client_id: Option<String>,
    /// A path prefix.
    path: Option<String>,
    /// The report's format: `json` (the default) or `junit`.
    format: Option<String>,
}

async fn requests(State(state): State<AppState>, Query(filter): Query<Filter>) -> Response {
    let entries: Vec<_> = state
        .tools
        .requests
        .entries()
        .into_iter()
        .filter(|e| {
            filter
                .client_id
                .as_deref()
                .is_none_or(|c| e.client_id.as_deref() == Some(c))
                && filter.path.as_deref().is_none_or(|p| e.path.starts_with(p))
        })
        .collect();
    Json(entries).into_response()
}

async fn clear_requests(State(state): State<AppState>) -> Response {
    Json(json!({"deleted": state.tools.requests.clear()})).into_response()
}

async fn client_report(State(state): State<AppState>, Query(filter): Query<Filter>) -> Response {
    let entries = state.tools.requests.entries();
    let found = report(&entries, filter.client_id.as_deref());
    match filter.format.as_deref() {
        None | Some("json") => Json(found).into_response(),
        Some("junit") => (
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            junit(&found, &entries),
        )
            .into_response(),
        Some(other) => bad_request(format!("format={other}: use json or junit")),
    }
}
