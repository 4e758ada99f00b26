//! `/sandbox/api/changes` and `/sandbox/api/prior-authorizations/{id}/…` (docs/sandbox-tools.md#data-changes):
//! the data's timeline and what it has applied at the sandbox clock's now, and the control API's
//! changes to a prior authorization (a decision, units used), each a new version at once: in
//! hosted mode on every replica before the answer (docs/hosted.md#data-changes).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::db::data_changes::{MakeError, PlanData};
use crate::fhir::live::{self, Applied, ChangeError, Origin, Version};
use crate::fhir::prior_auth::{DecisionRequest, PriorAuthChange, PriorAuthError, UseRequest};
use crate::http::request_context::RequestContext;
use crate::http::routes::control as routes;
use crate::oauth::{ErrorCode, OAuthError};
use crate::state::AppState;

use super::plan_param::{NamedPlan, PlanParam};

use super::control::{bad_request, json_body};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(routes::CHANGES, get(changes))
        .route(routes::PRIOR_AUTH_DECISION, post(decide))
        .route(routes::PRIOR_AUTH_USE, post(record_use))
}

fn origin(origin: &Origin) -> Value {
    match origin {
        Origin::Timeline(place) => json!(place),
        Origin::ControlApi => json!("control API"),
    }
}

/// Every change of the timeline (due or not) and every change made through the control API, in
/// time order, with the version each made.
async fn changes(PlanParam(state): PlanParam, context: RequestContext) -> Response {
    let data = state.member_data().changes();
    let view = data.at(context.now);
    let applied = view.applied();
    let mut listed: Vec<Value> = applied.iter().map(applied_json).collect();
    let due = applied
        .iter()
        .filter(|a| matches!(a.change.origin, Origin::Timeline(_)))
        .count();
    listed.extend(data.timeline().iter().skip(due).map(|change| {
        json!({
            "at": live::instant(change.at),
            "resource": format!("{}/{}", change.resource_type, change.id),
            "note": change.note,
            "origin": origin(&change.origin),
            "applied": false,
        })
    }));
    Json(json!({
        "now": live::instant(context.now),
        "changes": listed,
    }))
    .into_response()
}

fn applied_json(applied: &Applied) -> Value {
    let change = &applied.change;
    let mut out = json!({
        "at": live::instant(change.at),
        "resource": format!("{}/{}", change.resource_type, change.id),
        "note": change.note,
        "origin": origin(&change.origin),
        "applied": applied.outcome.is_ok(),
    });
    match &applied.outcome {
        Ok(version) => out["version_id"] = json!(version),
        Err(why) => out["skipped"] = json!(why),
    }
    out
}

async fn decide(
    State(state): State<AppState>,
    NamedPlan(plan): NamedPlan,
    context: RequestContext,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let request: DecisionRequest = match json_body(&body) {
        Ok(r) => r,
        Err(response) => return response,
    };
    match request.into_change() {
        Ok(change) => make(&state, plan, &context, &id, change).await,
        Err(e) => refused(e),
    }
}

async fn record_use(
    State(state): State<AppState>,
    NamedPlan(plan): NamedPlan,
    context: RequestContext,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let request: UseRequest = match json_body(&body) {
        Ok(r) => r,
        Err(response) => return response,
    };
    make(&state, plan, &context, &id, request.into_change()).await
}

/// The change, made in the plan `?plan=` names, else in the first plan whose data holds the
/// prior authorization (its ids are the plan's own).
async fn make(
    state: &AppState,
    plan: Option<AppState>,
    context: &RequestContext,
    id: &str,
    change: PriorAuthChange,
) -> Response {
    let id = id.strip_prefix("ExplanationOfBenefit/").unwrap_or(id);
    let candidates = match plan {
        Some(plan) => vec![plan],
        None => state.plans(),
    };
    let result = match &state.database {
        // Hosted mode: stored, numbered after every replica's changes, and served by every
        // replica before the answer.
        Some(database) => {
            let candidates: Vec<PlanData> = candidates
                .iter()
                .map(|candidate| PlanData {
                    plan: candidate.plan.id.clone(),
                    data: candidate.member_data().clone(),
                })
                .collect();
            database
                .make_prior_auth_change(&state.plan_data(), &candidates, id, change, context.now)
                .await
        }
        None => make_here(&candidates, id, change, context).map_err(MakeError::Change),
    };
    match result {
        Ok(version) => version_json(id, &version),
        Err(MakeError::Change(ChangeError::NotFound(message))) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "not_found", "error_description": message})),
        )
            .into_response(),
        Err(MakeError::Change(ChangeError::Refused(e))) => refused(e),
        Err(MakeError::Database(e)) => {
            tracing::warn!("making a data change: {e}");
            OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the change was not made: the database does not answer (the server log says why)",
            )
            .into_response()
        }
    }
}

/// The change made in this process's data only (no database).
fn make_here(
    candidates: &[AppState],
    id: &str,
    change: PriorAuthChange,
    context: &RequestContext,
) -> Result<Version, ChangeError> {
    let mut result = Err(ChangeError::NotFound(format!(
        "no prior authorization ExplanationOfBenefit/{id} in the data"
    )));
    for candidate in candidates {
        result =
            candidate
                .member_data()
                .changes()
                .change_prior_auth(id, change.clone(), context.now);
        if !matches!(result, Err(ChangeError::NotFound(_))) {
            break;
        }
    }
    result
}

fn refused(error: PriorAuthError) -> Response {
    match error {
        PriorAuthError::Invalid(message) => bad_request(message),
        PriorAuthError::Conflict(message) => (
            StatusCode::CONFLICT,
            Json(json!({"error": "conflict", "error_description": message})),
        )
            .into_response(),
    }
}

/// The version a change made: its id, when, and the resource as the FHIR API now serves it.
fn version_json(id: &str, version: &Version) -> Response {
    let resource: Value = serde_json::from_slice(&version.json).unwrap_or(Value::Null);
    Json(json!({
        "resource": format!("ExplanationOfBenefit/{id}"),
        "version_id": version.version_id,
        "last_updated": resource["meta"]["lastUpdated"],
        "body": resource,
    }))
    .into_response()
}
