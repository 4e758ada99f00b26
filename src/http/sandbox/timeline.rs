//! `/sandbox/timeline[?client_id=…]`: a client's sessions as a timeline, for people
//! (docs/sandbox-tools.md#timeline), with links to the other clients in the log. Without
//! `client_id` it shows the most recently active client. Read-only and never logged: the page
//! is the harness, like `/sandbox`. The picture itself is `sandbox::timeline`'s.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::http::pages::render;
use crate::http::routes;
use crate::sandbox::timeline::{ClientSummary, Row, Timeline, clients, timeline};
use crate::state::AppState;

/// A client in the log and the address of its timeline.
pub struct ClientLink {
    pub client: ClientSummary,
    pub href: String,
    /// Its timeline is the one shown.
    pub current: bool,
}

/// The address of `client_id`'s timeline.
pub fn href(client_id: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .finish();
    format!("{}?{query}", routes::SANDBOX_TIMELINE)
}

/// Every client in the log, the most recently active first, `current` marked.
pub fn links(clients: Vec<ClientSummary>, current: Option<&str>) -> Vec<ClientLink> {
    clients
        .into_iter()
        .map(|client| ClientLink {
            href: href(&client.client_id),
            current: current == Some(client.client_id.as_str()),
            client,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    clients: Vec<ClientLink>,
    timeline: Option<Timeline>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Which {
    client_id: Option<String>,
}

pub async fn page(State(state): State<AppState>, Query(which): Query<Which>) -> Response {
    let read = match super::logged_requests(&state).await {
        Ok(entries) => super::clock_moves(&state)
            .await
            .map(|moves| (entries, moves)),
        Err(e) => Err(e),
    };
    let (entries, moves) = match read {
        Ok(read) => read,
        Err(e) => {
            tracing::error!("the timeline page: {e}");
            return crate::http::pages::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database does not answer",
                "The request log and the clock's moves are in the database, which does not answer; the server log says why.",
                None,
            );
        }
    };
    let summaries = clients(&entries);
    let chosen = which
        .client_id
        .filter(|c| !c.is_empty())
        .or_else(|| summaries.first().map(|c| c.client_id.clone()));
    let shown = chosen.as_deref().map(|c| timeline(&entries, &moves, c));
    render(
        StatusCode::OK,
        &TimelinePage {
            clients: links(summaries, chosen.as_deref()),
            timeline: shown,
        },
    )
}
