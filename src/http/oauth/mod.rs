//! HTTP handlers of the authorization server: authorize, the member sign-in pages, token,
//! registration, introspection, revocation, userinfo, and the discovery documents.

pub mod authorize;
pub mod discovery;
mod jwks_fetch;
pub mod login;
pub mod register;
pub mod token;
pub mod userinfo;

use axum::Router;
use axum::routing::{get, post};

use super::endpoint::{Tag, tagged};
use super::routes;
use crate::sandbox::endpoint::{Endpoint, SignInPage};
use crate::sandbox::interaction::FhirRoute;
use crate::state::AppState;

/// The endpoints every plan shares (docs/plans.md#urls), answered with JSON to any origin (CORS
/// is added by the caller): each finds the plan from the code or token it is given.
pub fn shared_api_router(state: &AppState) -> Router<AppState> {
    let at = |endpoint: Endpoint, methods| tagged(state, Tag::Fixed(endpoint), methods);
    Router::new()
        .route(routes::TOKEN, at(Endpoint::Token, post(token::token)))
        .route(
            routes::REGISTER,
            at(Endpoint::Register, post(register::register)),
        )
        .route(
            routes::INTROSPECT,
            at(Endpoint::Introspect, post(token::introspect)),
        )
        .route(routes::REVOKE, at(Endpoint::Revoke, post(token::revoke)))
        .route(
            routes::USERINFO,
            at(
                Endpoint::Userinfo,
                get(userinfo::userinfo).post(userinfo::userinfo),
            ),
        )
}

/// Each plan's own discovery documents and keys, under the plan's prefix.
pub fn plan_api_router(state: &AppState) -> Router<AppState> {
    let at = |endpoint: Endpoint, methods| tagged(state, Tag::Fixed(endpoint), methods);
    Router::new()
        .route(routes::JWKS, at(Endpoint::Jwks, get(discovery::jwks)))
        .route(
            routes::OPENID_CONFIGURATION,
            at(Endpoint::Discovery, get(discovery::openid_configuration)),
        )
        .route(
            routes::OAUTH_AUTHORIZATION_SERVER,
            at(
                Endpoint::Discovery,
                get(discovery::authorization_server_metadata),
            ),
        )
        .route(
            routes::SMART_CONFIGURATION,
            at(Endpoint::Discovery, get(discovery::smart_configuration)),
        )
        .route(
            routes::FHIR_SMART_CONFIGURATION,
            tagged(
                state,
                Tag::Fhir(FhirRoute::Discovery),
                get(discovery::smart_configuration),
            ),
        )
}

/// The pages a member sees (same-origin only).
pub fn page_router(state: &AppState) -> Router<AppState> {
    let authorize = |methods| tagged(state, Tag::Fixed(Endpoint::Authorize), methods);
    let sign_in = |page, methods| tagged(state, Tag::SignIn(page), methods);
    Router::new()
        .route(
            routes::AUTHORIZE,
            authorize(get(authorize::get).post(authorize::post)),
        )
        .route(
            routes::AUTHORIZE_SYSTEM,
            authorize(get(authorize::get_system).post(authorize::post_system)),
        )
        .route(routes::LOGIN, sign_in(SignInPage::Start, get(login::start)))
        .route(
            routes::LOGIN_CREATE,
            sign_in(
                SignInPage::CreateAccount,
                get(login::create_form).post(login::create),
            ),
        )
        .route(
            routes::LOGIN_CREATE_REPRESENTATIVE,
            sign_in(
                SignInPage::CreateRepresentative,
                get(login::representative_form).post(login::create_representative),
            ),
        )
        .route(
            routes::LOGIN_SIGN_IN,
            sign_in(
                SignInPage::SignIn,
                get(login::sign_in_form).post(login::sign_in),
            ),
        )
        .route(
            routes::LOGIN_VERIFY,
            sign_in(
                SignInPage::Verify,
                get(login::verify_form).post(login::verify),
            ),
        )
        .route(
            routes::LOGIN_CONSENT,
            sign_in(
                SignInPage::Consent,
                get(login::consent_form).post(login::consent),
            ),
        )
}
