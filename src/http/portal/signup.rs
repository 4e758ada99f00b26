//! Signing up for a developer account (docs/developer-accounts.md#signing-up): the form (email,
//! password twice), then the page that takes the 6-digit code from the sandbox outbox. The right
//! code makes the account, saves it, and signs the developer in.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::account::{self, check_form_token, form_token, password_work, with_cookie};
use super::signin::SignInPage;
use crate::developers::{SignUp, Verified};
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

fn malformed(e: &str) -> Response {
    error_page(StatusCode::BAD_REQUEST, "Malformed form", e, None)
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
    if account::signed_in(&state, &headers, now).is_some() {
        return Redirect::to(routes::PORTAL).into_response();
    }
    let (csrf, cookie) = form_token(&state, &headers, now);
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
    let developers = match account::developers(&state) {
        Ok(developers) => developers,
        Err(response) => return response,
    };
    let f: SignUpForm = match form::parse(&body) {
        Ok(f) => f,
        Err(e) => return malformed(&e),
    };
    if let Err(response) = check_form_token(&state, &headers, &f.csrf_token, now) {
        return response;
    }
    let sent_at = form::rfc3339(now);
    let email = f.email.clone();
    let browser = f.csrf_token.clone();
    let signed_up = password_work(move || {
        developers.sign_up(
            &browser,
            &email,
            &f.password,
            &f.password_confirm,
            now,
            sent_at,
        )
    })
    .await;
    match signed_up {
        Some(SignUp::CodeSent { signup, email }) => {
            tracing::info!(to = %email.to, "developer verification email sent (sandbox outbox)");
            Redirect::to(&routes::portal_signup_path(&signup)).into_response()
        }
        Some(SignUp::Invalid(problem)) => {
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
        None => account::unavailable(),
    }
}

pub async fn verify_form(
    State(state): State<AppState>,
    Now(now): Now,
    Path(signup): Path<String>,
    headers: HeaderMap,
) -> Response {
    let developers = match account::developers(&state) {
        Ok(developers) => developers,
        Err(response) => return response,
    };
    let (csrf, cookie) = form_token(&state, &headers, now);
    // Only the browser that signed up (its form token) sees the sign-up.
    let Some(to) = developers.signup_email(&signup, &csrf, now) else {
        return sign_up_over(
            StatusCode::NOT_FOUND,
            "This sign-up is over (its code expired or was used), or never was: sign up again.",
        );
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
    let developers = match account::developers(&state) {
        Ok(developers) => developers,
        Err(response) => return response,
    };
    let f: CodeForm = match form::parse(&body) {
        Ok(f) => f,
        Err(e) => return malformed(&e),
    };
    if let Err(response) = check_form_token(&state, &headers, &f.csrf_token, now) {
        return response;
    }
    let browser = &f.csrf_token;
    let to = developers
        .signup_email(&signup, browser, now)
        .unwrap_or_default();
    match developers.verify(&signup, browser, &f.code, now) {
        Verified::Created(developer) => {
            // Acknowledged only once saved, as a registered app is
            // (docs/developer-accounts.md#persistence).
            if state.oauth.save().is_err() {
                developers.forget(&developer.id);
                return error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Account not saved",
                    "Your account could not be saved (the server log says why): sign up again.",
                    Some(routes::PORTAL_SIGNUP.to_owned()),
                );
            }
            super::signin::end_previous_session(&state, &headers);
            let session = developers.start_session(&developer, now);
            with_cookie(
                Redirect::to(routes::PORTAL).into_response(),
                account::session_cookie(&state, &session.id),
            )
        }
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
        Verified::Unknown => sign_up_over(
            StatusCode::NOT_FOUND,
            "This sign-up is over (its code expired or was used), or never was: sign up again.",
        ),
    }
}
