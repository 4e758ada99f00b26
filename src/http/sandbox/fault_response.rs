//! A fired fault's answer, in the format of the path it hit: an OperationOutcome under the FHIR
//! base, RFC 6749 §5.2 JSON from the OAuth endpoints and discovery, a redirect carrying `error`
//! from the authorize endpoint (RFC 6749 §4.1.2.1; an error page when the redirect URI cannot be
//! trusted, exactly as for a real error), and an HTML error page from the other pages. Every one
//! carries `Retry-After` when the fault has one.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::bearer::BearerProblem;
use crate::http::oauth::authorize::found;
use crate::http::pages::error_page;
use crate::http::routes;
use crate::oauth::authorize::redirect_with;
use crate::oauth::{ErrorCode, OAuthError};
use crate::sandbox::faults::{Fault, Target};
use crate::state::AppState;

/// The response a fault gives instead of the handler's; `None` for a delay-only fault.
pub fn respond(
    state: &AppState,
    fault: &Fault,
    path: &str,
    query: &str,
    form: Option<&[u8]>,
) -> Option<Response> {
    if !fault.answers() {
        return None;
    }
    let description = fault
        .error_description
        .clone()
        .unwrap_or_else(|| format!("injected by the sandbox (fault {})", fault.id));
    let mut response = if Target::Fhir.matches(path) && !Target::Discovery.matches(path) {
        operation_outcome(fault.status.unwrap_or(500), &description)
    } else if Target::Authorize.matches(path) {
        authorize(state, fault, query, form, &description)
    } else if is_page(path) {
        let status = status_or(fault.status, StatusCode::INTERNAL_SERVER_ERROR);
        let title = status.canonical_reason().unwrap_or("Error");
        error_page(status, title, &description, None)
    } else {
        oauth_json(fault, description)
    };
    if let Some(seconds) = fault.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Some(response)
}

fn status_or(status: Option<u16>, default: StatusCode) -> StatusCode {
    status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(default)
}

fn is_page(path: &str) -> bool {
    path == routes::HOME
        || path == routes::PORTAL
        || path == routes::PORTAL_APPS
        || path.starts_with("/oauth2/login/")
}

/// FHIR R4 issue type for an HTTP status (http://hl7.org/fhir/issue-type).
fn issue_code(status: u16) -> &'static str {
    match status {
        401 => "login",
        403 => "forbidden",
        404 => "not-found",
        405 | 415 | 501 => "not-supported",
        408 | 504 => "timeout",
        409 | 412 => "conflict",
        410 => "deleted",
        413 => "too-long",
        422 => "processing",
        429 => "throttled",
        502 | 503 => "transient",
        400..=499 => "invalid",
        _ => "exception",
    }
}

fn operation_outcome(status: u16, description: &str) -> Response {
    let code = status_or(Some(status), StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": issue_code(status), "diagnostics": description}],
    });
    let mut response = (code, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json"),
    );
    let challenge = match status {
        401 => Some(BearerProblem::Invalid.challenge()),
        403 => Some("Bearer realm=\"payer-sandbox\", error=\"insufficient_scope\""),
        _ => None,
    };
    if let Some(challenge) = challenge {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    response
}

fn oauth_json(fault: &Fault, description: String) -> Response {
    let code = fault.error_code().unwrap_or(match fault.status {
        Some(401) => ErrorCode::InvalidClient,
        Some(429 | 503) => ErrorCode::TemporarilyUnavailable,
        Some(500..=599) => ErrorCode::ServerError,
        _ => ErrorCode::InvalidRequest,
    });
    let mut response = OAuthError::new(code, description).into_response();
    if let Some(status) = fault.status.and_then(|s| StatusCode::from_u16(s).ok()) {
        *response.status_mut() = status;
    }
    response
}

/// `error` goes back to the app's redirect URI when the request names a registered one; a
/// `status` (or an untrusted redirect URI) shows the error page instead.
fn authorize(
    state: &AppState,
    fault: &Fault,
    query: &str,
    form: Option<&[u8]>,
    description: &str,
) -> Response {
    let params = form.unwrap_or(query.as_bytes());
    let param = |name: &str| {
        url::form_urlencoded::parse(params)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let (Some(error), None) = (fault.error.as_deref(), fault.status) {
        let app = param("client_id").and_then(|c| state.oauth.apps.get(&c));
        let redirect = app.as_ref().and_then(|app| match param("redirect_uri") {
            Some(uri) => app.accepts_redirect(&uri).then_some(uri),
            None if app.builtin || app.redirect_uris.len() == 1 => {
                app.default_redirect().map(str::to_owned)
            }
            None => None,
        });
        if let Some(redirect) = redirect {
            let mut pairs = vec![("error", error), ("error_description", description)];
            let app_state = param("state");
            if let Some(s) = app_state.as_deref() {
                pairs.push(("state", s));
            }
            return found(&redirect_with(&redirect, &pairs));
        }
    }
    let status = status_or(fault.status, StatusCode::BAD_REQUEST);
    let title = fault
        .error
        .clone()
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
    error_page(status, &title, description, None)
}
