//! Authorization codes, access tokens and refresh tokens (docs/oauth.md#codes-and-tokens, RFC 6749 §4.1.2 and
//! §10.5): codes are single-use and bound to client, redirect URI, PKCE challenge, member and
//! scope; a second use revokes every token issued from the code. Every token remembers the code
//! it descends from (its "family") so that replay, member-wide expiry and revocation reach it.

use crate::clock::UnixTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use super::random::hex128;
use super::scopes::GrantedScopes;
use super::server::User;
use crate::ids::{ClientId, MemberId, PatientId, PlanId};

/// The SHA-256 of a code or token, in hex: what a family is named by (so that no record of a
/// family holds a live code), and what hosted mode's database keys codes and tokens by (so that
/// a copy of the database holds no usable credential).
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The family of every token issued from `code` (docs/oauth.md#codes-and-tokens).
pub fn family_of(code: &str) -> String {
    digest(code)
}

/// Sweep expired entries after this many insertions, so that a long soak does not grow memory.
const SWEEP_EVERY: usize = 4096;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    /// The plan whose member signed in: every token from the code is bound to it.
    pub plan: PlanId,
    pub client_id: ClientId,
    /// The `redirect_uri` the authorization request carried, if it carried one (RFC 6749 §4.1.3).
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub patient_id: PatientId,
    pub member_id: MemberId,
    /// The RelatedPerson who signed in for the member, if not the member.
    pub representative: Option<String>,
    pub scopes: GrantedScopes,
    pub nonce: Option<String>,
    pub auth_time: UnixTime,
    pub expires_at: UnixTime,
}

/// What a bearer token proves: which app acts for which member, with what scopes, until when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessGrant {
    /// The plan the token was issued for: another plan's endpoints refuse it (docs/plans.md).
    pub plan: PlanId,
    pub client_id: ClientId,
    pub patient_id: PatientId,
    pub member_id: MemberId,
    /// The RelatedPerson who signed in for the member, if not the member.
    pub representative: Option<String>,
    pub scopes: GrantedScopes,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
    pub family: String,
}

impl AccessGrant {
    /// Who signed in: the member, or their representative.
    pub fn user(&self) -> User<'_> {
        User {
            patient_id: &self.patient_id,
            representative: self.representative.as_deref(),
        }
    }
}

impl RefreshGrant {
    /// Who signed in: the member, or their representative.
    pub fn user(&self) -> User<'_> {
        User {
            patient_id: &self.patient_id,
            representative: self.representative.as_deref(),
        }
    }
}

/// A grant's member and scopes are what the FHIR core's compartment asks of a caller.
impl crate::fhir::AccessRights for AccessGrant {
    fn patient_id(&self) -> &str {
        &self.patient_id
    }

    fn grant(
        &self,
        resource_type: &str,
        interaction: crate::fhir::Permission,
    ) -> crate::fhir::Grant {
        self.scopes.grant_of(resource_type, interaction)
    }

