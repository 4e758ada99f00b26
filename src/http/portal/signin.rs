//! Signing in to and out of a developer account (docs/developer-accounts.md#signing-in): the
//! email and password form, answered 429 with `Retry-After` once an account has had 5 failed
//! sign-ins in 15 minutes of the sandbox clock; and signing out, which ends the session on the
//! server, not only in the browser.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::account::{
    self, SESSION_COOKIE, before_a_session, enter_session, posted_before_a_session,
    posted_signed_in, with_cookie,
};
use crate::developers::SignIn;
use crate::http::database_wait::Unavailable;
use crate::http::pages::render;
use crate::http::request_context::Now;
use crate::http::routes;
use crate::oauth::secret::Secret;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "developer_signin.html")]
pub(super) struct SignInPage<'a> {
    pub(super) csrf: &'a str,
    pub(super) email: &'a str,
    pub(super) notice: Option<String>,
    pub(super) error: Option<String>,
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: Secret,
}

#[derive(Deserialize)]
struct SignOutForm {
    #[serde(default)]
    csrf_token: String,
}

pub async fn form(State(state): State<AppState>, Now(now): Now, headers: HeaderMap) -> Response {
    let (csrf, cookie) = match before_a_session(&state, &headers, now).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let page = SignInPage {
        csrf: &csrf,
        email: "",
        notice: None,
        error: None,
    };
    with_cookie(render(StatusCode::OK, &page), cookie)
}

pub async fn submit(
    State(state): State<AppState>,
    Now(now): Now,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (accounts, f) =
        match posted_before_a_session(&state, &headers, &body, now, |f: &SignInForm| &f.csrf_token)
        {
            Ok(posted) => posted,
            Err(response) => return response,
        };
    let signed_in = accounts
        .sign_in(f.email.clone(), f.password.clone(), now)
        .await;
    let page = |status: StatusCode, error: String| {
        let page = SignInPage {
            csrf: &f.csrf_token,
            email: &f.email,
            notice: None,
            error: Some(error),
        };
        render(status, &page)
    };
    match signed_in {
        Ok(SignIn::Ok(session)) => enter_session(&state, &accounts, &headers, &session).await,
        Ok(SignIn::Wrong) => page(
            StatusCode::BAD_REQUEST,
            "Wrong email or password.".to_owned(),
        ),
        Ok(SignIn::Limited { retry_after }) => {
            let minutes = (retry_after + 59) / 60;
            let mut response = page(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed sign-ins to this account: try again in {minutes} {}.",
                    if minutes == 1 { "minute" } else { "minutes" }
                ),
            );
            if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(Unavailable) => account::unavailable(),
    }
}

/// Ends the session the cookie names (its form's token must be the session's), and tells the
/// browser to forget the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    Now(now): Now,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let posted = posted_signed_in(&state, &headers, &body, now, |f: &SignOutForm| {
        &f.csrf_token
    });
    let accounts = match posted.await {
        Ok((accounts, _, _)) => accounts,
        Err(response) => return response,
    };
    // A signed-in request has its session cookie.
    let id = account::cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    // Signing out ends the session on the server: if that cannot be done now, say so.
    if let Err(Unavailable) = accounts.sign_out(&id).await {
        return account::unavailable();
    }
    with_cookie(
        Redirect::to(routes::PORTAL_SIGNIN).into_response(),
        account::clear_session_cookie(&state),
    )
}
