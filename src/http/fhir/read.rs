//! `GET /r4/{type}/{id}` and `GET /r4/{type}/{id}/_history/{vid}` (docs/fhir-api.md): a resource
//! outside the caller's compartment reads exactly like one that does not exist.

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::fhir::Permission;

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
    let resource = compartment.read(&id)?;
    if *resource.version_id != *version {
        return Err(FhirError::NotFound(format!(
            "{resource_type}/{id} has no version {version} (the current version is {})",
            resource.version_id
        )));
    }
    Ok(reply::resource(&resource, &headers))
}
