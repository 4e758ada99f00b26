//! The authorization server's state in one place: apps, sign-in attempts and email links, codes
//! and tokens, the signing key, and persistence. Handlers call these methods with `now` from the
//! sandbox clock.

use crate::clock::UnixTime;
use serde_json::json;

use super::apps::{App, AppRegistry, NewApp};
use super::authorize::{
    AuthorizeDecision, AuthorizeParams, AuthorizePolicy, AuthorizeRequest, decide,
};
use super::error::{ErrorCode, OAuthError};
use super::keys::{KeyRing, SigningKey};
use super::login::Logins;
use super::persist::{PersistError, PersistedState, Persister};
use super::token_store::{CodeGrant, Grants};
use crate::data::Member;
use crate::ids::{ClientId, PatientId};

#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The public URL, without a trailing slash: `iss` of id_tokens.
    pub issuer: String,
    /// `{issuer}/r4`: what `aud` must name.
    pub fhir_base: String,
    pub code_ttl: i64,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: i64,
    pub default_scope: String,
    pub strict: bool,
}

/// Not `Debug`: it holds the live codes and tokens.
pub struct OAuthServer {
    pub config: OAuthConfig,
    pub apps: AppRegistry,
    pub grants: Grants,
    pub logins: Logins,
    pub keys: KeyRing,
    persister: Persister,
}

impl OAuthServer {
    pub fn new(
        config: OAuthConfig,
        keys: SigningKey,
        persister: Persister,
        restored: PersistedState,
        preregistered: Vec<App>,
    ) -> Self {
        let apps = AppRegistry::new();
        for app in restored.apps.into_iter().chain(preregistered) {
            apps.insert(app);
        }
        let logins = Logins::default();
        logins.restore_links(restored.email_links);
        Self {
            config,
            apps,
            grants: Grants::default(),
            logins,
            keys: KeyRing::new(keys),
            persister,
        }
    }

    pub fn policy(&self) -> AuthorizePolicy<'_> {
        AuthorizePolicy {
            strict: self.config.strict,
            fhir_base: &self.config.fhir_base,
            default_scope: &self.config.default_scope,
        }
    }

    pub fn decide(&self, params: &AuthorizeParams) -> AuthorizeDecision<AuthorizeRequest> {
        let app = params.client_id.as_deref().and_then(|id| self.apps.get(id));
        decide(params, app.as_ref(), &self.policy())
    }

    /// Registers an app and persists it before answering, so an acknowledged app is never lost.
    pub fn register(&self, new: NewApp) -> Result<App, OAuthError> {
        let app = self
            .apps
            .register(new, self.config.strict)
            .map_err(|e| OAuthError::new(ErrorCode::InvalidClientMetadata, e))?;
        if self.save().is_err() {
            // Not acknowledged, so not kept: the app must not exist after an error answer. The
            // cause (a path, an OS error) is in the server log, not in the answer.
            self.apps.remove(&app.client_id);
            return Err(OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "could not save the registration (the server log says why)",
            ));
        }
        Ok(app)
    }

    /// The code the member's approval (or headless authorize) produces.
    pub fn issue_code(&self, request: &AuthorizeRequest, member: &Member, now: UnixTime) -> String {
        self.grants.issue_code(
            CodeGrant {
                client_id: request.client_id.as_str().into(),
                redirect_uri: request
                    .redirect_uri_sent
                    .then(|| request.redirect_uri.clone()),
                code_challenge: request.code_challenge.clone(),
                patient_id: member.patient_id.clone(),
                member_id: member.member_id.clone(),
                scopes: request.scopes.clone(),
                nonce: request.nonce.clone(),
                auth_time: now,
                expires_at: now.plus(self.config.code_ttl),
            },
            now,
        )
    }

    pub fn save(&self) -> Result<(), PersistError> {
        self.persister.save(|| PersistedState {
            apps: self.apps.registered(),
            email_links: self.logins.email_links().into_iter().collect(),
        })
    }

    /// Reset (docs/sandbox-tools.md#reset): codes, tokens, attempts, outbox and email links go; apps stay.
    pub fn reset(&self) -> Result<(), PersistError> {
        self.grants.clear();
        self.logins.clear();
        self.keys.reset();
        self.save()
    }

    pub fn jwks(&self) -> serde_json::Value {
        self.keys.jwks()
    }

    pub fn fhir_user(&self, patient_id: &PatientId) -> String {
        format!("{}/Patient/{patient_id}", self.config.fhir_base)
    }

    pub fn id_token_claims(
        &self,
        client_id: &ClientId,
        patient_id: &PatientId,
        nonce: Option<&str>,
        now: UnixTime,
    ) -> serde_json::Value {
        let mut claims = json!({
            "iss": self.config.issuer,
            "sub": patient_id,
            "aud": client_id,
            "iat": now,
            "exp": now.plus(self.config.access_token_ttl),
            "auth_time": now,
            "fhirUser": self.fhir_user(patient_id),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        claims
    }
}
