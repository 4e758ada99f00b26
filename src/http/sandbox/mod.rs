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

use crate::db::Unavailable;
use crate::http::developer_accounts;
use crate::http::pages::{error_page, render};
use crate::http::sign_ins::{self, Unavailable as SignInsUnavailable};
use crate::oauth::login::OutboxMessage;
use crate::oauth::persist::PersistError;
use crate::sandbox::clock_moves::ClockMove;
use crate::sandbox::faults::Fault;
use crate::sandbox::request_log::LoggedRequest;
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
pub async fn emails(state: &AppState) -> Result<Vec<Email>, SignInsUnavailable> {
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
    emails.extend(
        developer_accounts::outbox(state)
            .await?
            .into_iter()
            .map(|m| Email {
                to: m.to,
                code: m.code,
                sent_at: m.sent_at,
                plan: "developer account".to_owned(),
            }),
    );
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
    note_clock_move(state, after.saturating_sub(before), false).await;
    Ok(())
}

/// Notes a move of the clock for the timeline, after the newest logged request. Hosted mode: on
/// every replica's timeline, after every replica's requests answered before the move
/// (docs/hosted.md#the-request-log). The move itself has happened: a database that does not
/// answer only loses or misplaces the note (a warning in the log).
async fn note_clock_move(state: &AppState, seconds: i64, to_wall_clock: bool) {
    let Some(database) = &state.database else {
        state
            .tools
            .clock_moved(state.clock.now(), seconds, to_wall_clock);
        return;
    };
    let after_seq = match database.settle_request_log(&state.tools.requests).await {
        Ok(newest) => newest,
        Err(e) => {
            tracing::warn!("numbering the request log before noting a clock move: {e}");
            state.tools.requests.last_seq()
        }
    };
    let moved = ClockMove::new(after_seq, state.clock.now(), seconds, to_wall_clock);
    if let Err(e) = database.note_clock_move(&moved).await {
        tracing::warn!("noting a clock move for the timeline: {e}");
    }
}

/// The clock's moves, oldest first: this server's, or in hosted mode every replica's.
pub async fn clock_moves(state: &AppState) -> Result<Vec<ClockMove>, Unavailable> {
    match &state.database {
        Some(database) => database.clock_moves().await,
        None => Ok(state.tools.clock_moves.all()),
    }
}

/// The request log, oldest first: this server's, or in hosted mode every replica's
/// (docs/hosted.md#the-request-log).
pub async fn logged_requests(state: &AppState) -> Result<Vec<LoggedRequest>, Unavailable> {
    match &state.database {
        Some(database) => database.read_request_log(&state.tools.requests).await,
        None => Ok(state.tools.requests.entries()),
    }
}

/// Empties the request log (every replica's in hosted mode): how many requests went.
pub async fn clear_logged_requests(state: &AppState) -> Result<usize, Unavailable> {
    match &state.database {
        Some(database) => database.clear_request_log(&state.tools.requests).await,
        None => Ok(state.tools.requests.clear()),
    }
}

/// The active faults, oldest first (every replica's in hosted mode, docs/hosted.md#faults).
pub async fn active_faults(state: &AppState) -> Result<Vec<Fault>, Unavailable> {
    match &state.database {
        Some(database) => database.list_faults().await,
        None => Ok(state.tools.faults.active()),
    }
}

/// Removes every fault (on every replica in hosted mode): how many there were.
pub async fn clear_faults(state: &AppState) -> Result<usize, Unavailable> {
    match &state.database {
        Some(database) => database.clear_faults(&state.tools.faults).await,
        None => Ok(state.tools.faults.clear()),
    }
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
    // every plan, on every replica in hosted mode (docs/hosted.md#data-changes); there, the rate
    // limit's counts of the seconds the clock went back from go too (docs/hosted.md#rate-limits).
    match &state.database {
        Some(database) => {
            database
                .forget_changes(&state.plan_data())
                .await
                .map_err(|e| format!("forgetting the data changes: {e}"))?;
            database
                .forget_rate_counts_after(state.clock.now().unix_timestamp())
                .await
                .map_err(|e| format!("forgetting rate-limit counts: {e}"))?;
        }
        None => {
            for plan in state.plans() {
                plan.member_data().changes().forget_made();
            }
        }
    }
    note_clock_move(state, offset.saturating_neg(), true).await;
    Ok(())
}

/// Reset (docs/sandbox-tools.md#reset): codes, tokens, sign-in attempts, email links, the outbox, faults, the request
/// log and the clock offset (and its moves) go, and the signing keys go back to the first; registered apps stay.
pub async fn reset_all(state: &AppState) -> Result<(), ResetError> {
    // Not `reset_clock`: this move would sit in an empty log, and the moves are forgotten too.
    clock_to_wall(state).await.map_err(ResetError::Clock)?;
    // Hosted mode: the codes, tokens, faults, the log and the signing keys are every replica's
    // (docs/hosted.md).
    if let Some(database) = &state.database {
        database
            .clear_grants(&state.oauth.grants)
            .await
            .map_err(|e| ResetError::Database(e.into()))?;
        clear_faults(state).await.map_err(ResetError::Database)?;
        clear_logged_requests(state)
            .await
            .map_err(ResetError::Database)?;
        database
            .clear_clock_moves()
            .await
            .map_err(ResetError::Database)?;
        database
            .forget_changes(&state.plan_data())
            .await
            .map_err(|e| ResetError::Database(e.into()))?;
        database
            .clear_rate_counts()
            .await
            .map_err(|e| ResetError::Database(e.into()))?;
        database
            .reset_keys(&state.key_rings())
            .await
            .map_err(ResetError::Database)?;
    }
    sign_ins::reset(state).await.map_err(ResetError::SignIns)?;
    developer_accounts::reset(state)
        .await
        .map_err(ResetError::DeveloperAccounts)?;
    for plan in state.plans() {
        if state.database.is_none() {
            plan.member_data().changes().forget_made();
            plan.oauth.keys.reset();
        }
        plan.oauth.reset_plan();
        plan.rate_limits.clear();
    }
    state.tools.reset();
    state.oauth.reset_shared().map_err(ResetError::State)
}

/// Why a reset could not finish: the state directory, or hosted mode's database (its shared
/// clock, codes and tokens, faults, request log, data changes, rate counts, signing keys,
/// sign-ins, or developer accounts).
#[derive(Debug)]
pub enum ResetError {
    State(PersistError),
    Clock(String),
    Database(Unavailable),
    SignIns(SignInsUnavailable),
    DeveloperAccounts(SignInsUnavailable),
}
