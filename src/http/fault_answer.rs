//! A fired fault's answer, in the error format of the endpoint it hit, built with that
//! endpoint's own error type (docs/sandbox-tools.md#faults): a `FhirError` (the same
//! OperationOutcome, content type and `WWW-Authenticate` as a real FHIR error), an `OAuthError`
//! (RFC 6749 §5.2 JSON), a redirect carrying `error` from the authorize endpoint (RFC 6749
//! §4.1.2.1; an error page when the redirect URI cannot be trusted, exactly as for a real error),
//! or the HTML error page. Every one carries `Retry-After` when the fault has one.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::fhir::FhirError;
use crate::http::oauth::authorize::found;
use crate::http::pages::error_page;
use crate::oauth::authorize::redirect_with;
use crate::oauth::{ErrorCode, OAuthError};
use crate::sandbox::endpoint::ErrorFormat;
use crate::sandbox::faults::Fault;
use crate::state::AppState;

/// The response a fault gives instead of the handler's; `None` for a delay-only fault. `params`:
/// the request's query, or its form body when it has one.
pub fn respond(
    state: &AppState,
    fault: &Fault,
    format: ErrorFormat,
    params: &[u8],
) -> Option<Response> {
    if !fault.answers() {
        return None;
    }
    let description = fault
        .error_description
        .clone()
        .unwrap_or_else(|| format!("injected by the sandbox (fault {})", fault.id));
    let mut response = match format {
        ErrorFormat::OperationOutcome => FhirError::Injected {
            status: status_or(fault.status, StatusCode::INTERNAL_SERVER_ERROR),
            message: description,
        }
        .into_response(),
        ErrorFormat::AuthorizeRedirect => authorize(state, fault, params, &description),
        ErrorFormat::Page => {
            let status = status_or(fault.status, StatusCode::INTERNAL_SERVER_ERROR);
            let title = status.canonical_reason().unwrap_or("Error");
            error_page(status, title, &description, None)
        }
        ErrorFormat::OAuthJson => oauth_json(fault, description),
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
fn authorize(state: &AppState, fault: &Fault, params: &[u8], description: &str) -> Response {
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
