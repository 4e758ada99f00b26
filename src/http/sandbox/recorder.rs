//! The layer in front of every route (SPEC §7): it works out which client a request comes from,
//! fires a matching injected fault (a delay, or an answer in the path's own error format), notes
//! the `next` links that FHIR searchsets hand out, and appends the request to the request log.
//! The sandbox's own tools (`/sandbox/**`), `/healthz` and the stylesheet are the test harness,
//! not the client: they pass straight through, never faulted nor logged. CORS preflights are
//! logged but never faulted, so that a browser app sees the fault on its real request.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::fault_response;
use crate::http::{MAX_BODY_BYTES, bearer, routes};
use crate::oauth::grant::parse_basic;
use crate::sandbox::faults::{RequestFacts, Target};
use crate::sandbox::interaction::{Interaction, classify};
use crate::sandbox::request_log::{Entry, redact_query};
use crate::state::AppState;

/// Largest FHIR response read for `next` links; bigger ones pass untouched.
const MAX_INSPECTED_BYTES: u64 = 16 * 1024 * 1024;

fn is_harness(path: &str) -> bool {
    path == "/sandbox"
        || path.starts_with("/sandbox/")
        || path == routes::HEALTHZ
        || path.starts_with("/static/")
}

pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if is_harness(&path) {
        return next.run(request).await;
    }
    let started = Instant::now();
    let now = state.clock.now();
    let method = request.method().clone();
    let query = request.uri().query().unwrap_or("").to_owned();
    let (request, form) = match buffer_form(request).await {
        Ok(buffered) => buffered,
        Err(response) => return response,
    };
    let caller = identify(&state, request.headers(), &path, &query, form.as_deref());
    let fault = (method != Method::OPTIONS)
        .then(|| {
            state.tools.faults.fire(&RequestFacts {
                method: method.as_str(),
                path: &path,
                client_id: caller.client_id.as_deref(),
            })
        })
        .flatten();
    let followed_next = method == Method::GET
        && Target::Fhir.matches(&path)
        && state.tools.requests.is_next_link(&path, &query);

    let mut response = None;
    if let Some(fault) = &fault {
        if let Some(ms) = fault.delay_ms {
            // Latency, not time: the sandbox clock is for expiry and is not moved by this.
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        response = fault_response::respond(&state, fault, &path, &query, form.as_deref());
    }
    let response = match response {
        Some(r) => r,
        None => next.run(request).await,
    };
    let (response, offered_next) = if Target::Fhir.matches(&path) {
        note_next_links(&state, response).await
    } else {
        (response, false)
    };

    let mut logged_query = redact_query(&path, &query);
    if let (Some(Interaction::Search(_)), Some(form)) =
        (classify(method.as_str(), &path), form.as_deref())
    {
        let body = redact_query(&path, &String::from_utf8_lossy(form));
        logged_query = [logged_query, body]
            .into_iter()
            .filter(|q| !q.is_empty())
            .collect::<Vec<_>>()
            .join("&");
    }
    let time = now
        .replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(now);
    state.tools.requests.record(Entry {
        seq: 0,
        time: time
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        at_ms: i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
        method: method.to_string(),
        path,
        query: logged_query,
        client_id: caller.client_id,
        status: response.status().as_u16(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        grant_type: caller.grant_type,
        retry_after: response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok()),
        fault: fault.map(|f| f.id),
        followed_next,
        offered_next,
    });
    response
}

/// Reads a form body so that its `client_id` and `grant_type` can be seen, then puts it back
/// for the handler. Other bodies are left alone.
async fn buffer_form(request: Request) -> Result<(Request, Option<Bytes>), Response> {
    let is_form = request.method() == Method::POST
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
    if !is_form {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response())?;
    Ok((
        Request::from_parts(parts, Body::from(bytes.clone())),
        Some(bytes),
    ))
}

#[derive(Debug, Default)]
struct Caller {
    client_id: Option<String>,
    grant_type: Option<String>,
}

