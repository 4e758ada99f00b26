//! `?plan=` on the control API (docs/sandbox-tools.md#plans): the state of the plan a control
//! call concerns, by id or alias; the default plan when absent. An unknown plan is a 404 in the
//! control API's JSON error shape.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// The plan a control call names.
pub struct PlanParam(pub AppState);

impl FromRequestParts<AppState> for PlanParam {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match named(parts) {
            None => Ok(PlanParam(state.clone())),
            Some(name) => plan_named(state, &name).map(PlanParam),
        }
    }
}

/// The plan `?plan=` names, if it names one: `None` lets the handler look in every plan.
pub struct NamedPlan(pub Option<AppState>);

impl FromRequestParts<AppState> for NamedPlan {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match named(parts) {
            None => Ok(NamedPlan(None)),
            Some(name) => plan_named(state, &name).map(|p| NamedPlan(Some(p))),
        }
    }
}

fn named(parts: &Parts) -> Option<String> {
    url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "plan")
        .map(|(_, v)| v.into_owned())
}

/// The plan `name` names, or the control API's 404.
pub fn plan_named(state: &AppState, name: &str) -> Result<AppState, Response> {
    state.plan_state(name).ok_or_else(|| {
        (
            StatusCode::NOT_FOUND,
            Json(json!({
                "error": "not_found",
                "error_description": format!("no plan {name:?}: GET /sandbox/api/plans lists them")
            })),
        )
            .into_response()
    })
}
