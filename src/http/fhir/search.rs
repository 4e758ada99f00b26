//! `GET /r4/{type}?…` and `POST /r4/{type}/_search` (docs/fhir-api.md#search): decode the
//! parameters (query string, plus the form body for POST), open the caller's compartment of the
//! type for searching, and answer the searchset Bundle it gives.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use url::form_urlencoded;

use crate::fhir::{Interaction, SearchResult, Site};
use crate::state::AppState;

use super::access::FhirAccess;
use super::error::FhirError;
use super::negotiate::{JsonOnly, handling};
use super::{path_error, reply};

pub async fn search_get(
    State(state): State<AppState>,
    _json: JsonOnly,
    access: FhirAccess,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, FhirError> {
    let Path(resource_type) = path.map_err(path_error)?;
    let pairs = decode(query.as_deref().unwrap_or_default().as_bytes());
    let compartment = access.open(&resource_type, Interaction::Search)?;
    let result = compartment.search(&pairs, handling(&headers), &site(&state))?;
    Ok(searchset(result))
}

pub async fn search_post(
    State(state): State<AppState>,
    _json: JsonOnly,
    access: FhirAccess,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, FhirError> {
    let Path(resource_type) = path.map_err(path_error)?;
    let mut pairs = decode(query.as_deref().unwrap_or_default().as_bytes());
    pairs.extend(decode(&body));
    let compartment = access.open(&resource_type, Interaction::Search)?;
    let result = compartment.search(&pairs, handling(&headers), &site(&state))?;
    Ok(searchset(result))
}

/// `application/x-www-form-urlencoded` decoding, lenient about stray `%` (kept literally).
pub fn decode(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn site(state: &AppState) -> Site<'_> {
    Site {
        base: state.fhir_base(),
        now: state.clock.now(),
    }
}

pub fn searchset(result: SearchResult) -> Response {
    reply::ok(result.body)
}
