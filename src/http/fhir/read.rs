//! `GET /r4/{type}/{id}` and `GET /r4/{type}/{id}/_history/{vid}` (docs/fhir-api.md): a resource
//! outside the caller's compartment reads exactly like one that does not exist.

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::fhir::bundle::{self, HistoryEntry};
use crate::fhir::{Compartment, Permission, Site};
use crate::http::request_context::RequestContext;

use super::access::FhirAccess;
use super::error::FhirError;
use super::negotiate::JsonOnly;
use super::{path_error, reply};

pub async fn read(
    _json: JsonOnly,
    access: FhirAccess,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, FhirError> {
    let Path((resource_type, id)) = path.map_err(path_error)?;
    let compartment = access.open(&resource_type, Permission::Read)?;
    Ok(reply::resource(&compartment.read(&id)?, &headers))
}

pub async fn vread(
    _json: JsonOnly,
    access: FhirAccess,
    path: Result<Path<(String, String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, FhirError> {
    let Path((resource_type, id, version)) = path.map_err(path_error)?;
    let compartment = access.open(&resource_type, Permission::Read)?;
    version_reply(&compartment, &id, &version, &headers)
}

/// One version of a resource of the compartment, or 404 naming the versions it has.
pub fn version_reply(
    compartment: &Compartment,
    id: &str,
    version: &str,
    headers: &HeaderMap,
) -> Result<Response, FhirError> {
    let versions = compartment.history(id)?;
    match versions.iter().find(|v| v.version_id == version) {
        Some(found) => Ok(reply::version(found, headers)),
        None => Err(FhirError::NotFound(format!(
            "{}/{id} has no version {version} (its versions are {})",
            compartment.resource_type(),
            versions
                .iter()
                .map(|v| v.version_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// `GET /r4/{type}/{id}/_history` (FHIR R4 http §3.1.0.9): every version of the resource, newest
/// first, as a `history` Bundle; only of a resource the caller may read.
pub fn history(
    access: &FhirAccess,
    context: &RequestContext,
    resource_type: &str,
    id: &str,
) -> Result<Response, FhirError> {
    let compartment = access.open(resource_type, Permission::Read)?;
    history_reply(&compartment, id, &access.site(context))
}

/// The `history` Bundle of a resource of the compartment (FHIR R4 http §3.1.0.9).
pub fn history_reply(
    compartment: &Compartment,
    id: &str,
    site: &Site,
) -> Result<Response, FhirError> {
    let versions = compartment.history(id)?;
    let body = bundle::history(
        site,
        compartment.resource_type(),
        id,
        versions.iter().rev().map(|v| HistoryEntry {
            version_id: &v.version_id,
            last_updated: v.last_updated,
            json: &v.json,
        }),
    );
    Ok(reply::ok(body))
}
