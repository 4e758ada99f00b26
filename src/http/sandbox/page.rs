//! `/sandbox`: the sandbox at a glance for people (members, apps, outbox, faults, links to each
//! app's timeline, recent requests) with plain-form buttons for the clock, reset and clearing
//! faults or the log. No JavaScript; every form carries an anti-CSRF token. With
//! `--no-control-api` the page only shows, and its actions are not routed.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::data::Member;
use crate::fhir::live::{self, Change};
use crate::http::form;
use crate::http::pages::{OtherPlan, error_page, render};
use crate::http::request_context::{Now, RequestContext};
use crate::http::routes;
use crate::http::sandbox::timeline::{ClientLink, links};
use crate::oauth::apps::App;
use crate::sandbox::faults::Fault;
use crate::sandbox::request_log::LoggedRequest;
use crate::sandbox::timeline::clients;
use crate::state::AppState;

/// The page shows this many of the newest emails and requests; the JSON API has them all.
const SHOWN: usize = 50;

#[derive(Template)]
#[template(path = "sandbox.html")]
struct SandboxPage<'a> {
    notice: Option<&'static str>,
    control: bool,
    csrf: String,
    now: String,
    offset: i64,
    members: &'a [Member],
    apps: Vec<App>,
    emails: Vec<super::Email>,
    others: Vec<OtherPlan>,
    faults: Vec<Fault>,
    requests: Vec<LoggedRequest>,
    /// The apps in the request log, the most recently active first, with their timelines.
    timelines: Vec<ClientLink>,
    logged: usize,
    capacity: usize,
    /// The data's changes: those in force, then the timeline's still to come.
    changes: Vec<ChangeRow>,
}

/// One change of the data, as the page lists it.
struct ChangeRow {
    at: String,
    resource: String,
    note: String,
    /// "version 2", "to come" or "skipped: why".
    state: String,
}

fn change_rows(state: &AppState, now: time::OffsetDateTime) -> Vec<ChangeRow> {
    let data = state.member_data().changes();
    let view = data.at(now);
    let row = |change: &Change, state: String| ChangeRow {
        at: live::instant(change.at),
        resource: format!("{}/{}", change.resource_type, change.id),
        note: change.note.clone(),
        state,
    };
    let mut rows: Vec<ChangeRow> = view
        .applied()
        .iter()
        .map(|a| match &a.outcome {
            Ok(version) => row(&a.change, format!("version {version}")),
            Err(why) => row(&a.change, format!("skipped: {why}")),
        })
        .collect();
    let due = view
        .applied()
        .iter()
        .filter(|a| matches!(a.change.origin, live::Origin::Timeline(_)))
        .count();
    rows.extend(
        data.timeline()
            .iter()
            .skip(due)
            .map(|c| row(c, "to come".to_owned())),
    );
    rows
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "advance" => "The sandbox clock moved.",
        "clock-reset" => "The sandbox clock is back on the wall clock.",
        "reset" => {
            "The sandbox was reset: codes, tokens, email links, the outbox, faults, the request log and the clock offset are gone. Registered apps stay."
        }
        "clear-faults" => "Every injected fault was removed.",
        "clear-requests" => "The request log was emptied.",
        _ => return None,
    })
}

fn newest_first<T>(mut items: Vec<T>) -> Vec<T> {
    items.reverse();
    items.truncate(SHOWN);
    items
}

pub async fn page(
    State(state): State<AppState>,
    context: RequestContext,
    Query(done): Query<Done>,
) -> Response {
    let now = context.now_unix();
    let (requests, faults) = match (
        super::logged_requests(&state).await,
        super::active_faults(&state).await,
    ) {
        (Ok(requests), Ok(faults)) => (requests, faults),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!("the sandbox page: {e}");
            return database_unavailable();
        }
    };
    let Ok(emails) = super::emails(&state).await else {
        return super::outbox_unavailable();
    };
    let logged = requests.len();
    let timelines = links(clients(&requests), None);
    render(
        StatusCode::OK,
        &SandboxPage {
            notice: done.done.as_deref().and_then(notice),
            control: state.control_api,
            csrf: state.csrf.issue(now),
            now: crate::http::form::rfc3339(now),
            offset: state.clock.offset(),
            members: state.members.all(),
            apps: state.oauth.apps.all(),
            emails: newest_first(emails),
            others: OtherPlan::all(&state),
            faults,
            requests: newest_first(requests),
            timelines,
            logged,
            capacity: state.tools.requests.capacity(),
            changes: change_rows(&state, context.now),
        },
    )
}

#[derive(Debug, Default, Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    action: String,
    seconds: Option<String>,
}

/// Hosted mode's shared clock did not move (docs/hosted.md#the-sandbox-clock).
fn clock_unavailable() -> Response {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The clock did not move",
        "The database that holds the sandbox clock does not answer; the server log says why.",
        None,
    )
}

/// Hosted mode's database did not answer (docs/hosted.md).
fn database_unavailable() -> Response {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The database does not answer",
        "The faults and the request log are in the database, which does not answer; the server log says why.",
        None,
    )
}

/// `POST /sandbox/actions`: one form per button, then back to the page (Post/Redirect/Get).
pub async fn action(State(state): State<AppState>, Now(now): Now, body: Bytes) -> Response {
    let f: ActionForm = match form::parse(&body) {
        Ok(f) => f,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Malformed form", &e, None),
    };
    if !state.csrf.check(&f.csrf_token, now) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "The form was not sent from the sandbox page (its security token is missing or wrong). Reload the page and try again.",
            None,
        );
    }
    match f.action.as_str() {
        "advance" => {
            // Only forward, as in the control API: `u64` refuses a negative number.
            let Some(seconds) = f
                .seconds
                .as_deref()
                .and_then(|s| s.trim().parse::<u64>().ok())
            else {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "Not a number of seconds",
                    "Enter a whole number of seconds, zero or more, such as 301 to expire a fresh authorization code. Reset the clock to go back.",
                    None,
                );
            };
            if super::advance_clock(&state, seconds).await.is_err() {
                return clock_unavailable();
            }
        }
        "clock-reset" => {
            if super::reset_clock(&state).await.is_err() {
                return clock_unavailable();
            }
        }
        "reset" => {
            if super::reset_all(&state).await.is_err() {
                return error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Reset failed",
                    "The state directory or the database could not be written; the server log says why.",
                    None,
                );
            }
        }
        "clear-faults" => {
            if let Err(e) = super::clear_faults(&state).await {
                tracing::error!("clearing the faults: {e}");
                return database_unavailable();
            }
        }
        "clear-requests" => {
            if let Err(e) = super::clear_logged_requests(&state).await {
                tracing::error!("clearing the request log: {e}");
                return database_unavailable();
            }
        }
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Unknown action",
                "The sandbox page has no such button.",
                None,
            );
        }
    }
    Redirect::to(&format!("{}?done={}", routes::SANDBOX_PAGE, f.action)).into_response()
}
