//! `GET /r4/metadata` (docs/fhir-api.md#capability-statement): the CapabilityStatement, without a token. Its `oauth-uris`
//! extension takes the same URLs as the SMART discovery document. It never changes while the
//! server runs, so it is rendered once, on first request, and served as bytes after that.

use axum::extract::State;
use axum::response::Response;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::fhir::capability::{SecurityUris, capability_statement};
use crate::fhir::search::SearchRules;
use crate::http::oauth::discovery::oauth_uris;
use crate::http::request_context::RequestContext;
use crate::state::AppState;

use super::negotiate::JsonOnly;
use super::reply;

pub async fn metadata(
    State(state): State<AppState>,
    context: RequestContext,
    _json: JsonOnly,
) -> Response {
    let bytes = state
        .capability
        .get_or_init(|| render(&state, context.now))
        .clone();
    reply::ok(bytes)
}

/// Dated the day the server first served it: the day this instance's capabilities were published.
fn render(state: &AppState, now: OffsetDateTime) -> axum::body::Bytes {
    let uris = oauth_uris(state);
    let date = now
        .format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default();
    let statement = capability_statement(
        state.fhir_base(),
        &date,
        &SecurityUris {
            authorize: &uris.authorize,
            token: &uris.token,
            register: &uris.register,
            introspect: &uris.introspect,
            revoke: &uris.revoke,
        },
    );
    let mut statement = statement;
    only_followed_includes(&mut statement, state.search_rules());
    statement.to_string().into_bytes().into()
}

/// A plan that follows fewer includes (docs/plans.md#behaviour-profiles) lists only those.
fn only_followed_includes(statement: &mut serde_json::Value, rules: &SearchRules) {
    let Some(resources) = statement["rest"][0]["resource"].as_array_mut() else {
        return;
    };
    for resource in resources {
        for (key, rev) in [("searchInclude", false), ("searchRevInclude", true)] {
            if let Some(list) = resource.get_mut(key).and_then(|v| v.as_array_mut()) {
                list.retain(|item| item.as_str().is_some_and(|i| rules.follows(rev, i)));
                if list.is_empty() {
                    if let Some(object) = resource.as_object_mut() {
                        object.remove(key);
                    }
                }
            }
        }
    }
}
