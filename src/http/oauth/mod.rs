//! HTTP handlers of the authorization server: authorize, the member sign-in pages, token,
//! registration, introspection, revocation, userinfo, and the discovery documents.

pub mod authorize;
pub mod discovery;
pub mod login;
pub mod register;
pub mod token;
pub mod userinfo;

use axum::Router;
use axum::routing::{get, post};

use super::routes;
use crate::state::AppState;

/// Routes answered with JSON to any origin (CORS is added by the caller).
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route(routes::TOKEN, post(token::token))
        .route(routes::REGISTER, post(register::register))
        .route(routes::INTROSPECT, post(token::introspect))
        .route(routes::REVOKE, post(token::revoke))
        .route(
            routes::USERINFO,
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(routes::JWKS, get(discovery::jwks))
        .route(
            routes::OPENID_CONFIGURATION,
            get(discovery::openid_configuration),
        )
        .route(
            routes::SMART_CONFIGURATION,
            get(discovery::smart_configuration),
        )
        .route(
            routes::FHIR_SMART_CONFIGURATION,
            get(discovery::smart_configuration),
        )
}

/// The pages a member sees (same-origin only).
pub fn page_router() -> Router<AppState> {
    Router::new()
        .route(routes::AUTHORIZE, get(authorize::get).post(authorize::post))
        .route(
            routes::AUTHORIZE_SYSTEM,
            get(authorize::get_system).post(authorize::post_system),
        )
        .route(routes::LOGIN, get(login::start))
        .route(
            routes::LOGIN_CREATE,
            get(login::create_form).post(login::create),
        )
        .route(
            routes::LOGIN_SIGN_IN,
            get(login::sign_in_form).post(login::sign_in),
        )
        .route(
            routes::LOGIN_VERIFY,
            get(login::verify_form).post(login::verify),
        )
        .route(
            routes::LOGIN_CONSENT,
            get(login::consent_form).post(login::consent),
        )
}
