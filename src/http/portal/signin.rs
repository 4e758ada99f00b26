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
    self, SESSION_COOKIE, check_form_token, check_session_csrf, form_token, password_work,
    with_cookie,
};
use crate::developers::SignIn;
use crate::http::form;
use crate::http::pages::{error_page, render};
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
    if account::signed_in(&state, &headers, now).is_some() {
        return Redirect::to(routes::PORTAL).into_response();
    }
    let (csrf, cookie) = form_token(&state, &headers, now);
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
    let developers = match account::developers(&state) {
        Ok(developers) => developers,
        Err(response) => return response,
    };
    let f: SignInForm = match form::parse(&body) {
        Ok(f) => f,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Malformed form", &e, None),
    };
    if let Err(response) = check_form_token(&state, &headers, &f.csrf_token, now) {
        return response;
    }
    let email = f.email.clone();
    let signed_in = password_work(move || developers.sign_in(&email, &f.password, now)).await;
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
        Some(SignIn::Ok(session)) => {
            end_previous_session(&state, &headers);
            with_cookie(
                Redirect::to(routes::PORTAL).into_response(),
                account::session_cookie(&state, &session.id),
            )
        }
        Some(SignIn::Wrong) => page(
            StatusCode::BAD_REQUEST,
            "Wrong email or password.".to_owned(),
        ),
        Some(SignIn::Limited { retry_after }) => {
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
        None => account::unavailable(),
    }
}

/// A new session replaces the browser's previous one, if any, on the server too: a signed-in
/// browser never leaves a session behind that its cookie no longer names.
pub(super) fn end_previous_session(state: &AppState, headers: &HeaderMap) {
    if let (Some(developers), Some(id)) =
        (&state.developers, account::cookie(headers, SESSION_COOKIE))
    {
        developers.sign_out(&id);
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
    let signed_in = match account::require(&state, &headers, now) {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
    let f: SignOutForm = match form::parse(&body) {
        Ok(f) => f,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Malformed form", &e, None),
    };
    if let Err(response) = check_session_csrf(&signed_in, &f.csrf_token) {
        return response;
    }
    end_previous_session(&state, &headers);
    with_cookie(
        Redirect::to(routes::PORTAL_SIGNIN).into_response(),
        account::clear_session_cookie(&state),
    )
}
