//! `GET /r4/{type}?…` and `POST /r4/{type}/_search` (SPEC §6): decode the parameters (query
//! string, plus the form body for POST), check the scopes, run the search inside the caller's
//! compartment and answer the searchset Bundle.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use time::format_description::well_known::Rfc3339;
use url::form_urlencoded;

use crate::fhir::search::{self, render};
use crate::oauth::scopes::Interaction;
use crate::state::AppState;

use super::access::FhirAccess;
use super::error::FhirError;
use super::negotiate::{JsonOnly, strict};
use super::{path_error, reply, served_type};

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
    search(&state, &access, &resource_type, &pairs, &headers)
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
    search(&state, &access, &resource_type, &pairs, &headers)
}

/// `application/x-www-form-urlencoded` decoding, lenient about stray `%` (kept literally).
pub fn decode(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn now_text(state: &AppState) -> String {
    state.clock.now().format(&Rfc3339).unwrap_or_default()
}

fn search(
    state: &AppState,
    access: &FhirAccess,
    resource_type: &str,
    pairs: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Response, FhirError> {
    let (slot, def) = served_type(resource_type)?;
    access.require(def.name, Interaction::Search)?;
    let request = search::parse(def, pairs)?;
    if strict(headers) && !request.ignored.is_empty() {
        return Err(FhirError::Invalid(request.ignored.join("; ")));
    }
    let viewer = access.viewer(&state.store);
    let page = search::run(&viewer, slot, &request);
    let base = state.fhir_base();
    let search_url = format!("{base}/{}", def.name);
    let now = now_text(state);
    let target = render::Target {
        base: &base,
        search_url: &search_url,
        now: &now,
    };
    Ok(reply::ok(render::render(
        &state.store,
        &target,
        &request,
        &page,
    )))
}
