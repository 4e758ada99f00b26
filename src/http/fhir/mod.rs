//! The FHIR R4 API under `/r4` (docs/fhir-api.md): routes, and the fallbacks that make every unsupported
//! method a 405 and every unknown path a 404, both as OperationOutcome.

mod access;
mod error;
mod everything;
mod metadata;
mod negotiate;
pub mod public;
mod read;
pub(crate) mod reply;
mod search;

use axum::Router;
use axum::routing::{MethodRouter, any, get};

use crate::http::endpoint::{Tag, tagged};
use crate::http::routes::fhir as routes;
use crate::sandbox::interaction::FhirRoute;
use crate::state::AppState;

pub use error::FhirError;

pub fn router(state: &AppState) -> Router<AppState> {
    let route = |route: FhirRoute, methods: MethodRouter<AppState>| {
        tagged(state, Tag::Fhir(route), read_only(methods))
    };
    Router::new()
        .route(
            routes::METADATA,
            route(FhirRoute::Metadata, get(metadata::metadata)),
        )
        .route(
            routes::TYPE,
            route(FhirRoute::Type, get(search::search_get)),
        )
        .route(
            routes::TYPE_SEARCH,
            route(
                FhirRoute::TypeSearch,
                get(search::search_get).post(search::search_post),
            ),
        )
        .route(
            routes::INSTANCE,
            route(FhirRoute::Instance, get(read::read)),
        )
        .route(
            routes::INSTANCE_OPERATION,
            route(
                FhirRoute::InstanceOperation,
                get(everything::operation).post(everything::operation_post),
            ),
        )
        .route(routes::VERSION, route(FhirRoute::Version, get(read::vread)))
        .fallback_service(
            tagged(state, Tag::Fhir(FhirRoute::Unrouted), any(not_found)).with_state(state.clone()),
        )
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
