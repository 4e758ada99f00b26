//! The access-context extractor (SPEC §6.1): `Authorization: Bearer` proves which member and
//! scopes the caller acts with, or the request is refused with a 401 OperationOutcome. Whether
//! the caller may use a type, or see a resource, is asked explicitly by each handler.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::fhir::Store;
use crate::fhir::access::Viewer;
use crate::http::bearer;
use crate::oauth::grants::AccessGrant;
use crate::oauth::scopes::Interaction;
use crate::state::AppState;

use super::error::FhirError;

pub struct FhirAccess(pub Arc<AccessGrant>);

impl FromRequestParts<AppState> for FhirAccess {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, FhirError> {
        bearer::grant(state, &parts.headers)
            .map(FhirAccess)
            .map_err(FhirError::Unauthorized)
    }
}

impl FhirAccess {
    /// 403 unless the granted scopes cover `interaction` on `resource_type`.
    pub fn require(&self, resource_type: &str, interaction: Interaction) -> Result<(), FhirError> {
        if self.0.scopes.permits(resource_type, interaction) {
            return Ok(());
        }
        let verb = match interaction {
            Interaction::Read => "read",
            Interaction::Search => "search",
        };
        Err(FhirError::Forbidden(format!(
            "the granted scopes ({}) do not allow {verb} of {resource_type}",
            self.0.scopes
        )))
    }

    pub fn viewer<'a>(&'a self, store: &'a Store) -> Viewer<'a> {
        Viewer::new(store, &self.0.patient_id, &self.0.scopes)
    }
}
