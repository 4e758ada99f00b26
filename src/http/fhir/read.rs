//! `GET /r4/{type}/{id}` and `GET /r4/{type}/{id}/_history/{vid}` (SPEC §6, §6.1): a resource
//! outside the caller's compartment reads exactly like one that does not exist.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::fhir::store::Idx;
use crate::oauth::scopes::Interaction;
use crate::state::AppState;

use super::access::FhirAccess;
use super::error::FhirError;
use super::negotiate::JsonOnly;
use super::{path_error, reply, served_type};

pub async fn read(
    State(state): State<AppState>,
    _json: JsonOnly,
    access: FhirAccess,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, FhirError> {
    let Path((resource_type, id)) = path.map_err(path_error)?;
    let n = visible(&state, &access, &resource_type, &id)?;
    Ok(reply::resource(&state.store.entry(n), &headers))
}

pub async fn vread(
    State(state): State<AppState>,
    _json: JsonOnly,
    access: FhirAccess,
    path: Result<Path<(String, String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, FhirError> {
    let Path((resource_type, id, version)) = path.map_err(path_error)?;
    let n = visible(&state, &access, &resource_type, &id)?;
    let entry = state.store.entry(n);
    if *entry.version_id != *version {
        return Err(FhirError::NotFound(format!(
            "{resource_type}/{id} has no version {version} (the current version is {})",
            entry.version_id
        )));
    }
    Ok(reply::resource(&entry, &headers))
}

/// The resource, if the type is served, the scopes allow reading it, and it is in the caller's
/// compartment.
fn visible(
    state: &AppState,
    access: &FhirAccess,
    resource_type: &str,
    id: &str,
) -> Result<Idx, FhirError> {
    let (slot, def) = served_type(resource_type)?;
    access.require(def.name, Interaction::Read)?;
    let viewer = access.viewer(&state.store);
    state
        .store
        .find(slot, id)
        .filter(|&n| viewer.sees(n))
        .ok_or_else(|| FhirError::NotFound(format!("{resource_type}/{id} is not known")))
}
