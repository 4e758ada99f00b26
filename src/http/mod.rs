//! The only place that knows axum: the router, the extractors, and the mapping of each
//! boundary's errors to responses.

pub mod access_log;
pub mod brands;
pub mod caller;
pub mod compress;
pub mod csrf;
pub mod database_wait;
pub mod developer_accounts;
pub mod endpoint;
pub mod fault_answer;
pub mod fhir;
pub mod form;
pub mod oauth;
pub mod oauth_error;
pub mod pages;
pub mod pieces_body;
pub mod plan_urls;
pub mod portal;
pub mod request_context;
pub mod routes;
pub mod sandbox;
pub mod sign_ins;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::routing::{any, get, post};
use tower_http::cors::{Any, CorsLayer};

use crate::sandbox::endpoint::Endpoint;
use crate::state::AppState;

/// Largest request body any endpoint reads: forms and searches are small.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest a request may take, body included, before it is answered 408: longer than the
/// longest delay a contract test may inject (60 s), so that only a stalled client hits it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);

/// Browser apps are first-class (docs/endpoints.md#cors): discovery, token and FHIR responses allow any origin.
/// No credentials are involved (bearer tokens travel in a header), so `*` is safe.
pub(crate) fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            HeaderName::from_static("prefer"),
            HeaderName::from_static("x-requested-with"),
        ])
        .expose_headers([
            header::ETAG,
            header::LAST_MODIFIED,
            header::LOCATION,
            header::CONTENT_LOCATION,
            header::WWW_AUTHENTICATE,
        ])
        .max_age(Duration::from_secs(86_400))
}

/// The assembled server, as `startup` holds it until it serves.
pub type AppRouter = Router;

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: AppRouter,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The whole server: the shared routes and the default plan's at the root, each other plan's
/// under `/plans/{id}` (docs/plans.md#urls). `states` holds every plan's state, the default
/// first.
pub fn router(states: &[AppState]) -> Router {
    let Some((state, others)) = states.split_first() else {
        return Router::new();
    };
    let state = state.clone();
    let page = |methods| endpoint::tagged(&state, endpoint::Tag::Fixed(Endpoint::Page), methods);
    let api = oauth::shared_api_router(&state)
        .method_not_allowed_fallback(json_method_not_allowed)
        .merge(plan_api(&state))
        .layer(cors());
    let mut app = Router::new()
        .route(routes::HOME, page(get(portal::landing)))
        .route(routes::HEALTHZ, get(|| async { "ok" }))
        .route(routes::READYZ, get(readiness))
        .route(routes::STYLESHEET, get(pages::stylesheet))
        .route(routes::BRANDS, get(brands::bundle).layer(cors()))
        .route(routes::BRAND_LOGO, get(brands::logo).layer(cors()))
        .route(routes::BRAND_STYLE, get(brands::style))
        .route(routes::PORTAL, page(get(portal::portal)))
        .route(routes::PORTAL_APPS, page(post(portal::register)))
        .route(routes::SANDBOX_OUTBOX_PAGE, get(sandbox::outbox_page))
        .route(routes::SANDBOX_PAGE, get(sandbox::page::page))
        .route(routes::SANDBOX_TIMELINE, get(sandbox::timeline::page))
        .merge(oauth::page_router(&state))
        .method_not_allowed_fallback(page_method_not_allowed)
        .merge(api);
    for other in others {
        let pages = oauth::page_router(other).method_not_allowed_fallback(page_method_not_allowed);
        let routes = pages
            .merge(plan_api(other).layer(cors()))
            .with_state(other.clone());
        app = app.nest(&other.plan.prefix(), routes);
    }
    if state.developers.is_some() {
        app = app.merge(portal_accounts(&state));
    }
    if state.control_api {
        // The control API also deletes (faults, the request log).
        let control_cors =
            cors().allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS]);
        app = app
            .nest(
                routes::SANDBOX_API,
                sandbox::control::router()
                    .method_not_allowed_fallback(json_method_not_allowed)
                    .layer(control_cors),
            )
            .route(routes::SANDBOX_ACTIONS, post(sandbox::page::action));
    }
    let unrouted = endpoint::tagged(
        &state,
        endpoint::Tag::Fixed(Endpoint::Unrouted),
        any(|| async { (StatusCode::NOT_FOUND, "not found\n") }),
    );
    let inner = app
        .fallback_service(unrouted.with_state(state.clone()))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // The request context also puts each response in the encoding the client asked for
        // (`compress::respond`), from one cache of compressed bodies.
        .layer(axum::middleware::from_fn_with_state(
            (
                state.clone(),
                std::sync::Arc::new(crate::compression::SegmentCache::default()),
            ),
            request_context::layer,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn(access_log::log))
        .with_state(state.clone());
    // The shared sign-in and authorize URLs of the other plans are rewritten to the plan's
    // own routes before routing (a layer on a router runs after its routing), so that the
    // URLs apps and members see are 1upHealth's: `/oauth2/authorize/{plan}`.
    let index = plan_urls::PlanIndex::of(&state.plans());
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .layer(axum::middleware::map_request_with_state(
                index,
                plan_urls::rewrite,
            ))
            .service(inner),
    )
}

