//! The FHIR API's one error type and its one mapping to a response (docs/fhir-api.md, docs/access.md#scope-enforcement): always an
//! OperationOutcome with an R4 issue code, and the RFC 6750 challenge on 401 and 403.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::fhir::AccessError;
use crate::fhir::outcome::{Severity, operation_outcome};
use crate::http::bearer::BearerProblem;

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
        let (status, code, message) = match &self {
            Self::Unauthorized(BearerProblem::Missing) => (
                StatusCode::UNAUTHORIZED,
                "login",
                "an Authorization: Bearer access token is required".to_owned(),
            ),
            Self::Unauthorized(BearerProblem::Invalid) => (
                StatusCode::UNAUTHORIZED,
                "login",
                "the access token is unknown, expired or revoked".to_owned(),
            ),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone()),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, "not-found", m.clone()),
            Self::Invalid(m) => (StatusCode::BAD_REQUEST, "invalid", m.clone()),
            Self::NotAllowed(m) => (StatusCode::METHOD_NOT_ALLOWED, "not-supported", m.clone()),
            Self::NotAcceptable(m) => (StatusCode::NOT_ACCEPTABLE, "not-supported", m.clone()),
        };
        let outcome = operation_outcome(Severity::Error, code, &[message]);
        let mut response = reply::json(status, outcome.to_string().into_bytes().into());
        let headers = response.headers_mut();
        match self {
            Self::Unauthorized(problem) => {
                // docs/fhir-api.md#errors asks for error="invalid_token" on every FHIR 401, a missing token
                // included (clients key their re-authorization on it).
                let challenge = match problem {
                    BearerProblem::Missing => {
                        "Bearer realm=\"payer-sandbox\", error=\"invalid_token\", error_description=\"an access token is required\""
                    }
                    BearerProblem::Invalid => problem.challenge(),
                };
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                );
            }
            Self::Forbidden(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer realm=\"payer-sandbox\", error=\"insufficient_scope\", error_description=\"the granted scopes do not cover this resource type\"",
                    ),
                );
            }
            Self::NotAllowed(_) => {
                headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            }
            _ => {}
        }
        response
    }
}