    fn describe(&self) -> String {
        self.scopes.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub plan: PlanId,
    pub client_id: ClientId,
    pub patient_id: PatientId,
    pub member_id: MemberId,
    pub representative: Option<String>,
    /// When the user authenticated: a refreshed id_token keeps it (OpenID Connect Core §12.2).
    pub auth_time: UnixTime,
    pub scopes: GrantedScopes,
    pub nonce: Option<String>,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
    pub family: String,
}

/// How presenting a refresh token at the token endpoint went.
#[derive(Debug)]
pub enum RefreshRedeem {
    Ok(Box<RefreshGrant>),
    /// Unknown, expired or revoked.
    Invalid,
    /// Already rotated away: its family has been revoked.
    Reused,
}

/// How redeeming a code went.
#[derive(Debug)]
pub enum Redeem {
    Ok(Box<CodeGrant>),
    Unknown,
    Expired,
    /// Second use: the tokens issued from it have been revoked.
    Replayed,
}

#[derive(Debug)]
struct CodeEntry {
    grant: CodeGrant,
    used: bool,
}

/// An access token's grant, kept after revocation until it would have expired, so that a request
/// with a revoked token is still attributed to its app (one lookup tells both).
struct AccessEntry {
    grant: Arc<AccessGrant>,
    revoked: bool,
}

/// What a bearer token is, in one lookup.
#[derive(Debug, Clone)]
pub enum TokenLookup {
    /// Live: unexpired and not revoked.
    Live(Arc<AccessGrant>),
    /// Issued to `client_id`, but expired or revoked.
    Dead {
        client_id: ClientId,
    },
    Unknown,
    /// Hosted mode: the database, the only one that could tell, did not answer.
    Unavailable,
}

/// Not `Debug`: its keys are live codes and tokens.
#[derive(Default)]
pub struct Grants {
    codes: Mutex<HashMap<String, CodeEntry>>,
    access: RwLock<HashMap<String, AccessEntry>>,
    refresh: Mutex<HashMap<String, RefreshGrant>>,
    /// Refresh tokens that rotation replaced: their family and when they would have expired.
    /// Presenting one again is reuse, treated as theft (RFC 9700 §4.14.2).
    rotated: Mutex<HashMap<String, (String, UnixTime, PlanId)>>,
    inserts: Mutex<usize>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Grants {
    pub fn issue_code(&self, grant: CodeGrant, now: UnixTime) -> String {
        let code = hex128();
        lock(&self.codes).insert(code.clone(), CodeEntry { grant, used: false });
        self.maybe_sweep(now);
        code
    }

    /// Single use: the first redemption takes the grant; any later one revokes its family.
    /// A used code is kept until it would have expired so that replay is recognised.
    /// The plan a code was issued for (used or not), so the shared token endpoint answers as
    /// that plan.
    pub fn code_plan(&self, code: &str) -> Option<PlanId> {
        lock(&self.codes).get(code).map(|e| e.grant.plan.clone())
    }

    /// The grant of a code issued here (hosted mode stores it for every replica).
    pub fn code_grant(&self, code: &str) -> Option<CodeGrant> {
        lock(&self.codes).get(code).map(|e| e.grant.clone())
    }

    /// The plan a refresh token (live or rotated away) belongs to.
    pub fn refresh_plan(&self, token: &str) -> Option<PlanId> {
        if let Some(grant) = lock(&self.refresh).get(token) {
            return Some(grant.plan.clone());
        }
        lock(&self.rotated)
            .get(token)
            .map(|(_, _, plan)| plan.clone())
    }

    /// The plan an access token (live or not) belongs to.
    pub fn access_plan(&self, token: &str) -> Option<PlanId> {
        self.access
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .map(|e| e.grant.plan.clone())
    }

    pub fn redeem_code(&self, code: &str, now: UnixTime) -> Redeem {
        let mut codes = lock(&self.codes);
        let Some(entry) = codes.get_mut(code) else {
            return Redeem::Unknown;
        };
        if entry.used {
            drop(codes);
            self.revoke_family(&family_of(code));
            return Redeem::Replayed;
        }
        if now >= entry.grant.expires_at {
            codes.remove(code);
            return Redeem::Expired;
        }
        entry.used = true;
        Redeem::Ok(Box::new(entry.grant.clone()))
    }

    pub fn issue_access(&self, grant: AccessGrant) -> String {
        let token = hex128();
        let now = grant.issued_at;
        self.access
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                token.clone(),
                AccessEntry {
                    grant: Arc::new(grant),
                    revoked: false,
                },
            );
        self.maybe_sweep(now);
        token
    }

    pub fn issue_refresh(&self, grant: RefreshGrant) -> String {
        let token = hex128();
        let now = grant.issued_at;
        lock(&self.refresh).insert(token.clone(), grant);
        self.maybe_sweep(now);
        token
    }

    /// Caches an access token another replica issued, as hosted mode's database holds it
    /// (docs/hosted.md#codes-and-tokens).
    pub fn cache_access(&self, token: &str, grant: AccessGrant, revoked: bool) {
        let now = grant.issued_at;
        self.access
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                token.to_owned(),
                AccessEntry {
                    grant: Arc::new(grant),
                    revoked,
                },
            );
        self.maybe_sweep(now);
    }

    /// Revokes the access token whose digest is `token_digest` (another replica's revocation,
    /// which names tokens by digest only).
    pub fn revoke_digest(&self, token_digest: &str) {
        let mut access = self.access.write().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = access
            .iter_mut()
            .find(|(token, _)| digest(token) == token_digest)
            .map(|(_, entry)| entry)
        {
            entry.revoked = true;
        }
    }

    /// A live access token's grant: unknown, expired and revoked tokens all give `None`.
    pub fn access(&self, token: &str, now: UnixTime) -> Option<Arc<AccessGrant>> {
        match self.lookup(token, now) {
            TokenLookup::Live(grant) => Some(grant),
            _ => None,
        }
    }

