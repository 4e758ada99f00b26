//! `POST /oauth2/register`: RFC 7591 dynamic client registration. Accepts the RFC's metadata
//! (`client_name`, `redirect_uris`, `token_endpoint_auth_method: none` for public apps, `scope`),
//! plus the sandbox's `refresh_tokens` (docs/apps.md#refresh-tokens), and answers 201 with the credentials, or 400 with an RFC 7591 §3.2.2 error.

use crate::clock::UnixTime;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::http::request_context::Now;
use crate::oauth::apps::{App, NewApp, RefreshTokens};
use crate::oauth::{ErrorCode, OAuthError};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
struct Registration {
    client_name: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    token_endpoint_auth_method: Option<String>,
    scope: Option<String>,
    /// payer-sandbox's extension (docs/apps.md#refresh-tokens): `always` or `offline_access`.
    refresh_tokens: Option<String>,
    /// RFC 7591 §2: the app's public keys, by value or by reference, for `private_key_jwt`.
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
}

pub async fn register(State(state): State<AppState>, Now(now): Now, body: Bytes) -> Response {
    let registration: Registration = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                format!("the body must be a JSON object of client metadata: {e}"),
            )
            .into_response();
        }
    };
    let has_keys = registration.jwks.is_some() || registration.jwks_uri.is_some();
    let method = registration
        .token_endpoint_auth_method
        .as_deref()
        .unwrap_or(if has_keys {
            "private_key_jwt"
        } else {
            "client_secret_basic"
        });
    let public = match (method, has_keys) {
        ("client_secret_basic" | "client_secret_post", false) => false,
        ("none", false) => true,
        ("private_key_jwt", true) => false,
        ("private_key_jwt", false) => {
            return OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                "private_key_jwt needs the app's public keys: jwks (a JWK Set) or jwks_uri",
            )
            .into_response();
        }
        ("client_secret_basic" | "client_secret_post" | "none", true) => {
            return OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                format!("jwks and jwks_uri are for private_key_jwt, not {method}"),
            )
            .into_response();
        }
        (other, _) => {
            return OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                format!("token_endpoint_auth_method {other:?} is not supported: use client_secret_basic, client_secret_post, private_key_jwt or none"),
            )
            .into_response();
        }
    };
    let refresh_tokens = match registration.refresh_tokens.as_deref() {
        None => RefreshTokens::default(),
        Some(value) => {
            match RefreshTokens::parse(value) {
                Some(policy) => policy,
                None => {
                    return OAuthError::new(
                    ErrorCode::InvalidClientMetadata,
                    format!("refresh_tokens {value:?} is not supported: use always or offline_access"),
                )
                .into_response();
                }
            }
        }
    };
    let new = NewApp {
        name: registration.client_name.unwrap_or_default(),
        redirect_uris: registration.redirect_uris,
        public,
        scopes: registration
            .scope
            .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect()),
        refresh_tokens,
        jwks: registration.jwks,
        jwks_uri: registration.jwks_uri,
        // RFC 7591 stays open with developer accounts on: its apps have no owner
        // (docs/developer-accounts.md#other-ways-to-register).
        owner: None,
    };
    match crate::http::portal::register_everywhere(&state, new).await {
        Ok(app) => (StatusCode::CREATED, Json(metadata(&app, now))).into_response(),
        Err(mut e) => {
            if e.description.contains("redirect URI") {
                e.code = ErrorCode::InvalidRedirectUri;
            }
            e.into_response()
        }
    }
}

fn metadata(app: &App, now: UnixTime) -> serde_json::Value {
    let mut body = json!({
        "client_id": app.client_id,
        "client_id_issued_at": now,
        "client_name": app.name,
        "redirect_uris": app.redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": app.auth_method(),
        "refresh_tokens": app.refresh_tokens.as_str(),
    });
    if let Some(secret) = &app.client_secret {
        body["client_secret"] = json!(secret);
        body["client_secret_expires_at"] = json!(0);
    }
    if let Some(jwks) = &app.jwks {
        body["jwks"] = jwks.clone();
    }
    if let Some(uri) = &app.jwks_uri {
        body["jwks_uri"] = json!(uri);
    }
    if let Some(scopes) = &app.scopes {
        body["scope"] = json!(scopes.join(" "));
    }
    body
}
