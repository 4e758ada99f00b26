//! Discovery documents: SMART App Launch `/.well-known/smart-configuration` (also under the FHIR
//! base), OpenID Connect discovery, RFC 8414 authorization server metadata (the same facts, for
//! OAuth-only clients), and the JWKS. Every URL is absolute and built from the route
//! constants the router serves.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::http::routes;
use crate::state::AppState;

/// The CARIN BB minimum scopes and the SMART scopes this server grants. Each `patient/Type.read`
/// scope is followed by its `user/` twin: both are granted, and clients choose from this list.
pub const SCOPES_SUPPORTED: &[&str] = &[
    "openid",
    "fhirUser",
    "profile",
    "launch/patient",
    "offline_access",
    "online_access",
    "patient/*.read",
    "user/*.read",
    "patient/*.rs",
    "user/*.rs",
    "patient/Patient.read",
    "user/Patient.read",
    "patient/Coverage.read",
    "user/Coverage.read",
    "patient/ExplanationOfBenefit.read",
    "user/ExplanationOfBenefit.read",
    "patient/Organization.read",
    "user/Organization.read",
    "patient/Practitioner.read",
    "user/Practitioner.read",
    "patient/Patient.rs",
    "patient/Coverage.rs",
    "patient/ExplanationOfBenefit.rs",
    "patient/Organization.rs",
    "patient/Practitioner.rs",
];

/// RFC 7591 names of the client authentication methods the token endpoint accepts.
pub const AUTH_METHODS: &[&str] = &[
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
];
/// `private_key_jwt` signatures accepted (SMART App Launch: RS384 and ES384).
pub const ASSERTION_ALGORITHMS: &[&str] = &["RS384", "ES384"];

/// SMART App Launch 2.2 capabilities (conformance page), each one this server supports and no
/// other: no EHR launch, no encounter context, no banner or style hints.
pub const CAPABILITIES: &[&str] = &[
    "launch-standalone",
    "authorize-post",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "sso-openid-connect",
    "context-standalone-patient",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
];

/// The OAuth endpoints, absolute: shared with the CapabilityStatement's `oauth-uris` extension.
pub struct OAuthUris {
    pub authorize: String,
    pub token: String,
    pub register: String,
    pub introspect: String,
    pub revoke: String,
    pub userinfo: String,
    pub jwks: String,
}

pub fn oauth_uris(public_url: &str) -> OAuthUris {
    let url = |path: &str| format!("{public_url}{path}");
    OAuthUris {
        authorize: url(routes::AUTHORIZE),
        token: url(routes::TOKEN),
        register: url(routes::REGISTER),
        introspect: url(routes::INTROSPECT),
        revoke: url(routes::REVOKE),
        userinfo: url(routes::USERINFO),
        jwks: url(routes::JWKS),
    }
}

pub fn smart_document(public_url: &str) -> Value {
    let uris = oauth_uris(public_url);
    json!({
        "issuer": public_url,
        "jwks_uri": uris.jwks,
        "authorization_endpoint": uris.authorize,
        "token_endpoint": uris.token,
        "registration_endpoint": uris.register,
        "introspection_endpoint": uris.introspect,
        "revocation_endpoint": uris.revoke,
        "userinfo_endpoint": uris.userinfo,
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "scopes_supported": SCOPES_SUPPORTED,
        "capabilities": CAPABILITIES,
        "code_challenge_methods_supported": ["S256"],
    })
}

pub async fn smart_configuration(State(state): State<AppState>) -> Json<Value> {
    Json(smart_document(&state.public_url))
}

pub async fn openid_configuration(State(state): State<AppState>) -> Json<Value> {
    Json(openid_document(&state.public_url))
}

/// RFC 8414 §3: `/.well-known/oauth-authorization-server`. The OpenID document is a superset of
/// RFC 8414 metadata (RFC 8414 §1), so both serve the same facts and `issuer` is identical.
pub async fn authorization_server_metadata(State(state): State<AppState>) -> Json<Value> {
    Json(openid_document(&state.public_url))
}

fn openid_document(public_url: &str) -> Value {
    let uris = oauth_uris(public_url);
    json!({
        "issuer": public_url,
        "authorization_endpoint": uris.authorize,
        "token_endpoint": uris.token,
        "userinfo_endpoint": uris.userinfo,
        "jwks_uri": uris.jwks,
        "registration_endpoint": uris.register,
        "introspection_endpoint": uris.introspect,
        "revocation_endpoint": uris.revoke,
        "scopes_supported": SCOPES_SUPPORTED,
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "fhirUser", "name", "given_name", "family_name", "birthdate"],
    })
}

pub async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.oauth.jwks())
}
