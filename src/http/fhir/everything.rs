//! `GET /r4/Patient/{id}/$everything` (docs/fhir-api.md#everything): only for the caller's own
//! Patient, with the Patient read scope; the Bundle holds only the types the scopes let the
//! caller read. Any other `{type}/{id}/{operation}` is 404.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::fhir::Permission;
use crate::http::request_context::RequestContext;

use super::access::FhirAccess;
use super::error::FhirError;
use super::negotiate::{JsonOnly, handling};
use super::path_error;
use super::search::{decode, searchset};

pub async fn operation(
    context: RequestContext,
    _json: JsonOnly,
    access: FhirAccess,
    path: Result<Path<(String, String, String)>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, FhirError> {
    let Path((resource_type, id, operation)) = path.map_err(path_error)?;
    if resource_type != "Patient" || operation != "$everything" {
        return Err(FhirError::NotFound(format!(
            "{resource_type}/{id}/{operation}: no such operation (Patient/{{id}}/$everything is served)"
        )));
    }
    let compartment = access.open(&resource_type, Permission::Read)?;
    let pairs = decode(query.as_deref().unwrap_or_default().as_bytes());
    let result = compartment.everything(&id, &pairs, handling(&headers), &access.site(&context))?;
    Ok(searchset(result, &context))
}
