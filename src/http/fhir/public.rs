//! The public FHIR APIs (docs/directory.md): the provider directory at `/directory/r4` and the
//! drug formulary at `/formulary/r4`. Read-only and without authentication: an `Authorization`
//! header is ignored. Each router knows its `Api` (an `Extension`), and every handler reaches
//! data only through `PublicAccess`, which opens that API's own store: a store loaded from the
//! public folders alone, with no member data in it. Search, paging, includes, ETags, strict
//! handling and errors are `/r4`'s: the same FHIR core, the same negotiation and replies.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawQuery};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{MethodRouter, any, get};
use axum::{Extension, Router};
use time::macros::format_description;

use crate::fhir::apis::Api;
use crate::fhir::capability::public_capability_statement;
use crate::fhir::{Compartment, PublicData, Site};
use crate::http::request_context::RequestContext;
use crate::http::routes::fhir as routes;
use crate::state::AppState;

use super::error::FhirError;
use super::negotiate::JsonOnly;
use super::read::{history_reply, version_reply};
use super::search::{answer, search_pairs};
use super::{path_error, reply};

/// One public API's routes (nested under its base by the caller).
pub fn router(api: Api) -> Router<AppState> {
    let read_only = |methods: MethodRouter<AppState>| methods.fallback(method_not_allowed);
    Router::new()
        .route(routes::METADATA, read_only(get(metadata)))
        .route(routes::TYPE, read_only(get(search_get)))
        .route(
            routes::TYPE_SEARCH,
            read_only(get(search_get).post(search_post)),
        )
        .route(routes::INSTANCE, read_only(get(read)))
        .route(routes::INSTANCE_OPERATION, read_only(get(operation)))
        .route(routes::VERSION, read_only(get(vread)))
        .fallback(any(not_found))
        .layer(Extension(api))
}

/// The API's data and base URL: the one road from a public handler to data.
pub struct PublicAccess {
    data: PublicData,
    base: String,
    /// The plan's name, for its CapabilityStatement.
    plan: String,
}

impl FromRequestParts<AppState> for PublicAccess {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, FhirError> {
        let api = parts
            .extensions
            .get::<Api>()
            .copied()
            .ok_or_else(|| FhirError::NotFound("no FHIR endpoint at this path".to_owned()))?;
        // Waits while the embedded data is still loading, just after start-up.
        let data = state.public().get(api).await.map_err(|e| {
            tracing::error!("public data unavailable: {e}");
            FhirError::Injected {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "the public data could not be loaded (the server log says why)".to_owned(),
            }
        })?;
        Ok(PublicAccess {
            data,
            base: state.plan_url(public_base(api)),
            plan: state.plan.name.clone(),
        })
    }
}

/// Where each public API is served.
pub fn public_base(api: Api) -> &'static str {
    match api {
        Api::Directory => crate::http::routes::DIRECTORY_BASE,
        Api::Formulary => crate::http::routes::FORMULARY_BASE,
        Api::PatientAccess => crate::http::routes::FHIR_BASE,
    }
}

/// The public APIs search as the default plan's FHIR API does, in every plan: the behaviour
/// profiles describe Patient Access APIs (docs/plans.md#behaviour-profiles).
static PUBLIC_RULES: std::sync::LazyLock<crate::fhir::search::SearchRules> =
    std::sync::LazyLock::new(crate::fhir::search::SearchRules::default);

impl PublicAccess {
    fn open(&self, resource_type: &str) -> Result<Compartment<'_>, FhirError> {
        Ok(self.data.open(resource_type)?)
    }

    fn site<'a>(&'a self, context: &RequestContext) -> Site<'a> {
        Site {
            base: &self.base,
            now: context.now,
            rules: &PUBLIC_RULES,
        }
    }
}

async fn metadata(
    Extension(api): Extension<Api>,
    context: RequestContext,
    _json: JsonOnly,
    access: PublicAccess,
) -> Response {
    let date = context
        .now
        .format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default();
    let statement = public_capability_statement(api, &access.plan, &access.base, &date);
    reply::ok(Bytes::from(statement.to_string()))
}

async fn search_get(
    context: RequestContext,
    _json: JsonOnly,
    access: PublicAccess,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, FhirError> {
    let Path(resource_type) = path.map_err(path_error)?;
    let compartment = access.open(&resource_type)?;
    let pairs = search_pairs(query.as_deref(), None);
    answer(
        &compartment,
        &pairs,
        &headers,
        &access.site(&context),
        &context,
    )
}

async fn search_post(
    context: RequestContext,
    _json: JsonOnly,
    access: PublicAccess,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, FhirError> {
    let Path(resource_type) = path.map_err(path_error)?;
    let compartment = access.open(&resource_type)?;
    let pairs = search_pairs(query.as_deref(), Some(&body));
    answer(
        &compartment,
        &pairs,
        &headers,
        &access.site(&context),
        &context,
    )
}

async fn read(
    _json: JsonOnly,
    access: PublicAccess,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, FhirError> {
    let Path((resource_type, id)) = path.map_err(path_error)?;
    let compartment = access.open(&resource_type)?;
    Ok(reply::resource(&compartment.read(&id)?, &headers))
}

async fn vread(
    _json: JsonOnly,
    access: PublicAccess,
    path: Result<Path<(String, String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, FhirError> {
    let Path((resource_type, id, version)) = path.map_err(path_error)?;
    let compartment = access.open(&resource_type)?;
    version_reply(&compartment, &id, &version, &headers)
}

/// `{type}/{id}/_history`; no other instance operation is served here.
async fn operation(
    context: RequestContext,
    _json: JsonOnly,
    access: PublicAccess,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Response, FhirError> {
    let Path((resource_type, id, operation)) = path.map_err(path_error)?;
    if operation != "_history" {
        return Err(FhirError::NotFound(format!(
            "{resource_type}/{id}/{operation}: no such operation"
        )));
    }
    let compartment = access.open(&resource_type)?;
    history_reply(&compartment, &id, &access.site(&context))
}

async fn method_not_allowed() -> FhirError {
    FhirError::NotAllowed(
        "this server is read-only: create, update, patch and delete are not supported".to_owned(),
    )
}

async fn not_found() -> FhirError {
    FhirError::NotFound("no FHIR endpoint at this path".to_owned())
}
