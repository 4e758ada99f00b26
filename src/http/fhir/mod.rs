//! The FHIR R4 API under `/r4` (docs/fhir-api.md): routes, and the fallbacks that make every unsupported
//! method a 405 and every unknown path a 404, both as OperationOutcome.

mod access;
mod error;
mod everything;
mod metadata;
mod negotiate;
mod read;
mod reply;
mod search;

use axum::Router;
use axum::routing::{MethodRouter, get};

use crate::state::AppState;

pub use error::FhirError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/metadata", read_only(get(metadata::metadata)))
        .route("/{type}", read_only(get(search::search_get)))
        .route(
            "/{type}/_search",
            read_only(get(search::search_get).post(search::search_post)),
        )
        .route("/{type}/{id}", read_only(get(read::read)))
        .route(
            "/{type}/{id}/{operation}",
            read_only(get(everything::operation)),
        )
        .route("/{type}/{id}/_history/{vid}", read_only(get(read::vread)))
        .fallback(not_found)
}

/// Any method the route does not serve (POST, PUT, PATCH, DELETE…) is a write: 405.
fn read_only(methods: MethodRouter<AppState>) -> MethodRouter<AppState> {
    methods.fallback(method_not_allowed)
}

async fn method_not_allowed() -> FhirError {
    FhirError::NotAllowed(
        "this server is read-only: create, update, patch and delete are not supported".to_owned(),
    )
}

async fn not_found() -> FhirError {
    FhirError::NotFound("no FHIR endpoint at this path".to_owned())
}

/// Path segments arrive percent-decoded; undecodable ones are the client's error.
fn path_error(rejection: axum::extract::rejection::PathRejection) -> FhirError {
    FhirError::Invalid(format!("malformed path: {rejection}"))
}
