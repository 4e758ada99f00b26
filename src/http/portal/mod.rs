//! The pages for people: the landing page with the test members, and the developer portal where
//! apps are registered (docs/endpoints.md, docs/apps.md#registration).

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::data::Member;
use crate::http::form;
use crate::http::pages::OtherPlan;
use crate::http::pages::{error_page, render};
use crate::http::request_context::Now;
use crate::oauth::apps::{App, NewApp, RefreshTokens, split_redirect_list};
use crate::oauth::{ErrorCode, OAuthError};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage<'a> {
    public_url: &'a str,
    fhir_base: &'a str,
    members: &'a [Member],
    /// The network's other plans (docs/plans.md).
    others: Vec<OtherPlan>,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage<'a> {
    csrf: &'a str,
    apps: Vec<App>,
    created: Option<App>,
    error: Option<String>,
    form_name: &'a str,
    form_redirects: &'a str,
}

#[derive(Debug, Default, Deserialize)]
struct RegisterForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    app_type: String,
    #[serde(default)]
    refresh_tokens: String,
    /// For an asymmetric app: a JWK Set (JSON) or the URL to fetch it from.
    #[serde(default)]
    keys: String,
}

/// Registers an app (portal or RFC 7591), and in hosted mode shares it with every replica
/// before answering (docs/hosted.md#registered-apps): an app the database did not take is not
/// kept, and the caller hears `temporarily_unavailable`.
pub async fn register_everywhere(state: &AppState, new: NewApp) -> Result<App, OAuthError> {
    let app = state.oauth.register(new)?;
    if let Some(database) = &state.database {
        if let Err(e) = database.publish_app(&app, &state.oauth.apps).await {
            tracing::error!("sharing a registration failed: {e}");
            state.oauth.apps.remove(&app.client_id);
            return Err(OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "could not save the registration: the database does not answer (the server log says why)",
            ));
        }
    }
    Ok(app)
}

pub async fn landing(State(state): State<AppState>) -> Response {
    render(
        StatusCode::OK,
        &LandingPage {
            public_url: &state.public_url,
            fhir_base: state.fhir_base(),
            members: state.members.all(),
            others: OtherPlan::all(&state),
        },
    )
}

pub async fn portal(State(state): State<AppState>, Now(now): Now) -> Response {
    let csrf = state.csrf.issue(now);
    render(
        StatusCode::OK,
        &PortalPage {
            csrf: &csrf,
            apps: state.oauth.apps.all(),
            created: None,
            error: None,
            form_name: "",
            form_redirects: "",
        },
    )
}

pub async fn register(State(state): State<AppState>, Now(now): Now, body: Bytes) -> Response {
    let f: RegisterForm = match form::parse(&body) {
        Ok(f) => f,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Malformed form", &e, None),
    };

    if !state.csrf.check(&f.csrf_token, now) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "The form was not sent from the portal page (its security token is missing or wrong). Reload the portal and try again.",
            None,
        );
    }
    let keys = f.keys.trim();
    let (jwks, jwks_uri) = match f.app_type.as_str() {
        "asymmetric" if keys.starts_with('{') => match serde_json::from_str(keys) {
            Ok(jwks) => (Some(jwks), None),
            Err(e) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "Keys are not JSON",
                    &format!(
                        "The public keys must be a JWK Set ({{\"keys\": [...]}}) or a URL: {e}"
                    ),
                    None,
                );
            }
        },
        "asymmetric" if !keys.is_empty() => (None, Some(keys.to_owned())),
        "asymmetric" => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Public keys are required",
                "An asymmetric (private_key_jwt) app needs its public keys: paste a JWK Set or give its URL.",
                None,
            );
        }
        _ => (None, None),
    };
    let result = register_everywhere(
        &state,
        NewApp {
            name: f.name.clone(),
            redirect_uris: split_redirect_list(&f.redirect_uris),
            public: f.app_type == "public",
            scopes: None,
            refresh_tokens: RefreshTokens::parse(&f.refresh_tokens).unwrap_or_default(),
            jwks,
            jwks_uri,
            owner: None,
        },
    )
    .await;
    let csrf = state.csrf.issue(now);
    let (status, created, error) = match result {
        Ok(app) => (StatusCode::CREATED, Some(app), None),
        Err(e) if e.code == ErrorCode::TemporarilyUnavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, None, Some(e.description))
        }
        Err(e) => (StatusCode::BAD_REQUEST, None, Some(e.description)),
    };
    let keep = error.is_some();
    render(
        status,
        &PortalPage {
            csrf: &csrf,
            apps: state.oauth.apps.all(),
            created,
            error,
            form_name: if keep { &f.name } else { "" },
            form_redirects: if keep { &f.redirect_uris } else { "" },
        },
    )
}