    /// The token's grant if it is live, else the app it was issued to if it is known: the request
    /// log attributes a request with an expired or revoked token to its client.
    pub fn lookup(&self, token: &str, now: UnixTime) -> TokenLookup {
        let access = self.access.read().unwrap_or_else(|p| p.into_inner());
        match access.get(token) {
            Some(e) if !e.revoked && now < e.grant.expires_at => TokenLookup::Live(e.grant.clone()),
            Some(e) => TokenLookup::Dead {
                client_id: e.grant.client_id.clone(),
            },
            None => TokenLookup::Unknown,
        }
    }

    pub fn refresh(&self, token: &str, now: UnixTime) -> Option<RefreshGrant> {
        lock(&self.refresh)
            .get(token)
            .filter(|g| now < g.expires_at)
            .cloned()
    }

    /// What the token endpoint does with a presented refresh token: a live one's grant; a
    /// rotated one revokes every token of its family (RFC 9700 §4.14.2: reuse means that either
    /// the app or an attacker holds a stolen copy, and the server cannot tell which).
    pub fn redeem_refresh(&self, token: &str, now: UnixTime) -> RefreshRedeem {
        if let Some(grant) = self.refresh(token, now) {
            return RefreshRedeem::Ok(Box::new(grant));
        }
        let family = lock(&self.rotated)
            .get(token)
            .map(|(family, _, _)| family.clone());
        match family {
            Some(family) => {
                self.revoke_family(&family);
                RefreshRedeem::Reused
            }
            None => RefreshRedeem::Invalid,
        }
    }

    /// Public apps' refresh tokens rotate: the used one stops working, and is remembered until
    /// it would have expired so that its reuse is recognised.
    pub fn rotate_refresh(&self, token: &str) {
        if let Some(grant) = lock(&self.refresh).remove(token) {
            lock(&self.rotated).insert(
                token.to_owned(),
                (grant.family, grant.expires_at, grant.plan),
            );
        }
    }

    /// A single-use refresh token, used: it stops working, and presenting it again is simply
    /// an invalid grant (docs/plans.md#behaviour-profiles).
    pub fn consume_refresh(&self, token: &str) {
        lock(&self.refresh).remove(token);
    }

    /// RFC 7009: revoking either kind of token revokes it; a refresh token takes its family along.
    pub fn revoke_token(&self, token: &str, client_id: &str) {
        let family = lock(&self.refresh)
            .get(token)
            .filter(|g| g.client_id == client_id)
            .map(|g| g.family.clone());
        if let Some(family) = family {
            self.revoke_family(&family);
            return;
        }
        let mut access = self.access.write().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = access
            .get_mut(token)
            .filter(|e| e.grant.client_id == client_id)
        {
            e.revoked = true;
        }
    }

    pub fn revoke_family(&self, family: &str) {
        self.access
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .values_mut()
            .filter(|e| e.grant.family == family)
            .for_each(|e| e.revoked = true);
        lock(&self.refresh).retain(|_, g| g.family != family);
    }

    /// `expire-grants` (docs/sandbox-tools.md#expire-grants): every token of one member stops working. Returns how many.
    pub fn revoke_member(&self, member_id: &MemberId) -> usize {
        let mut access = self.access.write().unwrap_or_else(|p| p.into_inner());
        let mut revoked = 0;
        for e in access.values_mut() {
            if e.grant.member_id == *member_id && !e.revoked {
                e.revoked = true;
                revoked += 1;
            }
        }
        drop(access);
        let mut refresh = lock(&self.refresh);
        let before = refresh.len();
        refresh.retain(|_, g| g.member_id != *member_id);
        revoked += before - refresh.len();
        revoked
    }

    pub fn clear(&self) {
        lock(&self.codes).clear();
        self.access
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        lock(&self.refresh).clear();
        lock(&self.rotated).clear();
    }

