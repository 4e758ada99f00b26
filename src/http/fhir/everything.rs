//! `GET /r4/Patient/{id}/$everything` (SPEC §6): only for the caller's own Patient, with the
//! Patient read scope; the bundle holds only the types the scopes let the caller read.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::fhir::everything::everything;
use crate::fhir::search::render::Target;
use crate::oauth::scopes::Interaction;
use crate::state::AppState;

use super::access::FhirAccess;
use super::error::FhirError;
use super::negotiate::JsonOnly;
use super::search::{decode, now_text};
use super::{path_error, reply, served_type};

pub async fn operation(
    State(state): State<AppState>,
    _json: JsonOnly,
    access: FhirAccess,
    path: Result<Path<(String, String, String)>, PathRejection>,
    RawQuery(query): RawQuery,
    _headers: HeaderMap,
) -> Result<Response, FhirError> {
    let Path((resource_type, id, operation)) = path.map_err(path_error)?;
    let (slot, def) = served_type(&resource_type)?;
    if def.name != "Patient" || operation != "$everything" {
        return Err(FhirError::NotFound(format!(
            "{resource_type}/{id}/{operation}: no such operation (Patient/{{id}}/$everything is served)"
        )));
    }
    access.require(def.name, Interaction::Read)?;
    let viewer = access.viewer(&state.store);
    let patient = state
        .store
        .find(slot, &id)
        .filter(|&n| viewer.sees(n))
        .ok_or_else(|| FhirError::NotFound(format!("Patient/{id} is not known")))?;
    let pairs = decode(query.as_deref().unwrap_or_default().as_bytes());
    let base = state.fhir_base();
    let url = format!("{base}/Patient/{id}/$everything");
    let now = now_text(&state);
    let target = Target {
        base: &base,
        search_url: &url,
        now: &now,
    };
    Ok(reply::ok(everything(&viewer, patient, &pairs, &target)?))
}
