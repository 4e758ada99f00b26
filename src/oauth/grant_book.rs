//! The codes and tokens one token request works on (RFC 6749 §4.1.3 and §6,
//! docs/hosted.md#codes-and-tokens). The token endpoint's core asks a `GrantBook` to redeem a
//! code or a refresh token and to issue tokens, and does not know where they are kept:
//!
//! - in memory (`&Grants`): every call is applied to the replica's own store at once;
//! - in hosted mode (`RecordedBook`): the http layer has loaded, under a database row lock, the
//!   one code or refresh token the request names; the book answers from that row and records
//!   what the core did, and the http layer writes the record in the same transaction. Because
//!   the row stays locked until then, two replicas redeeming one code take turns: the second
//!   finds it used.

use super::random::hex128;
use super::token_store::{
    AccessGrant, CodeGrant, Grants, Redeem, RefreshGrant, RefreshRedeem, digest, family_of,
};
use crate::clock::UnixTime;
use crate::ids::PlanId;

/// What the token endpoint's core does to codes and tokens.
pub trait GrantBook: Send {
    /// Single use: the first redemption takes the grant; a later one revokes its family.
    fn redeem_code(&mut self, code: &str, now: UnixTime) -> Redeem;
    /// A live refresh token's grant; a rotated one presented again revokes its family.
    fn redeem_refresh(&mut self, token: &str, now: UnixTime) -> RefreshRedeem;
    fn issue_access(&mut self, grant: AccessGrant) -> String;
    fn issue_refresh(&mut self, grant: RefreshGrant) -> String;
    /// The refresh token was replaced: presenting it again is reuse.
    fn rotate_refresh(&mut self, token: &str);
    /// A single-use refresh token, used: it stops working.
    fn consume_refresh(&mut self, token: &str);
    fn revoke_family(&mut self, family: &str);
}

impl GrantBook for &Grants {
    fn redeem_code(&mut self, code: &str, now: UnixTime) -> Redeem {
        Grants::redeem_code(self, code, now)
    }
    fn redeem_refresh(&mut self, token: &str, now: UnixTime) -> RefreshRedeem {
        Grants::redeem_refresh(self, token, now)
    }
    fn issue_access(&mut self, grant: AccessGrant) -> String {
        Grants::issue_access(self, grant)
    }
    fn issue_refresh(&mut self, grant: RefreshGrant) -> String {
        Grants::issue_refresh(self, grant)
    }
    fn rotate_refresh(&mut self, token: &str) {
        Grants::rotate_refresh(self, token);
    }
    fn consume_refresh(&mut self, token: &str) {
        Grants::consume_refresh(self, token);
    }
    fn revoke_family(&mut self, family: &str) {
        Grants::revoke_family(self, family);
    }
}

/// A code as the database holds it.
#[derive(Debug, Clone)]
pub struct StoredCode {
    pub grant: CodeGrant,
    pub used: bool,
}

/// A refresh token as the database holds it (one that was consumed or revoked is not found).
#[derive(Debug, Clone)]
pub enum StoredRefresh {
    Live(RefreshGrant),
    /// Replaced by rotation: presenting it again revokes its family.
    Rotated {
        family: String,
        plan: PlanId,
    },
}

/// What a token request did, to be written in the transaction that loaded its rows. Codes and
/// tokens are named by their digest, never by themselves, except the new tokens, whose digest
/// the writer takes.
#[derive(Debug, Clone)]
pub enum GrantChange {
    CodeUsed { code: String },
    CodeExpired { code: String },
    Access { token: String, grant: AccessGrant },
    Refresh { token: String, grant: RefreshGrant },
    Rotated { token: String },
    Consumed { token: String },
    FamilyRevoked { family: String },
}

/// Hosted mode's book: the rows one request loaded, and what the core did with them.
#[derive(Debug, Default)]
pub struct RecordedBook {
    code: Option<(String, Option<StoredCode>)>,
    refresh: Option<(String, Option<StoredRefresh>)>,
    changes: Vec<GrantChange>,
}

impl RecordedBook {
    /// A book over the code and the refresh token a request names (each with its row, if the
    /// database has one).
    pub fn new(
        code: Option<(String, Option<StoredCode>)>,
        refresh: Option<(String, Option<StoredRefresh>)>,
    ) -> Self {
        RecordedBook {
            code,
            refresh,
            changes: Vec::new(),
        }
    }

    /// The plan the loaded code or refresh token was issued for.
    pub fn plan(&self) -> Option<PlanId> {
        let from_code = self
            .code
            .as_ref()
            .and_then(|(_, row)| row.as_ref())
            .map(|row| row.grant.plan.clone());
        from_code.or_else(|| match self.refresh.as_ref()?.1.as_ref()? {
            StoredRefresh::Live(grant) => Some(grant.plan.clone()),
            StoredRefresh::Rotated { plan, .. } => Some(plan.clone()),
        })
    }

    pub fn changes(&self) -> &[GrantChange] {
        &self.changes
    }

    pub fn into_changes(self) -> Vec<GrantChange> {
        self.changes
    }

    fn revoke(&mut self, family: String) {
        let already = self
            .changes
            .iter()
            .any(|c| matches!(c, GrantChange::FamilyRevoked { family: f } if *f == family));
        if !already {
            self.changes.push(GrantChange::FamilyRevoked { family });
        }
    }
}