fn param(input: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(input)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// The client: HTTP Basic, else the bearer token's grant, else `client_id` in the form or the
/// query, else the sign-in attempt the page belongs to.
fn identify(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    query: &str,
    form: Option<&[u8]>,
) -> Caller {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_basic(v).ok())
        .map(|(id, _)| id);
    let from_bearer = || {
        let token = bearer::token(headers)?;
        let log = &state.tools.requests;
        match state.oauth.grants.client_of(token) {
            Some(client) => {
                log.remember_bearer(token, &client);
                Some(client)
            }
            None => log.bearer_client(token),
        }
    };
    let from_form = || form.and_then(|f| param(f, "client_id"));
    let from_query = || {
        (!Target::Fhir.matches(path))
            .then(|| param(query.as_bytes(), "client_id"))
            .flatten()
    };
    let from_attempt = || {
        let attempt = path.strip_prefix("/oauth2/login/")?.split('/').next()?;
        state.oauth.logins.attempt_client(attempt)
    };
    let client_id = basic
        .or_else(from_bearer)
        .or_else(from_form)
        .or_else(from_query)
        .or_else(from_attempt);
    let grant_type = (path == routes::TOKEN)
        .then(|| form.and_then(|f| param(f, "grant_type")))
        .flatten();
    Caller {
        client_id,
        grant_type,
    }
}

#[derive(Debug, Deserialize)]
struct BundleLinks {
    #[serde(rename = "resourceType")]
    resource_type: Option<String>,
    #[serde(default)]
    link: Vec<Link>,
}

#[derive(Debug, Deserialize)]
struct Link {
    relation: Option<String>,
    url: Option<String>,
}

/// The `next` links of a Bundle body, as paths with queries on this server.
pub fn next_links(body: &[u8], public_url: &str) -> Vec<(String, String)> {
    let Ok(bundle) = serde_json::from_slice::<BundleLinks>(body) else {
        return Vec::new();
    };
    if bundle.resource_type.as_deref() != Some("Bundle") {
        return Vec::new();
    }
    bundle
        .link
        .into_iter()
        .filter(|l| l.relation.as_deref() == Some("next"))
        .filter_map(|l| l.url)
        .filter_map(|url| {
            let local = url
                .strip_prefix(public_url)
                .map(str::to_owned)
                .or_else(|| url.starts_with('/').then(|| url.clone()))?;
            let (path, query) = local.split_once('?').unwrap_or((&local, ""));
            Some((path.to_owned(), query.to_owned()))
        })
        .collect()
}

/// Reads a successful JSON FHIR response of known size for `next` links and remembers them.
async fn note_next_links(state: &AppState, response: Response) -> (Response, bool) {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let size = axum::body::HttpBody::size_hint(response.body()).exact();
    if response.status() != StatusCode::OK
        || !is_json
        || size.is_none_or(|s| s > MAX_INSPECTED_BYTES)
    {
        return (response, false);
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!("reading a FHIR response for the request log failed: {e}");
            return (StatusCode::INTERNAL_SERVER_ERROR.into_response(), false);
        }
    };
    let links = next_links(&bytes, &state.public_url);
    for (path, query) in &links {
        state.tools.requests.remember_next_link(path, query);
    }
    (
        Response::from_parts(parts, Body::from(bytes)),
        !links.is_empty(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_links_of_bundles_only() {
        let bundle = br#"{"resourceType":"Bundle","link":[
            {"relation":"self","url":"http://h:1/r4/ExplanationOfBenefit?patient=1"},
            {"relation":"next","url":"http://h:1/r4/ExplanationOfBenefit?patient=1&_page=2"}]}"#;
        assert_eq!(
            next_links(bundle, "http://h:1"),
            vec![(
                "/r4/ExplanationOfBenefit".to_owned(),
                "patient=1&_page=2".to_owned()
            )]
        );
        assert!(next_links(br#"{"resourceType":"Patient","link":[]}"#, "http://h:1").is_empty());
        assert!(next_links(b"not json", "http://h:1").is_empty());
        assert!(
            next_links(
                br#"{"resourceType":"Bundle","link":[{"relation":"next","url":"http://elsewhere/r4/X?a=1"}]}"#,
                "http://h:1"
            )
            .is_empty()
        );
    }
}
