//! Discovery documents: SMART App Launch `/.well-known/smart-configuration` (also under the FHIR
//! base), OpenID Connect discovery, RFC 8414 authorization server metadata (the same facts, for
//! OAuth-only clients), and the JWKS. Every URL is absolute and built from the route
//! constants the router serves.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::http::routes;
use crate::plans::Profile;
use crate::plans::brands;
use crate::plans::profile::{RefreshPolicy, ScopeSyntax};
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

/// A plan's OAuth endpoints: its own authorize URL and keys, and the shared token, registration,
/// introspection, revocation and userinfo endpoints (docs/plans.md#urls).
pub fn oauth_uris(state: &AppState) -> OAuthUris {
    let shared = |path: &str| format!("{}{path}", state.public_url);
    OAuthUris {
        authorize: state.authorize_url(),
        token: shared(routes::TOKEN),
        register: shared(routes::REGISTER),
        introspect: shared(routes::INTROSPECT),
        revoke: shared(routes::REVOKE),
        userinfo: shared(routes::USERINFO),
        jwks: state.plan_url(routes::JWKS),
    }
}

/// The scopes a plan lists: every one, or those of its scope syntax (docs/plans.md).
fn scopes_supported(syntax: ScopeSyntax) -> Vec<&'static str> {
    SCOPES_SUPPORTED
        .iter()
        .copied()
        .filter(|scope| match scope.rsplit_once('.') {
            Some((_, permissions)) if scope.contains('/') && !scope.starts_with("launch") => {
                syntax.accepts(permissions)
            }
            _ => true,
        })
        .collect()
}

/// The SMART capabilities a plan has: `permission-v1`/`-v2` follow its scope syntax, and
/// `permission-offline`/`-online` go with its refresh tokens.
fn capabilities(profile: &Profile) -> Vec<&'static str> {
    CAPABILITIES
        .iter()
        .copied()
        .filter(|c| match *c {
            "permission-v1" => profile.scopes.accepts("read"),
            "permission-v2" => profile.scopes.accepts("rs"),
            "permission-offline" | "permission-online" => {
                profile.refresh_tokens != RefreshPolicy::None
            }
            _ => true,
        })
        .collect()
}

pub fn smart_document(state: &AppState) -> Value {
    let uris = oauth_uris(state);
    let profile = &state.plan.profile;
    let issuer = state.issuer();
    json!({
        "issuer": issuer,
        "jwks_uri": uris.jwks,
        "authorization_endpoint": uris.authorize,
        "token_endpoint": uris.token,
        "registration_endpoint": uris.register,
        "introspection_endpoint": uris.introspect,
        "revocation_endpoint": uris.revoke,
        "userinfo_endpoint": uris.userinfo,
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": profile.client_auth.methods(),
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "scopes_supported": scopes_supported(profile.scopes),
        "capabilities": capabilities(profile),
        "code_challenge_methods_supported": ["S256"],
        "user_access_brand_bundle": format!("{}{}", state.public_url, routes::BRANDS),
        "user_access_brand_identifier": brands::identifier(issuer),
    })
}

pub async fn smart_configuration(State(state): State<AppState>) -> Json<Value> {
    Json(smart_document(&state))
}

pub async fn openid_configuration(State(state): State<AppState>) -> Json<Value> {
    Json(openid_document(&state))
}

/// RFC 8414 §3: `/.well-known/oauth-authorization-server`. The OpenID document is a superset of
/// RFC 8414 metadata (RFC 8414 §1), so both serve the same facts and `issuer` is identical.
pub async fn authorization_server_metadata(State(state): State<AppState>) -> Json<Value> {
    Json(openid_document(&state))
}

fn openid_document(state: &AppState) -> Value {
    let uris = oauth_uris(state);
    let profile = &state.plan.profile;
    json!({
        "issuer": state.issuer(),
        "authorization_endpoint": uris.authorize,
        "token_endpoint": uris.token,
        "userinfo_endpoint": uris.userinfo,
        "jwks_uri": uris.jwks,
        "registration_endpoint": uris.register,
        "introspection_endpoint": uris.introspect,
        "revocation_endpoint": uris.revoke,
        "scopes_supported": scopes_supported(profile.scopes),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": profile.client_auth.methods(),
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "fhirUser", "name", "given_name", "family_name", "birthdate"],
    })
}

pub async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.oauth.jwks())
}
