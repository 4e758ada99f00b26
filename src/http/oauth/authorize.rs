//! `GET`/`POST /oauth2/authorize[/{system}]` (docs/oauth.md#authorize): the protocol decision comes from
//! `oauth::authorize`; here it becomes an error page, an error redirect, or the sign-in pages.

use crate::clock::UnixTime;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::http::pages::error_page;
use crate::http::request_context::Now;
use crate::http::sign_ins::SignIns;
use crate::http::{form, routes};
use crate::oauth::authorize::{AuthorizeDecision, AuthorizeParams, error_redirect};
use crate::state::AppState;

pub async fn get(
    State(state): State<AppState>,
    Now(now): Now,
    RawQuery(query): RawQuery,
) -> Response {
    authorize(&state, now, query.unwrap_or_default().as_bytes()).await
}

pub async fn post(State(state): State<AppState>, Now(now): Now, body: Bytes) -> Response {
    authorize(&state, now, &body).await
}

/// `{system}` (`test`, `demoplan`, …) names the plan in 1upHealth's URLs: another plan's id was
/// rewritten to its own routes before routing (docs/plans.md#urls), so here it is the default plan.
pub async fn get_system(
    State(state): State<AppState>,
    Now(now): Now,
    Path(_system): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    authorize(&state, now, query.unwrap_or_default().as_bytes()).await
}

pub async fn post_system(
    State(state): State<AppState>,
    Now(now): Now,
    Path(_system): Path<String>,
    body: Bytes,
) -> Response {
    authorize(&state, now, &body).await
}

async fn authorize(state: &AppState, now: UnixTime, query: &[u8]) -> Response {
    let params: AuthorizeParams = match form::parse(query) {
        Ok(params) => params,
        Err(e) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Malformed authorization request",
                &format!(
                    "The app sent a request this server cannot read ({e}). Each parameter may appear once."
                ),
                None,
            );
        }
    };
    match state.oauth.decide(&params) {
        AuthorizeDecision::Proceed(request) => {
            let restart = String::from_utf8_lossy(query).into_owned();
            match SignIns::of(state).start(request, restart, now).await {
                Ok(attempt) => {
                    Redirect::to(&routes::login_path(routes::LOGIN, &attempt.id)).into_response()
                }
                // Hosted mode's database did not keep the attempt: no sign-in link that leads
                // nowhere; the app's request can be sent again.
                Err(_) => error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Sign-in is unavailable for a moment",
                    "The sign-in could not be started: the server's database does not answer. Wait a moment, then go back to the app and connect again.",
                    None,
                ),
            }
        }
        AuthorizeDecision::ErrorPage { title, detail } => {
            error_page(StatusCode::BAD_REQUEST, &title, &detail, None)
        }
        AuthorizeDecision::Redirect {
            redirect_uri,
            error,
            description,
            state: app_state,
        } => found(&error_redirect(
            &redirect_uri,
            error,
            &description,
            app_state.as_deref(),
        )),
    }
}

/// `302 Found` to an app's redirect URI, as RFC 6749 §4.1.2 shows.
pub fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            "Invalid redirect URI",
            "The app's redirect URI cannot be used in a redirect.",
            None,
        ),
    }
}
