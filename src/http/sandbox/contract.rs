//! The contract-testing part of the control API (docs/sandbox-tools.md): `faults`, `requests` and `report`
//! under `/sandbox/api`. In hosted mode each reads and changes every replica's faults and log
//! (docs/hosted.md#faults, #the-request-log), and answers 503 when the database does not.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::control::{bad_request, json_body};
use super::{
    active_faults, clear_faults as clear_all_faults, clear_logged_requests, logged_requests,
};
use crate::db::Unavailable;
use crate::db::faults::AddFaultError;
use crate::http::routes::control as routes;
use crate::oauth::{ErrorCode, OAuthError};
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
    let added = match &state.database {
        Some(database) => database.add_fault(&state.tools.faults, spec).await,
        None => state.tools.faults.add(spec).map_err(AddFaultError::Invalid),
    };
    match added {
        Ok(fault) => (StatusCode::CREATED, Json(fault)).into_response(),
        Err(AddFaultError::Invalid(e)) => bad_request(e),
        Err(AddFaultError::Unavailable(e)) => unavailable("the fault was not added", &e),
    }
}

/// Hosted mode's database did not answer: nothing changed (docs/hosted.md#faults).
fn unavailable(what: &str, problem: &Unavailable) -> Response {
    tracing::error!("{what}: {problem}");
    OAuthError::new(
        ErrorCode::TemporarilyUnavailable,
        format!("{what}: the database does not answer (the server log says why)"),
    )
    .into_response()
}

async fn list_faults(State(state): State<AppState>) -> Response {
    match active_faults(&state).await {
        Ok(faults) => Json(faults).into_response(),
        Err(e) => unavailable("the faults could not be read", &e),
    }
}

async fn clear_faults(State(state): State<AppState>) -> Response {
    match clear_all_faults(&state).await {
        Ok(deleted) => Json(json!({"deleted": deleted})).into_response(),
        Err(e) => unavailable("the faults were not removed", &e),
    }
}

async fn delete_fault(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let removed = match (id.parse::<u64>(), &state.database) {
        (Err(_), _) => Ok(false),
        (Ok(id), Some(database)) => database.remove_fault(&state.tools.faults, id).await,
        (Ok(id), None) => Ok(state.tools.faults.remove(id)),
    };
    match removed {
        Ok(true) => Json(json!({"deleted": 1})).into_response(),
        Ok(false) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "not_found", "error_description": "no active fault has that id"})),
        )
            .into_response(),
        Err(e) => unavailable("the fault was not removed", &e),
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
    let entries = match logged_requests(&state).await {
        Ok(entries) => entries,
        Err(e) => return unavailable("the request log could not be read", &e),
    };
    let entries: Vec<_> = entries
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
    match clear_logged_requests(&state).await {
        Ok(deleted) => Json(json!({"deleted": deleted})).into_response(),
        Err(e) => unavailable("the request log was not emptied", &e),
    }
}

async fn client_report(State(state): State<AppState>, Query(filter): Query<Filter>) -> Response {
    let entries = match logged_requests(&state).await {
        Ok(entries) => entries,
        Err(e) => return unavailable("the request log could not be read", &e),
    };
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
