//! Signing up for a developer account (docs/developer-accounts.md#signing-up): the form (email,
//! password twice), then the page that takes the 6-digit code from the sandbox outbox. The right
//! code makes the account, saves it, and signs the developer in.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::account::{
    self, before_a_session, enter_session, form_token, posted_before_a_session, with_cookie,
};
use super::signin::SignInPage;
use crate::developers::{SignUp, Verified};
use crate::http::database_wait::Unavailable;
use crate::http::form;
use crate::http::pages::{error_page, render};
use crate::http::request_context::Now;
use crate::http::routes;
use crate::oauth::secret::Secret;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "developer_signup.html")]
struct SignUpPage<'a> {
    csrf: &'a str,
    email: &'a str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "developer_verify.html")]
struct VerifyPage<'a> {
    csrf: &'a str,
    to: &'a str,
    action: &'a str,
    error: Option<String>,
}

#[derive(Deserialize)]
struct SignUpForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: Secret,
    #[serde(default)]
    password_confirm: Secret,
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
}

/// A sign-up that is over or never was: start again.
fn sign_up_over(status: StatusCode, why: &str) -> Response {
    error_page(
        status,
        "Sign-up ended",
        why,
        Some(routes::PORTAL_SIGNUP.to_owned()),
    )
}

pub async fn form(State(state): State<AppState>, Now(now): Now, headers: HeaderMap) -> Response {
    let (csrf, cookie) = match before_a_session(&state, &headers, now).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let page = SignUpPage {
        csrf: &csrf,
        email: "",
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
        match posted_before_a_session(&state, &headers, &body, now, |f: &SignUpForm| &f.csrf_token)
        {
            Ok(posted) => posted,
            Err(response) => return response,
        };
    let signed_up = accounts
        .sign_up(
            f.csrf_token.clone(),
            f.email.clone(),
            f.password.clone(),
            f.password_confirm.clone(),
            now,
            form::rfc3339(now),
        )
        .await;
    match signed_up {
        Ok(SignUp::CodeSent { signup, email }) => {
            tracing::info!(to = %email.to, "developer verification email sent (sandbox outbox)");
            Redirect::to(&routes::portal_signup_path(&signup)).into_response()
        }
        Ok(SignUp::Invalid(problem)) => {
            if matches!(problem, crate::developers::SignUpProblem::Hash(_)) {
                tracing::error!("{problem:?}");
            }
            let page = SignUpPage {
                csrf: &f.csrf_token,
                email: &f.email,
                error: Some(problem.to_string()),
            };
            render(StatusCode::BAD_REQUEST, &page)
        }
        Err(Unavailable) => account::unavailable(),
    }
}

/// The sign-up's page in any browser but the one that opened it, or once it is over.
fn not_this_sign_up() -> Response {
    sign_up_over(
        StatusCode::NOT_FOUND,
        "This sign-up is over (its code expired or was used), or never was: sign up again.",
    )
}

pub async fn verify_form(
    State(state): State<AppState>,
    Now(now): Now,
    Path(signup): Path<String>,
    headers: HeaderMap,
) -> Response {
    let accounts = match account::accounts(&state) {
        Ok(accounts) => accounts,
        Err(response) => return response,
    };
    let (csrf, cookie) = form_token(&state, &headers, now);
    // Only the browser that signed up (its form token) sees the sign-up.
    let to = match accounts.signup_email(&signup, &csrf, now).await {
        Ok(Some(to)) => to,
        Ok(None) => return not_this_sign_up(),
        Err(Unavailable) => return account::unavailable(),
    };
    let action = routes::portal_signup_path(&signup);
    let page = VerifyPage {
        csrf: &csrf,
        to: &to,
        action: &action,
        error: None,
    };
    with_cookie(render(StatusCode::OK, &page), cookie)
}

pub async fn verify(
    State(state): State<AppState>,
    Now(now): Now,
    Path(signup): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (accounts, f) =
        match posted_before_a_session(&state, &headers, &body, now, |f: &CodeForm| &f.csrf_token) {
            Ok(posted) => posted,
            Err(response) => return response,
        };
    let browser = &f.csrf_token;
    let to = match accounts.signup_email(&signup, browser, now).await {
        Ok(to) => to.unwrap_or_default(),
        Err(Unavailable) => return account::unavailable(),
    };
    let verified = match accounts.verify(&signup, browser, &f.code, now).await {
        Ok(Some(verified)) => verified,
        Ok(None) => {
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Account not saved",
                "Your account could not be saved (the server log says why): sign up again.",
                Some(routes::PORTAL_SIGNUP.to_owned()),
            );
        }
        Err(Unavailable) => return account::unavailable(),
    };
    match verified {
        Verified::Created(developer) => match accounts.start_session(&developer, now).await {
            Ok(session) => enter_session(&state, &accounts, &headers, &session).await,
            // The account exists: signing in with its password is the way in now.
            Err(Unavailable) => account::unavailable(),
        },
        Verified::Exists => {
            let page = SignInPage {
                csrf: &f.csrf_token,
                email: &to,
                notice: Some(
                    "Your email is verified, and it already has a developer account: sign in with its password.".to_owned(),
                ),
                error: None,
            };
            render(StatusCode::OK, &page)
        }
        Verified::Retry { tries_left } => {
            let action = routes::portal_signup_path(&signup);
            let page = VerifyPage {
                csrf: &f.csrf_token,
                to: &to,
                action: &action,
                error: Some(format!(
                    "That code is not right. {tries_left} {} left.",
                    if tries_left == 1 { "try" } else { "tries" }
                )),
            };
            render(StatusCode::BAD_REQUEST, &page)
        }
        Verified::Ended(why) => sign_up_over(
            StatusCode::BAD_REQUEST,
            &format!("This sign-up ended: {why}. Sign up again."),
        ),
        Verified::Unknown => not_this_sign_up(),
    }
}
