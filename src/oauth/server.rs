//! The authorization server's state in one place: apps, sign-in attempts and email links, codes
//! and tokens, the signing key, and persistence. Handlers call these methods with `now` from the
//! sandbox clock.

use crate::clock::UnixTime;
use serde_json::json;

use super::apps::{App, AppRegistry, NewApp};
use super::authorize::{
    AuthorizeDecision, AuthorizeParams, AuthorizePolicy, AuthorizeRequest, decide,
};
use super::client_assertion::SeenAssertions;
use super::error::{ErrorCode, OAuthError};
use super::keys::{KeyRing, SigningKey};
use super::login::{Account, Logins};
use super::persist::{PersistError, PersistedState, Persister};
use super::token_store::{CodeGrant, Grants};
use crate::data::{Member, Representative};
use crate::ids::{ClientId, PatientId};

/// Who signed in, as the id_token and userinfo name them: the member, or a personal
/// representative acting for the member (docs/oauth.md#personal-representatives).
#[derive(Debug, Clone, Copy)]
pub struct User<'a> {
    pub patient_id: &'a PatientId,
    pub representative: Option<&'a str>,
}

impl User<'_> {
    /// `sub`: the Patient id, or the representative's RelatedPerson id.
    pub fn subject(&self) -> &str {
        self.representative.unwrap_or(self.patient_id)
    }

    /// The relative reference of the user's resource.
    pub fn reference(&self) -> String {
        match self.representative {
            Some(id) => format!("RelatedPerson/{id}"),
            None => format!("Patient/{}", self.patient_id),
        }
    }
}

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
    /// `jti`s of client assertions already used (docs/apps.md#asymmetric-client-authentication).
    pub assertions: SeenAssertions,
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
        let mut representatives = restored.representatives;
        logins.restore_links(restored.email_links.into_iter().map(|(email, member_id)| {
            let representative = representatives.remove(&email);
            (
                email,
                Account {
                    member_id,
                    representative,
                },
            )
        }));
        Self {
            config,
            apps,
            grants: Grants::default(),
            logins,
            keys: KeyRing::new(keys),
            assertions: SeenAssertions::default(),
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

    /// The code the member's approval (or headless authorize) produces; `representative` is the
    /// RelatedPerson who approved for a minor member (docs/oauth.md#personal-representatives).
    pub fn issue_code(
        &self,
        request: &AuthorizeRequest,
        member: &Member,
        representative: Option<&Representative>,
        authenticated_at: UnixTime,
        now: UnixTime,
    ) -> String {
        self.grants.issue_code(
            CodeGrant {
                client_id: request.client_id.as_str().into(),
                redirect_uri: request
                    .redirect_uri_sent
                    .then(|| request.redirect_uri.clone()),
                code_challenge: request.code_challenge.clone(),
                patient_id: member.patient_id.clone(),
                member_id: member.member_id.clone(),
                representative: representative.map(|r| r.related_person_id.clone()),
                scopes: request.scopes.clone(),
                nonce: request.nonce.clone(),
                auth_time: authenticated_at,
                expires_at: now.plus(self.config.code_ttl),
            },
            now,
        )
    }

    pub fn save(&self) -> Result<(), PersistError> {
        self.persister.save(|| {
            let links = self.logins.email_links();
            PersistedState {
                apps: self.apps.registered(),
                representatives: links
                    .iter()
                    .filter_map(|(email, a)| Some((email.clone(), a.representative.clone()?)))
                    .collect(),
                email_links: links
                    .into_iter()
                    .map(|(email, account)| (email, account.member_id))
                    .collect(),
            }
        })
    }

    /// Reset (docs/sandbox-tools.md#reset): codes, tokens, attempts, outbox and email links go; apps stay.
    pub fn reset(&self) -> Result<(), PersistError> {
        self.grants.clear();
        self.logins.clear();
        self.keys.reset();
        self.assertions.clear();
        self.save()
    }

    pub fn jwks(&self) -> serde_json::Value {
        self.keys.jwks()
    }

    /// The signed-in user's FHIR resource (SMART's `fhirUser`): the member's Patient, or the
    /// RelatedPerson of a personal representative.
    pub fn fhir_user(&self, user: &User<'_>) -> String {
        format!("{}/{}", self.config.fhir_base, user.reference())
    }

    /// `auth_time` is when the user authenticated (OpenID Connect Core §2), carried from the
    /// sign-in through the code and every refresh, never the time of this token response.
    pub fn id_token_claims(
        &self,
        client_id: &ClientId,
        user: &User<'_>,
        auth_time: UnixTime,
        nonce: Option<&str>,
        now: UnixTime,
    ) -> serde_json::Value {
        let mut claims = json!({
            "iss": self.config.issuer,
            "sub": user.subject(),
            "aud": client_id,
            "iat": now,
            "exp": now.plus(self.config.access_token_ttl),
            "auth_time": auth_time,
            "fhirUser": self.fhir_user(user),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        claims
    }
}
