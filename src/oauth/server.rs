//! The authorization server's state in one place: apps, sign-in attempts and email links, codes
//! and tokens, the signing key, and persistence. Handlers call these methods with `now` from the
//! sandbox clock.

use crate::clock::UnixTime;
use serde_json::json;

use super::apps::{App, AppChangeError, AppEdit, AppRegistry, NewApp};
use super::authorize::{
    AuthorizeDecision, AuthorizeParams, AuthorizePolicy, AuthorizeRequest, decide,
};
use super::client_assertion::SeenAssertions;
use super::error::{ErrorCode, OAuthError};
use super::keys::{KeyRing, SigningKey};
use super::login::{Account, Logins, OutboxMessage};
use super::persist::{PersistError, PersistedState, Persister, PlanLinks, Section};
use super::token_store::{CodeGrant, Grants};
use crate::data::{Member, Representative};
use crate::ids::{ClientId, DeveloperId, PatientId, PlanId};
use crate::plans::{DEFAULT_PLAN, Profile};
use std::sync::{Arc, OnceLock};

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
    /// The plan whose codes and tokens this server issues (docs/plans.md).
    pub plan: PlanId,
    /// The plan's issuer, without a trailing slash: `iss` of id_tokens.
    pub issuer: String,
    /// The plan's FHIR base: what `aud` must name.
    pub fhir_base: String,
    pub code_ttl: i64,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: i64,
    pub default_scope: String,
    pub strict: bool,
    /// The plan's behaviour profile (docs/plans.md#behaviour-profiles).
    pub profile: Profile,
}

/// What every plan's authorization server shares: one app registry, one token endpoint (so one
/// store of codes and tokens, each bound to its plan), and one state directory. Each plan keeps
/// its own member accounts (`Logins`), listed here so that one save writes them all.
pub struct OAuthShared {
    pub apps: Arc<AppRegistry>,
    pub grants: Arc<Grants>,
    pub assertions: Arc<SeenAssertions>,
    persister: Persister,
    logins: Vec<(PlanId, Arc<Logins>)>,
    /// Developer accounts' section of the saved state, once their store is attached.
    developers: OnceLock<Arc<dyn Section>>,
    /// The section as the state directory had it: written back unchanged while no store is
    /// attached, so that starting once without `--developer-accounts` loses no account.
    saved_developers: serde_json::Value,
}

impl OAuthShared {
    /// `plans` lists every plan, the default first; each gets its accounts back from `restored`.
    pub fn new(
        persister: Persister,
        restored: PersistedState,
        preregistered: Vec<App>,
        plans: &[PlanId],
    ) -> Self {
        let apps = AppRegistry::new();
        for app in restored.apps.into_iter().chain(preregistered) {
            apps.insert(app);
        }
        let mut default_links = Some(PlanLinks {
            email_links: restored.email_links,
            representatives: restored.representatives,
        });
        let mut others = restored.plans;
        let saved_developers = restored.developers;
        let logins = plans
            .iter()
            .map(|plan| {
                let prefix = if plan == DEFAULT_PLAN {
                    String::new()
                } else {
                    format!("{plan}.")
                };
                let logins = Logins::with_attempt_prefix(prefix);
                let links = if plan == DEFAULT_PLAN {
                    default_links.take()
                } else {
                    others.remove(plan.as_str())
                };
                if let Some(mut links) = links {
                    logins.restore_links(links.email_links.into_iter().map(
                        |(email, member_id)| {
                            let representative = links.representatives.remove(&email);
                            (
                                email,
                                Account {
                                    member_id,
                                    representative,
                                },
                            )
                        },
                    ));
                }
                (plan.clone(), Arc::new(logins))
            })
            .collect();
        Self {
            apps: Arc::new(apps),
            grants: Arc::default(),
            assertions: Arc::default(),
            persister,
            logins,
            developers: OnceLock::new(),
            saved_developers,
        }
    }

    /// The developer accounts the state directory had (docs/developer-accounts.md#persistence).
    pub fn saved_developers(&self) -> &serde_json::Value {
        &self.saved_developers
    }

    /// From now on every save writes the developer accounts `section` holds.
    pub fn keep_developers(&self, section: Arc<dyn Section>) {
        let _ = self.developers.set(section);
    }

    /// A plan's member accounts.
    pub fn logins(&self, plan: &PlanId) -> Arc<Logins> {
        self.logins
            .iter()
            .find(|(id, _)| id == plan)
            .map(|(_, logins)| logins.clone())
            .unwrap_or_default()
    }

    /// Every plan's verification emails, oldest first per plan, the default plan's first.
    pub fn outbox(&self) -> Vec<(PlanId, OutboxMessage)> {
        self.logins
            .iter()
            .flat_map(|(plan, logins)| logins.outbox().into_iter().map(|m| (plan.clone(), m)))
            .collect()
    }

