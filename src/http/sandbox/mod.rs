//! Sandbox tools (docs/sandbox-tools.md): the outbox page and the sandbox page for people, the JSON control
//! API for CI and contract tests (off with `--no-control-api`), and the layer that fires faults
//! and keeps the request log.

pub mod contract;
pub mod control;
pub mod page;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::pages::render;
use crate::oauth::login::OutboxMessage;
use crate::oauth::persist::PersistError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    emails: Vec<OutboxMessage>,
}

pub async fn outbox_page(State(state): State<AppState>) -> Response {
    let mut emails = state.oauth.logins.outbox();
    emails.reverse();
    render(StatusCode::OK, &OutboxPage { emails })
}

/// Reset (docs/sandbox-tools.md#reset): codes, tokens, sign-in attempts, email links, the outbox, faults, the request
/// log and the clock offset go; registered apps stay.
pub fn reset_all(state: &AppState) -> Result<(), PersistError> {
    state.clock.reset();
    state.tools.reset();
    state.oauth.reset()
}
