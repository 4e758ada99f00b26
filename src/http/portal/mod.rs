//! The pages for people: the landing page with the test members, and the developer portal where
//! apps are registered (docs/endpoints.md, docs/apps.md#registration). With developer accounts on
//! (docs/developer-accounts.md) the portal is a signed-in developer's: registering needs an
//! account, and each developer sees and changes only their own apps. Each job has its file:
//! `account.rs` (sessions, cookies, form tokens), `signup.rs`, `signin.rs`, `apps.rs` (one app's
//! page: edit, rotate, delete) and `requests.rs` (the request log of one's apps).

pub mod account;
pub mod apps;
pub mod requests;
pub mod signin;
pub mod signup;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::data::Member;
use crate::developers::SignedIn;
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

/// The portal of a signed-in developer: their apps, the registration form, the built-in apps.
#[derive(Template)]
#[template(path = "portal_account.html")]
pub(super) struct AccountPortalPage<'a> {
    email: &'a str,
    /// The session's anti-CSRF token, for every form of the page.
    csrf: &'a str,
    apps: Vec<App>,
    builtin: Vec<App>,
    created: Option<App>,
    notice: Option<String>,
    error: Option<String>,
    form_name: &'a str,
    form_redirects: &'a str,
}

impl<'a> AccountPortalPage<'a> {
    /// The signed-in developer's portal, nothing just done.
    pub(super) fn of(state: &AppState, signed_in: &'a SignedIn) -> Self {
        AccountPortalPage {
            email: &signed_in.developer.email,
            csrf: signed_in.session.csrf.expose(),
            apps: state.oauth.apps.owned_by(&signed_in.developer.id),
            builtin: state
                .oauth
                .apps
                .all()
                .into_iter()
                .filter(|a| a.builtin)
                .collect(),
            created: None,
            notice: None,
            error: None,
            form_name: "",
            form_redirects: "",
        }
    }
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

pub async fn portal(State(state): State<AppState>, Now(now): Now, headers: HeaderMap) -> Response {
    if state.developers.is_some() {
        return match account::require(&state, &headers, now).await {
            Ok(signed_in) => render(StatusCode::OK, &AccountPortalPage::of(&state, &signed_in)),
            Err(response) => response,
        };
    }
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

pub async fn register(
    State(state): State<AppState>,
    Now(now): Now,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // With accounts on, only a signed-in developer registers, with their session's token.
    let signed_in = match state.developers.is_some() {
        true => match account::require(&state, &headers, now).await {
            Ok(signed_in) => Some(signed_in),
            Err(response) => return response,
        },
        false => None,
    };
    let f: RegisterForm = match form::parse(&body) {
        Ok(f) => f,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Malformed form", &e, None),
    };
    let csrf_ok = match &signed_in {
        Some(signed_in) => account::check_session_csrf(signed_in, &f.csrf_token).is_ok(),
        None => state.csrf.check(&f.csrf_token, now),
    };
    if !csrf_ok {
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
            owner: signed_in.as_ref().map(|s| s.developer.id.clone()),
        },
    )
    .await;
    let (status, created, error) = match result {
        Ok(app) => (StatusCode::CREATED, Some(app), None),
        Err(e) if e.code == ErrorCode::TemporarilyUnavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, None, Some(e.description))
        }
        Err(e) => (StatusCode::BAD_REQUEST, None, Some(e.description)),
    };
    let keep = error.is_some();
    if let Some(signed_in) = &signed_in {
        return render(
            status,
            &AccountPortalPage {
                created,
                error,
                form_name: if keep { &f.name } else { "" },
                form_redirects: if keep { &f.redirect_uris } else { "" },
                ..AccountPortalPage::of(&state, signed_in)
            },
        );
    }
    let csrf = state.csrf.issue(now);
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
