//! FHIR JSON responses (docs/fhir-api.md): the `application/fhir+json` content type, and the validators
//! of a read — `ETag` from `meta.versionId`, `Last-Modified` from `meta.lastUpdated`, and 304
//! for a matching `If-None-Match` (or a not-newer `If-Modified-Since`).

use std::time::{Duration, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::fhir::StoredResource;
use crate::fhir::date::{Nanos, unix_seconds};
use crate::fhir::live::Version;
use crate::fhir::pieces::Pieces;
use crate::http::pieces_body;

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

pub fn json(status: StatusCode, body: Bytes) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
        Body::from(body),
    )
        .into_response()
}

pub fn ok(body: Bytes) -> Response {
    json(StatusCode::OK, body)
}

/// A 200 whose body is written piece by piece (a Bundle: docs/fhir-api.md#bundles).
pub fn ok_pieces(body: Pieces) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
        pieces_body::body(body),
    )
        .into_response()
}

/// A read of a stored resource, honouring conditional-read headers.
pub fn resource(entry: &StoredResource, request: &HeaderMap) -> Response {
    validated(entry.json(), entry.version_id, entry.last_updated, request)
}

/// A vread of one version of a resource, honouring conditional-read headers.
pub fn version(version: &Version, request: &HeaderMap) -> Response {
    validated(
        version.json.clone(),
        &version.version_id,
        version.last_updated,
        request,
    )
}

pub fn validated(
    json: Bytes,
    version_id: &str,
    last_updated: Option<Nanos>,
    request: &HeaderMap,
) -> Response {
    let etag = format!("W/\"{version_id}\"");
    let last_modified = last_updated.map(|lu| {
        httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(unix_seconds(lu).max(0) as u64))
    });
    let not_modified = match request.get(header::IF_NONE_MATCH) {
        Some(value) => value.to_str().is_ok_and(|v| etag_matches(v, version_id)),
        None => match (request.get(header::IF_MODIFIED_SINCE), last_updated) {
            (Some(since), Some(lu)) => since
                .to_str()
                .ok()
                .and_then(|s| httpdate::parse_http_date(s).ok())
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .is_some_and(|since| unix_seconds(lu) <= since.as_secs() as i64),
            _ => false,
        },
    };
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ok(json)
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if let Some(value) = last_modified.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(header::LAST_MODIFIED, value);
    }
    response
}

/// `If-None-Match`: `*`, or a list of strong or weak tags one of which names the version.
fn etag_matches(header_value: &str, version_id: &str) -> bool {
    header_value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == version_id)
}
