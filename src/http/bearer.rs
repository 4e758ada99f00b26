//! Who is calling: the bearer token of RFC 6750 §2.1 looked up in the grant store. Each API maps
//! the problem to its own error format (FHIR OperationOutcome, OAuth JSON).

use std::sync::Arc;

use axum::http::{HeaderMap, header};

use crate::oauth::grants::AccessGrant;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerProblem {
    /// No `Authorization: Bearer` header.
    Missing,
    /// A token that is unknown, expired or revoked.
    Invalid,
}

impl BearerProblem {
    /// RFC 6750 §3 challenge.
    pub fn challenge(self) -> &'static str {
        match self {
            Self::Missing => "Bearer realm=\"payer-sandbox\"",
            Self::Invalid => {
                "Bearer realm=\"payer-sandbox\", error=\"invalid_token\", error_description=\"the access token is unknown, expired or revoked\""
            }
        }
    }
}

pub fn token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

pub fn grant(state: &AppState, headers: &HeaderMap) -> Result<Arc<AccessGrant>, BearerProblem> {
    let token = token(headers).ok_or(BearerProblem::Missing)?;
    state
        .oauth
        .grants
        .access(token, state.now())
        .ok_or(BearerProblem::Invalid)
}