/// Developer accounts' pages (docs/developer-accounts.md#pages), routed only when accounts are
/// on: without them every one is 404, and the portal is the open one of docs/apps.md.
fn portal_accounts(state: &AppState) -> Router<AppState> {
    let page = |methods| endpoint::tagged(state, endpoint::Tag::Fixed(Endpoint::Page), methods);
    Router::new()
        .route(
            routes::PORTAL_SIGNUP,
            page(get(portal::signup::form).post(portal::signup::submit)),
        )
        .route(
            routes::PORTAL_SIGNUP_VERIFY,
            page(get(portal::signup::verify_form).post(portal::signup::verify)),
        )
        .route(
            routes::PORTAL_SIGNIN,
            page(get(portal::signin::form).post(portal::signin::submit)),
        )
        .route(routes::PORTAL_SIGNOUT, page(post(portal::signin::sign_out)))
        .route(
            routes::PORTAL_APP,
            page(get(portal::apps::page).post(portal::apps::edit)),
        )
        .route(routes::PORTAL_APP_ROTATE, page(post(portal::apps::rotate)))
        .route(routes::PORTAL_APP_DELETE, page(post(portal::apps::delete)))
        .route(
            routes::PORTAL_APP_REQUESTS,
            page(get(portal::requests::of_app)),
        )
        .route(routes::PORTAL_REQUESTS, page(get(portal::requests::all)))
        .method_not_allowed_fallback(page_method_not_allowed)
}

/// A plan's own API routes: discovery documents, keys, the FHIR API and the public APIs.
fn plan_api(state: &AppState) -> Router<AppState> {
    oauth::plan_api_router(state)
        .method_not_allowed_fallback(json_method_not_allowed)
        .nest(routes::FHIR_BASE, fhir::router(state))
        .nest(
            routes::DIRECTORY_BASE,
            fhir::public::router(crate::fhir::apis::Api::Directory),
        )
        .nest(
            routes::FORMULARY_BASE,
            fhir::public::router(crate::fhir::apis::Api::Formulary),
        )
}

/// `GET /readyz` (docs/hosted.md#readiness): 200 when this replica can serve every request, 503
/// while hosted mode's database does not answer. `/healthz` stays liveness: the process is up.
async fn readiness(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match &state.database {
        None => axum::Json(serde_json::json!({"ready": true})).into_response(),
        Some(database) => match database.ready().await {
            Ok(()) => {
                axum::Json(serde_json::json!({"ready": true, "database": "ok"})).into_response()
            }
            Err(problem) => {
                tracing::warn!("not ready: the database {}: {problem}", database.shown());
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::Json(serde_json::json!({"ready": false, "database": "unreachable"})),
                )
                    .into_response()
            }
        },
    }
}

/// A route that exists, asked with a method it does not serve: JSON APIs answer in their format.
async fn json_method_not_allowed() -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = serde_json::json!({"error": "invalid_request", "error_description": "this endpoint does not support that HTTP method"});
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

async fn page_method_not_allowed() -> axum::response::Response {
    pages::error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "This page does not support that HTTP method.",
        None,
    )
}
