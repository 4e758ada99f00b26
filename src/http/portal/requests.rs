//! A developer's view of the request log (docs/developer-accounts.md#requests): the sandbox's
//! request log (docs/sandbox-tools.md#request-log), keeping only the requests that name one of
//! the developer's apps, newest first; or one app's, which is 404 for another's app. Requests
//! of built-in apps, of apps registered without an account and of deleted apps are nobody's.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::account::{self, not_found};
use crate::developers::SignedIn;
use crate::http::pages::render;
use crate::http::request_context::Now;
use crate::http::sandbox::logged_requests;
use crate::sandbox::request_log::LoggedRequest;
use crate::state::AppState;

/// The newest requests a page shows.
const SHOWN: usize = 200;

#[derive(Template)]
#[template(path = "developer_requests.html")]
struct RequestsPage<'a> {
    email: &'a str,
    csrf: &'a str,
    /// The one app shown, if not all of the developer's.
    app_name: Option<String>,
    entries: Vec<Row>,
}

/// One request as the page shows it.
struct Row {
    time: String,
    app: String,
    client_id: String,
    method: String,
    path: String,
    query: String,
    status: u16,
    details: String,
}

impl Row {
    fn of(entry: LoggedRequest, app: &str) -> Row {
        let mut details = Vec::new();
        if let Some(grant_type) = &entry.grant_type {
            details.push(format!("grant_type {grant_type}"));
        }
        if let Some(method) = entry.client_auth {
            details.push(format!("client auth {method}"));
        }
        if let Some(fault) = entry.fault {
            details.push(format!("fault {fault}"));
        }
        if let Some(plan) = &entry.plan {
            details.push(format!("plan {plan}"));
        }
        details.push(format!("{} ms", entry.duration_ms));
        Row {
            time: entry.time,
            app: app.to_owned(),
            client_id: entry.client_id.unwrap_or_default(),
            method: entry.method,
            path: entry.path,
            query: entry.query,
            status: entry.status,
            details: details.join(" · "),
        }
    }
}

/// The log's requests of `apps` (client id → name), newest first: in hosted mode every
/// replica's (docs/hosted.md#the-request-log). `None` when the log cannot be read.
async fn rows(state: &AppState, apps: &HashMap<String, String>) -> Option<Vec<Row>> {
    let mut entries = logged_requests(state).await.ok()?;
    entries.reverse();
    Some(
        entries
            .into_iter()
            .filter_map(|entry| {
                let name = apps.get(entry.client_id.as_deref()?)?.clone();
                Some(Row::of(entry, &name))
            })
            .take(SHOWN)
            .collect(),
    )
}

fn page(signed_in: &SignedIn, app_name: Option<String>, entries: Option<Vec<Row>>) -> Response {
    let Some(entries) = entries else {
        return account::unavailable();
    };
    render(
        StatusCode::OK,
        &RequestsPage {
            email: &signed_in.developer.email,
            csrf: signed_in.session.csrf.expose(),
            app_name,
            entries,
        },
    )
}

/// Every app of the signed-in developer.
pub async fn all(State(state): State<AppState>, Now(now): Now, headers: HeaderMap) -> Response {
    let signed_in = match account::require(&state, &headers, now).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
    let apps = state
        .oauth
        .apps
        .owned_by(&signed_in.developer.id)
        .into_iter()
        .map(|a| (a.client_id.to_string(), a.name))
        .collect();
    page(&signed_in, None, rows(&state, &apps).await)
}

/// One app of the signed-in developer.
pub async fn of_app(
    State(state): State<AppState>,
    Now(now): Now,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let signed_in = match account::require(&state, &headers, now).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
    let Ok(app) = state.oauth.apps.owned(&client_id, &signed_in.developer.id) else {
        return not_found();
    };
    let apps = HashMap::from([(app.client_id.to_string(), app.name.clone())]);
    page(&signed_in, Some(app.name), rows(&state, &apps).await)
}
