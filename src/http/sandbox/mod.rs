//! Sandbox tools (docs/sandbox-tools.md): the outbox, sandbox and timeline pages for people, the
//! JSON control API for CI and contract tests (off with `--no-control-api`), and the layer that
//! fires faults and keeps the request log.

pub mod contract;
pub mod control;
pub mod data_changes;
pub mod page;
pub mod plan_param;
pub mod timeline;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::pages::{error_page, render};
use crate::http::sign_ins::{self, Unavailable};
use crate::oauth::login::OutboxMessage;
use crate::oauth::persist::PersistError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    emails: Vec<Email>,
}

/// A verification email and the plan whose sign-in sent it.
pub struct Email {
    pub to: String,
    pub code: String,
    pub sent_at: String,
    pub plan: String,
}

/// Every plan's verification emails, oldest first (in hosted mode every replica's).
pub async fn emails(state: &AppState) -> Result<Vec<Email>, Unavailable> {
    let mut emails: Vec<Email> = sign_ins::outbox(state)
        .await?
        .into_iter()
        .map(|(plan, m): (_, OutboxMessage)| Email {
            to: m.to,
            code: m.code,
            sent_at: m.sent_at,
            plan: plan.to_string(),
        })
        .collect();
    // RFC 3339 instants of one clock sort as text; the sort is stable within a plan.
    emails.sort_by(|a, b| a.sent_at.cmp(&b.sent_at));
    Ok(emails)
}

/// Hosted mode's outbox could not be read (docs/hosted.md#member-sign-in).
pub fn outbox_unavailable() -> Response {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The outbox is unavailable for a moment",
        "The database that keeps the verification emails does not answer; the server log says why. Reload the page in a moment.",
        None,
    )
}

pub async fn outbox_page(State(state): State<AppState>) -> Response {
    let Ok(mut emails) = emails(&state).await else {
        return outbox_unavailable();
    };
    emails.reverse();
    render(StatusCode::OK, &OutboxPage { emails })
}

/// Moves the sandbox clock forward by `seconds` and notes the move for the timeline. In hosted
/// mode the move is every replica's before this returns (docs/hosted.md#the-sandbox-clock).
pub async fn advance_clock(state: &AppState, seconds: u64) -> Result<(), String> {
    let before = match &state.database {
        Some(database) => database.move_clock(&state.clock, Some(seconds)).await?,
        None => {
            let before = state.clock.offset();
            state.clock.advance(seconds);
            before
        }
    };
    let after = state.clock.offset();
    state
        .tools
        .clock_moved(state.clock.now(), after.saturating_sub(before), false);
    Ok(())
}

/// The sandbox clock back on the wall clock, on every replica in hosted mode: the offset it had.
async fn clock_to_wall(state: &AppState) -> Result<i64, String> {
    match &state.database {
        Some(database) => database.move_clock(&state.clock, None).await,
        None => Ok(state.clock.reset()),
    }
}

/// Puts the sandbox clock back on the wall clock and notes the move for the timeline.
pub async fn reset_clock(state: &AppState) -> Result<(), String> {
    let offset = clock_to_wall(state).await?;
    // Back on the wall clock, the data is as loaded again (docs/data.md#data-that-changes), in
    // every plan.
    for plan in state.plans() {
        plan.member_data().changes().forget_made();
    }
    state
        .tools
        .clock_moved(state.clock.now(), offset.saturating_neg(), true);
    Ok(())
}

/// Reset (docs/sandbox-tools.md#reset): codes, tokens, sign-in attempts, email links, the outbox, faults, the request
/// log and the clock offset (and its moves) go; registered apps stay.
pub async fn reset_all(state: &AppState) -> Result<(), ResetError> {
    // Not `reset_clock`: this move would sit in an empty log, and the moves are forgotten too.
    clock_to_wall(state).await.map_err(ResetError::Clock)?;
    if let Some(database) = &state.database {
        database
            .clear_grants(&state.oauth.grants)
            .await
            .map_err(|e| ResetError::Database(e.to_string()))?;
    }
    sign_ins::reset(state)
        .await
        .map_err(|e| ResetError::Database(e.to_string()))?;
    for plan in state.plans() {
        plan.member_data().changes().forget_made();
        plan.oauth.reset_plan();
        plan.rate_limits.clear();
    }
    state.tools.reset();
    state.oauth.reset_shared().map_err(ResetError::State)
}

/// Why a reset could not finish: the state directory, or hosted mode's database (its shared
/// clock, its codes and tokens, or its sign-ins).
#[derive(Debug)]
pub enum ResetError {
    State(PersistError),
    Clock(String),
    Database(String),
}