    pub fn save(&self) -> Result<(), PersistError> {
        self.persister.save(|| {
            let mut state = PersistedState {
                apps: self.apps.registered(),
                developers: match self.developers.get() {
                    Some(section) => section.snapshot(),
                    None => self.saved_developers.clone(),
                },
                ..PersistedState::default()
            };
            for (plan, logins) in &self.logins {
                let links = logins.email_links();
                let saved = PlanLinks {
                    representatives: links
                        .iter()
                        .filter_map(|(email, a)| Some((email.clone(), a.representative.clone()?)))
                        .collect(),
                    email_links: links
                        .into_iter()
                        .map(|(email, account)| (email, account.member_id))
                        .collect(),
                };
                if plan == DEFAULT_PLAN {
                    state.email_links = saved.email_links;
                    state.representatives = saved.representatives;
                } else if !saved.email_links.is_empty() {
                    state.plans.insert(plan.to_string(), saved);
                }
            }
            state
        })
    }
}

/// One plan's authorization server. Not `Debug`: it holds the live codes and tokens.
pub struct OAuthServer {
    pub config: OAuthConfig,
    pub apps: Arc<AppRegistry>,
    pub grants: Arc<Grants>,
    pub logins: Arc<Logins>,
    /// The plan's signing keys; `Arc` so that hosted mode's follower can set them
    /// (docs/hosted.md#signing-keys).
    pub keys: Arc<KeyRing>,
    /// `jti`s of client assertions already used (docs/apps.md#asymmetric-client-authentication).
    pub assertions: Arc<SeenAssertions>,
    shared: Arc<OAuthShared>,
}

impl OAuthServer {
    pub fn new(config: OAuthConfig, keys: SigningKey, shared: Arc<OAuthShared>) -> Self {
        Self {
            apps: shared.apps.clone(),
            grants: shared.grants.clone(),
            logins: shared.logins(&config.plan),
            assertions: shared.assertions.clone(),
            keys: Arc::new(KeyRing::new(keys)),
            config,
            shared,
        }
    }

    /// What every plan shares.
    pub fn shared(&self) -> &OAuthShared {
        &self.shared
    }

    pub fn policy(&self) -> AuthorizePolicy<'_> {
        let profile = &self.config.profile;
        AuthorizePolicy {
            strict: self.config.strict,
            fhir_base: &self.config.fhir_base,
            default_scope: &self.config.default_scope,
            require_aud: self.config.strict || profile.require_aud,
            require_pkce: self.config.strict || profile.require_pkce,
            require_launch_patient: profile.require_launch_patient,
            scope_syntax: profile.scopes,
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

    /// The owner renames an app or changes its redirect URIs (docs/developer-accounts.md#apps),
    /// saved before answering: a change that cannot be saved is undone.
    pub fn edit_app(
        &self,
        client_id: &str,
        owner: &DeveloperId,
        edit: AppEdit,
    ) -> Result<App, AppChangeError> {
        let (before, after) = self.apps.edit(client_id, owner, edit, self.config.strict)?;
        self.saved_or_put_back(before)?;
        Ok(after)
    }

    /// The owner rotates an app's client secret
    /// (docs/developer-accounts.md#rotating-a-client-secret): the app with its new secret.
    pub fn rotate_secret(
        &self,
        client_id: &str,
        owner: &DeveloperId,
        now: UnixTime,
    ) -> Result<App, AppChangeError> {
        let (before, after) = self.apps.rotate_secret(client_id, owner, now)?;
        self.saved_or_put_back(before)?;
        Ok(after)
    }

    /// The owner deletes an app (docs/developer-accounts.md#deleting-an-app): once the deletion
    /// is saved, every code and token issued to it stops working.
    pub fn delete_app(&self, client_id: &str, owner: &DeveloperId) -> Result<App, AppChangeError> {
        let app = self.apps.delete(client_id, owner)?;
        self.saved_or_put_back(app.clone())?;
        self.grants.revoke_client(&app.client_id);
        Ok(app)
    }

    /// Saves, or puts `before` back when the save fails (the cause is in the server log).
    fn saved_or_put_back(&self, before: App) -> Result<(), AppChangeError> {
        if self.save().is_err() {
            self.apps.insert(before);
            return Err(AppChangeError::Unsaved);
        }
        Ok(())
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
                plan: self.config.plan.clone(),
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
        self.shared.save()
    }

    /// Reset (docs/sandbox-tools.md#reset) of this plan: its attempts, outbox and email links.
    /// The keys go back to the first with `keys.reset()`, or in hosted mode through the database
    /// (docs/hosted.md#signing-keys); the shared codes and tokens go with `reset_shared`; apps
    /// stay.
    pub fn reset_plan(&self) {
        self.logins.clear();
    }

    /// Reset of what every plan shares: codes, tokens and seen assertions; then one save.
    pub fn reset_shared(&self) -> Result<(), PersistError> {
        self.grants.clear();
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
