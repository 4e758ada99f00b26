//! `GET` and `POST /r4/Patient/{id}/$everything` (docs/fhir-api.md#everything): only for the
//! caller's own Patient, with the Patient read scope; the Bundle holds only the types the scopes
//! let the caller read. Any other `{type}/{id}/{operation}` is 404. FHIR R4 (Operations, "Executing
//! operations") has servers accept POST for every operation: its parameters come in a
//! `Parameters` resource (or a form body), after any in the URL, with the same result as GET.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde_json::Value;

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
    let pairs = decode(query.as_deref().unwrap_or_default().as_bytes());
    everything(context, access, path, pairs, &headers)
}

pub async fn operation_post(
    context: RequestContext,
    _json: JsonOnly,
    access: FhirAccess,
    path: Result<Path<(String, String, String)>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, FhirError> {
    // POST to `…/_history` and the like is a write to this read-only server, not an operation.
    if let Ok(Path((_, _, operation))) = &path {
        if !operation.starts_with('$') {
            return Err(FhirError::NotAllowed(
                "this server is read-only: create, update, patch and delete are not supported"
                    .to_owned(),
            ));
        }
    }
    let mut pairs = decode(query.as_deref().unwrap_or_default().as_bytes());
    pairs.extend(body_parameters(&headers, &body)?);
    everything(context, access, path, pairs, &headers)
}

fn everything(
    context: RequestContext,
    access: FhirAccess,
    path: Result<Path<(String, String, String)>, PathRejection>,
    pairs: Vec<(String, String)>,
    headers: &HeaderMap,
) -> Result<Response, FhirError> {
    let Path((resource_type, id, operation)) = path.map_err(path_error)?;
    if operation == "_history" {
        return super::read::history(&access, &context, &resource_type, &id);
    }
    if resource_type != "Patient" || operation != "$everything" {
        return Err(FhirError::NotFound(format!(
            "{resource_type}/{id}/{operation}: no such operation (Patient/{{id}}/$everything is served)"
        )));
    }
    let compartment = access.open(&resource_type, Permission::Read)?;
    let result = compartment.everything(&id, &pairs, handling(headers), &access.site(&context))?;
    Ok(searchset(result, &context))
}

/// The parameters of a POSTed operation: none for an empty body, the pairs of a form body, or
/// the `parameter`s of a `Parameters` resource, each `value[x]` primitive as its string form.
fn body_parameters(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, FhirError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok(decode(body));
    }
    let json: Value = serde_json::from_slice(body).map_err(|e| {
        FhirError::Invalid(format!(
            "the body must be a Parameters resource (or empty): {e}"
        ))
    })?;
    if json["resourceType"] != "Parameters" {
        return Err(FhirError::Invalid(
            "the body must be a Parameters resource (or empty)".to_owned(),
        ));
    }
    let mut pairs = Vec::new();
    for parameter in json["parameter"].as_array().into_iter().flatten() {
        let name = parameter["name"].as_str().ok_or_else(|| {
            FhirError::Invalid("every Parameters.parameter needs a name".to_owned())
        })?;
        let value = parameter
            .as_object()
            .into_iter()
            .flatten()
            .find(|(key, _)| key.starts_with("value"))
            .map(|(_, value)| value);
        let value = match value {
            Some(Value::String(s)) => s.clone(),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
            _ => {
                return Err(FhirError::Invalid(format!(
                    "parameter {name}: a primitive value[x] is required"
                )));
            }
        };
        pairs.push((name.to_owned(), value));
    }
    Ok(pairs)
}