impl GrantBook for RecordedBook {
    fn redeem_code(&mut self, code: &str, now: UnixTime) -> Redeem {
        let Some((loaded, Some(row))) = self.code.as_mut() else {
            return Redeem::Unknown;
        };
        if loaded != code {
            return Redeem::Unknown;
        }
        if row.used {
            self.revoke(family_of(code));
            return Redeem::Replayed;
        }
        if now >= row.grant.expires_at {
            self.changes
                .push(GrantChange::CodeExpired { code: digest(code) });
            self.code = None;
            return Redeem::Expired;
        }
        row.used = true;
        let grant = row.grant.clone();
        self.changes
            .push(GrantChange::CodeUsed { code: digest(code) });
        Redeem::Ok(Box::new(grant))
    }

    fn redeem_refresh(&mut self, token: &str, now: UnixTime) -> RefreshRedeem {
        let Some((loaded, Some(row))) = self.refresh.as_ref() else {
            return RefreshRedeem::Invalid;
        };
        if loaded != token {
            return RefreshRedeem::Invalid;
        }
        match row {
            StoredRefresh::Live(grant) if now < grant.expires_at => {
                RefreshRedeem::Ok(Box::new(grant.clone()))
            }
            StoredRefresh::Live(_) => RefreshRedeem::Invalid,
            StoredRefresh::Rotated { family, .. } => {
                let family = family.clone();
                self.revoke(family);
                RefreshRedeem::Reused
            }
        }
    }

    fn issue_access(&mut self, grant: AccessGrant) -> String {
        let token = hex128();
        self.changes.push(GrantChange::Access {
            token: token.clone(),
            grant,
        });
        token
    }

    fn issue_refresh(&mut self, grant: RefreshGrant) -> String {
        let token = hex128();
        self.changes.push(GrantChange::Refresh {
            token: token.clone(),
            grant,
        });
        token
    }

    fn rotate_refresh(&mut self, token: &str) {
        if let Some((loaded, row)) = self.refresh.as_mut() {
            if loaded == token {
                if let Some(StoredRefresh::Live(grant)) = row.take() {
                    *row = Some(StoredRefresh::Rotated {
                        family: grant.family,
                        plan: grant.plan,
                    });
                }
            }
        }
        self.changes.push(GrantChange::Rotated {
            token: digest(token),
        });
    }

    fn consume_refresh(&mut self, token: &str) {
        if let Some((loaded, row)) = self.refresh.as_mut() {
            if loaded == token {
                *row = None;
            }
        }
        self.changes.push(GrantChange::Consumed {
            token: digest(token),
        });
    }

    fn revoke_family(&mut self, family: &str) {
        self.revoke(family.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::scopes::GrantedScopes;

    fn t(seconds: i64) -> UnixTime {
        UnixTime::from_seconds(seconds)
    }

    fn code_grant() -> CodeGrant {
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
            expires_at: t(300),
        }
    }

    #[test]
    fn a_loaded_code_is_redeemed_once_and_the_use_recorded() {
        let row = StoredCode {
            grant: code_grant(),
            used: false,
        };
        let mut book = RecordedBook::new(Some(("abc".into(), Some(row))), None);
        assert_eq!(book.plan(), Some(PlanId::from("test")));
        assert!(matches!(book.redeem_code("other", t(1)), Redeem::Unknown));
        assert!(matches!(book.redeem_code("abc", t(1)), Redeem::Ok(_)));
        assert!(matches!(book.redeem_code("abc", t(2)), Redeem::Replayed));
        assert!(matches!(
            book.changes(),
            [GrantChange::CodeUsed { code }, GrantChange::FamilyRevoked { family }]
                if *code == digest("abc") && *family == family_of("abc")
        ));
    }

    #[test]
    fn a_used_code_revokes_its_family_once_and_an_expired_one_is_dropped() {
        let used = StoredCode {
            grant: code_grant(),
            used: true,
        };
        let mut book = RecordedBook::new(Some(("abc".into(), Some(used))), None);
        assert!(matches!(book.redeem_code("abc", t(1)), Redeem::Replayed));
        assert!(matches!(book.redeem_code("abc", t(1)), Redeem::Replayed));
        assert_eq!(book.changes().len(), 1);
        let fresh = StoredCode {
            grant: code_grant(),
            used: false,
        };
        let mut book = RecordedBook::new(Some(("abc".into(), Some(fresh))), None);
        assert!(matches!(book.redeem_code("abc", t(300)), Redeem::Expired));
        assert!(matches!(book.redeem_code("abc", t(1)), Redeem::Unknown));
        assert!(matches!(book.changes(), [GrantChange::CodeExpired { .. }]));
    }

    #[test]
    fn a_rotated_refresh_token_is_reuse() {
        let grant = RefreshGrant {
            plan: PlanId::from("test"),
            client_id: "c".into(),
            patient_id: "p".into(),
            member_id: "m".into(),
            representative: None,
            auth_time: t(0),
            scopes: GrantedScopes::default(),
            nonce: None,
            issued_at: t(0),
            expires_at: t(100),
            family: "f".into(),
        };
        let mut book =
            RecordedBook::new(None, Some(("r".into(), Some(StoredRefresh::Live(grant)))));
        assert!(matches!(
            book.redeem_refresh("r", t(1)),
            RefreshRedeem::Ok(_)
        ));
        book.rotate_refresh("r");
        assert!(matches!(
            book.redeem_refresh("r", t(1)),
            RefreshRedeem::Reused
        ));
        assert!(matches!(
            book.changes(),
            [GrantChange::Rotated { .. }, GrantChange::FamilyRevoked { family }] if family == "f"
        ));
        assert!(matches!(
            book.redeem_refresh("r", t(200)),
            RefreshRedeem::Reused
        ));
    }
}
