//! The FHIR API's one error type and its one mapping to a response (docs/fhir-api.md, docs/access.md#scope-enforcement): always an
//! OperationOutcome with an R4 issue code, and the RFC 6750 challenge on 401 and 403.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::fhir::AccessError;
use crate::fhir::outcome::{Severity, operation_outcome};
use crate::http::caller::BearerProblem;

use super::reply;

#[derive(Debug)]
pub enum FhirError {
    /// 401 `login`: no token, or one that is unknown, expired or revoked.
    Unauthorized(BearerProblem),
    /// 403 `forbidden`: the granted scopes do not cover the type.
    Forbidden(String),
    /// 404 `not-found`: no such resource, or not in the caller's compartment.
    NotFound(String),
    /// 400 `invalid`.
    Invalid(String),
    /// 405 `not-supported`: any write, or a method the path does not serve.
    NotAllowed(String),
    /// 406 `not-supported`: XML (or another non-JSON format) was asked for.
    NotAcceptable(String),
    /// 429 `throttled`: the plan's rate limit (docs/plans.md#behaviour-profiles), with
    /// `Retry-After` in seconds.
    TooManyRequests { retry_after: u64, limit: u32 },
    /// 503 `transient`: hosted mode's database did not answer (docs/hosted.md#when-the-database-is-gone).
    Unavailable,
    /// Any status an injected fault asks for (docs/sandbox-tools.md#faults), with the issue code
    /// and challenge a real error of that status has.
    Injected { status: StatusCode, message: String },
}

/// FHIR R4 issue type for an HTTP status (http://hl7.org/fhir/issue-type).
fn issue_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "login",
        403 => "forbidden",
        404 => "not-found",
        405 | 406 | 415 | 501 => "not-supported",
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

impl From<AccessError> for FhirError {
    fn from(e: AccessError) -> Self {
        let message = e.to_string();
        match e {
            AccessError::UnknownType(_) | AccessError::NotFound(_) => FhirError::NotFound(message),
            AccessError::Forbidden { .. } => FhirError::Forbidden(message),
            AccessError::Invalid(_) => FhirError::Invalid(message),
        }
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            Self::Unauthorized(BearerProblem::Missing) => (
                StatusCode::UNAUTHORIZED,
                "an Authorization: Bearer access token is required".to_owned(),
            ),
            Self::Unauthorized(BearerProblem::Invalid) => (
                StatusCode::UNAUTHORIZED,
                "the access token is unknown, expired or revoked".to_owned(),
            ),
            Self::Unavailable | Self::Unauthorized(BearerProblem::Unavailable) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the sandbox's database did not answer: try again shortly".to_owned(),
            ),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
            Self::Invalid(m) => (StatusCode::BAD_REQUEST, m.clone()),
            Self::NotAllowed(m) => (StatusCode::METHOD_NOT_ALLOWED, m.clone()),
            Self::NotAcceptable(m) => (StatusCode::NOT_ACCEPTABLE, m.clone()),
            Self::TooManyRequests { limit, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "this plan allows {limit} requests per second per access token: retry after the Retry-After header's seconds"
                ),
            ),
            Self::Injected { status, message } => (*status, message.clone()),
        };
        let code = issue_code(status);
        let outcome = operation_outcome(Severity::Error, code, &[message]);
        let mut response = reply::json(status, outcome.to_string().into_bytes().into());
        let headers = response.headers_mut();
        let allow = matches!(self, Self::NotAllowed(_));
        if let Self::TooManyRequests { retry_after, .. } = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        let problem = match self {
            Self::Unauthorized(BearerProblem::Unavailable) => None,
            Self::Unauthorized(problem) => Some(problem),
            Self::Injected { status, .. } if status == StatusCode::UNAUTHORIZED => {
                Some(BearerProblem::Invalid)
            }
            _ => None,
        };
        if let Some(problem) = problem {
            // docs/fhir-api.md#errors asks for error="invalid_token" on every FHIR 401, a
            // missing token included (clients key their re-authorization on it).
            let challenge = match problem {
                BearerProblem::Missing => {
                    "Bearer realm=\"payer-sandbox\", error=\"invalid_token\", error_description=\"an access token is required\""
                }
                BearerProblem::Invalid | BearerProblem::Unavailable => problem.challenge(),
            };
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if status == StatusCode::FORBIDDEN {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"payer-sandbox\", error=\"insufficient_scope\", error_description=\"the granted scopes do not cover this resource type\"",
                ),
            );
        }
        if allow {
            headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        }
        response
    }
}
