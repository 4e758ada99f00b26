//! The access-context extractor (docs/access.md#scope-enforcement): `Authorization: Bearer`
//! proves which member and scopes the caller acts with, or the request is refused with a 401
//! OperationOutcome. The bearer token was looked up once, by the request-context layer; this
//! extractor only reads the result. `open` is the one way a handler reaches member data: it
//! checks type, scope and member in one call (`crate::fhir::MemberData::open`).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::fhir::{Compartment, DataAt, Permission, Site};
use crate::http::caller::BearerProblem;
use crate::http::request_context::RequestContext;
use crate::oauth::token_store::AccessGrant;
use crate::sandbox::rate_limit::RateDecision;
use crate::state::AppState;

use super::error::FhirError;

pub struct FhirAccess {
    grant: Arc<AccessGrant>,
    state: AppState,
    /// The data as it is at the request's one reading of the sandbox clock.
    data: DataAt,
}

impl FromRequestParts<AppState> for FhirAccess {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, FhirError> {
        let Ok(context) = RequestContext::from_request_parts(parts, state).await;
        let grant = context.caller.grant().map_err(|problem| match problem {
            BearerProblem::Unavailable => FhirError::Unavailable,
            problem => FhirError::Unauthorized(problem),
        })?;
        // A token is bound to the plan that issued it: at another plan's FHIR base it is as
        // unknown as a made-up one (docs/plans.md#tokens-are-bound-to-their-plan).
        if grant.plan != state.plan.id {
            return Err(FhirError::Unauthorized(BearerProblem::Invalid));
        }
        if let (Some(limit), Some(tag)) = (state.plan.profile.rate_limit, context.caller.bearer_tag)
        {
            let second = context.now.unix_timestamp();
            if let RateDecision::Limited { retry_after } =
                state.rate_limits.check(tag, second, limit)
            {
                return Err(FhirError::TooManyRequests { retry_after, limit });
            }
        }
        Ok(FhirAccess {
            grant,
            state: state.clone(),
            data: state.member_data().at(context.now),
        })
    }
}

impl FhirAccess {
    /// Where the Bundle's URLs point, and the request's one reading of the clock.
    pub fn site(&self, context: &RequestContext) -> Site<'_> {
        Site {
            base: self.state.fhir_base(),
            now: context.now,
            rules: self.state.search_rules(),
        }
    }

    /// The member's compartment of `resource_type`, if the type is served (else 404) and the
    /// granted scopes cover `interaction` on it (else 403).
    pub fn open(
        &self,
        resource_type: &str,
        interaction: Permission,
    ) -> Result<Compartment<'_>, FhirError> {
        Ok(self
            .data
            .open(self.grant.as_ref(), resource_type, interaction)?)
    }
}
