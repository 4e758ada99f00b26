//! `GET /r4/{type}?…` and `POST /r4/{type}/_search` (docs/fhir-api.md#search): decode the
//! parameters (query string, plus the form body for POST), open the caller's compartment of the
//! type for searching, and answer the searchset Bundle it gives.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery};
use axum::http::HeaderMap;
use axum::response::Response;
use url::form_urlencoded;

use crate::fhir::{Compartment, Permission, SearchResult, Site};
use crate::http::request_context::RequestContext;

use super::access::FhirAccess;
use super::error::FhirError;
use super::negotiate::{JsonOnly, handling};
use super::{path_error, reply};

pub async fn search_get(
    context: RequestContext,
    _json: JsonOnly,
    access: FhirAccess,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, FhirError> {
    let Path(resource_type) = path.map_err(path_error)?;
    let compartment = access.open(&resource_type, Permission::Search)?;
    let pairs = search_pairs(query.as_deref(), None);
    answer(
        &compartment,
        &pairs,
        &headers,
        &access.site(&context),
        &context,
    )
}

pub async fn search_post(
    context: RequestContext,
    _json: JsonOnly,
    access: FhirAccess,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, FhirError> {
    let Path(resource_type) = path.map_err(path_error)?;
    let compartment = access.open(&resource_type, Permission::Search)?;
    let pairs = search_pairs(query.as_deref(), Some(&body));
    answer(
        &compartment,
        &pairs,
        &headers,
        &access.site(&context),
        &context,
    )
}

/// A search's parameters: the query string's, then (POST `_search`) the form body's.
pub fn search_pairs(query: Option<&str>, body: Option<&[u8]>) -> Vec<(String, String)> {
    let mut pairs = decode(query.unwrap_or_default().as_bytes());
    if let Some(body) = body {
        pairs.extend(decode(body));
    }
    pairs
}

/// A search of `compartment`, under the request's `Prefer: handling`, answered as a searchset:
/// what every search handler (`/r4` and the public APIs) ends with.
pub fn answer(
    compartment: &Compartment,
    pairs: &[(String, String)],
    headers: &HeaderMap,
    site: &Site,
    context: &RequestContext,
) -> Result<Response, FhirError> {
    let result = compartment.search(pairs, handling(headers), site)?;
    Ok(searchset(result, context))
}

/// `application/x-www-form-urlencoded` decoding, lenient about stray `%` (kept literally).
pub fn decode(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The searchset, after telling the request log the `next` link it offers.
pub fn searchset(result: SearchResult, context: &RequestContext) -> Response {
    context.notes.offered_next(result.next);
    reply::ok_pieces(result.body)
}