    fn maybe_sweep(&self, now: UnixTime) {
        let mut inserts = lock(&self.inserts);
        *inserts += 1;
        if *inserts % SWEEP_EVERY != 0 {
            return;
        }
        drop(inserts);
        lock(&self.codes).retain(|_, e| now < e.grant.expires_at);
        self.access
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, e| now < e.grant.expires_at);
        lock(&self.refresh).retain(|_, g| now < g.expires_at);
        lock(&self.rotated).retain(|_, (_, expires_at, _)| now < *expires_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An instant, in seconds, for the tests' made-up timelines.
    fn t(seconds: i64) -> UnixTime {
        UnixTime::from_seconds(seconds)
    }

    fn code_grant(expires_at: UnixTime) -> CodeGrant {
        CodeGrant {
            plan: PlanId::from("test"),
            client_id: "c".into(),
            redirect_uri: None,
            code_challenge: None,
            patient_id: "p".into(),
            member_id: "m".into(),
            representative: None,
            scopes: GrantedScopes::grant("patient/*.read", None),
            nonce: None,
            auth_time: t(0),
            expires_at,
        }
    }

    fn access(family: &str, member: &str) -> AccessGrant {
        AccessGrant {
            plan: PlanId::from("test"),
            client_id: "c".into(),
            patient_id: "p".into(),
            member_id: member.into(),
            representative: None,
            scopes: GrantedScopes::default(),
            issued_at: t(0),
            expires_at: t(100),
            family: family.into(),
        }
    }

    #[test]
    fn code_is_single_use_and_replay_revokes() {
        let grants = Grants::default();
        let code = grants.issue_code(code_grant(t(300)), t(0));
        assert!(matches!(grants.redeem_code(&code, t(10)), Redeem::Ok(_)));
        let token = grants.issue_access(access(&family_of(&code), "m"));
        assert!(grants.access(&token, t(10)).is_some());
        assert!(matches!(grants.redeem_code(&code, t(11)), Redeem::Replayed));
        assert!(grants.access(&token, t(12)).is_none());
    }

    #[test]
    fn code_expires() {
        let grants = Grants::default();
        let code = grants.issue_code(code_grant(t(300)), t(0));
        assert!(matches!(grants.redeem_code(&code, t(300)), Redeem::Expired));
        assert!(matches!(grants.redeem_code("nope", t(0)), Redeem::Unknown));
    }

    #[test]
    fn a_rotated_refresh_token_presented_again_revokes_its_family() {
        let grants = Grants::default();
        let refresh = |family: &str| RefreshGrant {
            plan: PlanId::from("test"),
            auth_time: t(0),
            client_id: "c".into(),
            patient_id: "p".into(),
            member_id: "m".into(),
            representative: None,
            scopes: GrantedScopes::default(),
            nonce: None,
            issued_at: t(0),
            expires_at: t(1000),
            family: family.into(),
        };
        let first = grants.issue_refresh(refresh("f"));
        let other_family = grants.issue_refresh(refresh("g"));
        assert!(matches!(
            grants.redeem_refresh(&first, t(1)),
            RefreshRedeem::Ok(_)
        ));
        grants.rotate_refresh(&first);
        let second = grants.issue_refresh(refresh("f"));
        let access = grants.issue_access(access("f", "m"));
        assert!(matches!(
            grants.redeem_refresh(&second, t(2)),
            RefreshRedeem::Ok(_)
        ));
        assert!(matches!(
            grants.redeem_refresh(&first, t(3)),
            RefreshRedeem::Reused
        ));
        assert!(matches!(
            grants.redeem_refresh(&second, t(4)),
            RefreshRedeem::Invalid
        ));
        assert!(grants.access(&access, t(4)).is_none());
        assert!(matches!(
            grants.redeem_refresh(&other_family, t(4)),
            RefreshRedeem::Ok(_)
        ));
        assert!(matches!(
            grants.redeem_refresh("nope", t(4)),
            RefreshRedeem::Invalid
        ));
    }

    #[test]
    fn a_dead_token_still_names_its_app() {
        let grants = Grants::default();
        let live = grants.issue_access(access("f1", "m1"));
        assert!(matches!(grants.lookup(&live, t(1)), TokenLookup::Live(_)));
        grants.revoke_token(&live, "c");
        assert!(
            matches!(grants.lookup(&live, t(1)), TokenLookup::Dead { ref client_id } if client_id == "c")
        );
        assert!(grants.access(&live, t(1)).is_none());
        let expired = grants.issue_access(access("f2", "m1"));
        assert!(matches!(
            grants.lookup(&expired, t(100)),
            TokenLookup::Dead { .. }
        ));
        assert!(matches!(grants.lookup("nope", t(1)), TokenLookup::Unknown));
    }

    #[test]
    fn token_expiry_and_member_revocation() {
        let grants = Grants::default();
        let a = grants.issue_access(access("f1", "m1"));
        let b = grants.issue_access(access("f2", "m2"));
        assert!(grants.access(&a, t(100)).is_none());
        assert_eq!(grants.revoke_member(&"m1".into()), 1);
        assert!(grants.access(&a, t(1)).is_none());
        assert!(grants.access(&b, t(1)).is_some());
    }
}
