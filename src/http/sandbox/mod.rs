//! Sandbox tools (SPEC §7): the outbox page for people, and the JSON control API for CI and
//! contract tests (off with `--no-control-api`).

pub mod control;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::pages::render;
use crate::oauth::login::Email;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    emails: Vec<Email>,
}

pub async fn outbox_page(State(state): State<AppState>) -> Response {
    let mut emails = state.oauth.logins.outbox();
    emails.reverse();
    render(StatusCode::OK, &OutboxPage { emails })
}
