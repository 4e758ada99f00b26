//! The FHIR R4 API under `/r4` (SPEC §6).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::http::bearer;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/Patient/{id}", get(read_patient))
}

async fn read_patient(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Ok(grant) = bearer::grant(&state, &headers) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"resourceType":"OperationOutcome"})),
        )
            .into_response();
    };
    match state
        .store
        .get("Patient", &id)
        .filter(|_| grant.patient_id == id)
    {
        Some(patient) => Json(patient.as_ref().clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"resourceType":"OperationOutcome"})),
        )
            .into_response(),
    }
}
