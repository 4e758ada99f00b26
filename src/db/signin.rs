//! Member sign-in shared by every replica (docs/hosted.md#member-sign-in): the sign-in attempts,
//! the email links and the outbox of verification emails of docs/oauth.md#member-verification,
//! kept in the database, which is their one copy. The rules are `oauth::login`'s; here each step
//! loads the attempt under its row lock (`SELECT … FOR UPDATE`), runs the rule, and writes the
//! attempt back with what the step produced (an email in the outbox, an email link) in one
//! transaction. So a step may land on any replica, and two posts of one form, on two replicas,
//! take effect one after the other: the second sees what the first did.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{Postgres, Transaction};

use super::Database;
use crate::clock::UnixTime;
use crate::data::Members;
use crate::ids::{ClientId, PlanId};
use crate::oauth::authorize::AuthorizeRequest;
use crate::oauth::login::{
    ATTEMPT_LIFETIME_SECS, Account, AccountDetails, Attempt, LoginError, OUTBOX_LIMIT,
    OutboxMessage, RepresentativeDetails, Stage, link_needed, normalize_email,
};
use crate::oauth::scopes::GrantedScopes;

/// A step's outcome: the database's failure outside (nothing changed), the sign-in rule's answer
/// inside (which may be a refusal: a wrong code, a form to fill again, an attempt that ended).
pub type Step<T> = Result<Result<T, LoginError>, sqlx::Error>;

/// An attempt as the `attempt` column keeps it (its id is the row's key). A record of its own,
/// so that the core's types carry no storage format: the scopes are kept as granted, as text.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    csrf: String,
    request: StoredRequest,
    restart_query: String,
    created_at: UnixTime,
    stage: StoredStage,
    detail_failures: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredRequest {
    client_id: String,
    app_name: String,
    redirect_uri: String,
    redirect_uri_sent: bool,
    scope: String,
    state: Option<String>,
    code_challenge: Option<String>,
    nonce: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum StoredStage {
    Start,
    Code {
        member_id: String,
        representative: Option<String>,
        email: String,
        code: String,
        sent_at: UnixTime,
        tries: u32,
        link: bool,
    },
    Consent {
        member_id: String,
        representative: Option<String>,
        authenticated_at: UnixTime,
    },
}

impl From<&Attempt> for Stored {
    fn from(attempt: &Attempt) -> Self {
        let r = &attempt.request;
        Stored {
            csrf: attempt.csrf.clone(),
            request: StoredRequest {
                client_id: r.client_id.clone(),
                app_name: r.app_name.clone(),
                redirect_uri: r.redirect_uri.clone(),
                redirect_uri_sent: r.redirect_uri_sent,
                scope: r.scopes.to_string(),
                state: r.state.clone(),
                code_challenge: r.code_challenge.clone(),
                nonce: r.nonce.clone(),
            },
            restart_query: attempt.restart_query.clone(),
            created_at: attempt.created_at,
            stage: match &attempt.stage {
                Stage::Start => StoredStage::Start,
                Stage::Code {
                    account,
                    email,
                    code,
                    sent_at,
                    tries,
                    link,
                } => StoredStage::Code {
                    member_id: account.member_id.clone(),
                    representative: account.representative.clone(),
                    email: email.clone(),
                    code: code.clone(),
                    sent_at: *sent_at,
                    tries: *tries,
                    link: *link,
                },
                Stage::Consent {
                    account,
                    authenticated_at,
                } => StoredStage::Consent {
                    member_id: account.member_id.clone(),
                    representative: account.representative.clone(),
                    authenticated_at: *authenticated_at,
                },
            },
            detail_failures: attempt.detail_failures,
        }
    }
}

impl Stored {
    fn into_attempt(self, id: String) -> Attempt {
        let r = self.request;
        let account = |member_id, representative| Account {
            member_id,
            representative,
        };
        Attempt {
            id,
            csrf: self.csrf,
            request: AuthorizeRequest {
                client_id: r.client_id,
                app_name: r.app_name,
                redirect_uri: r.redirect_uri,
                redirect_uri_sent: r.redirect_uri_sent,
                // Granted scopes are in their granted form: granting them again keeps each one.
                scopes: GrantedScopes::grant(&r.scope, None),
                state: r.state,
                code_challenge: r.code_challenge,
                nonce: r.nonce,
            },
            restart_query: self.restart_query,
            created_at: self.created_at,
            stage: match self.stage {
                StoredStage::Start => Stage::Start,
                StoredStage::Code {
                    member_id,
                    representative,
                    email,
                    code,
                    sent_at,
                    tries,
                    link,
                } => Stage::Code {
                    account: account(member_id, representative),
                    email,
                    code,
                    sent_at,
                    tries,
                    link,
                },
                StoredStage::Consent {
                    member_id,
                    representative,
                    authenticated_at,
                } => Stage::Consent {
                    account: account(member_id, representative),
                    authenticated_at,
                },
            },
            detail_failures: self.detail_failures,
        }
    }
}

/// An open attempt, its row locked until the transaction ends.
struct Locked {
    tx: Transaction<'static, Postgres>,
    attempt: Attempt,
}

/// What becomes of the attempt's row when a step succeeds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    Keep,
    Drop,
}

impl Database {
    /// Keeps a new attempt (`Logins::new_attempt`), and drops the attempts that have timed out.
    pub async fn start_sign_in(
        &self,
        plan: &PlanId,
        attempt: &Attempt,
        now: UnixTime,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM signin_attempts WHERE created_at <= $1")
            .bind(now.plus(-ATTEMPT_LIFETIME_SECS).seconds())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO signin_attempts (id, plan, client_id, created_at, attempt)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&attempt.id)
        .bind(plan.as_str())
        .bind(&attempt.request.client_id)
        .bind(attempt.created_at.seconds())
        .bind(Json(Stored::from(attempt)))
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// The plan's attempt `id`, if it is still open (a timed-out one is dropped).
    pub async fn sign_in_attempt(&self, plan: &PlanId, id: &str, now: UnixTime) -> Step<Attempt> {
        let row: Option<Json<Stored>> =
            sqlx::query_scalar("SELECT attempt FROM signin_attempts WHERE id = $1 AND plan = $2")
                .bind(id)
                .bind(plan.as_str())
                .fetch_optional(&self.pool)
                .await?;
        let Some(Json(stored)) = row else {
            return Ok(Err(LoginError::Unknown));
        };
        let attempt = stored.into_attempt(id.to_owned());
        if let Err(ended) = attempt.still_open(now) {
            sqlx::query("DELETE FROM signin_attempts WHERE id = $1")
                .bind(id)
                .execute(&self.pool)
                .await?;
            return Ok(Err(ended));
        }
        Ok(Ok(attempt))
    }

    /// The app the plan's attempt `id` is for (for the request log and faults).
    pub async fn sign_in_client(
        &self,
        plan: &PlanId,
        id: &str,
    ) -> Result<Option<ClientId>, sqlx::Error> {
        let client: Option<String> =
            sqlx::query_scalar("SELECT client_id FROM signin_attempts WHERE id = $1 AND plan = $2")
                .bind(id)
                .bind(plan.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(client.map(ClientId::new))
    }

    /// Locks the plan's attempt `id` and makes the checks every form post makes (its anti-CSRF
    /// token, its expiry; a timed-out attempt is dropped).
    async fn lock_attempt(
        &self,
        plan: &PlanId,
        id: &str,
        csrf: &str,
        now: UnixTime,
    ) -> Step<Locked> {
        let mut tx = self.pool.begin().await?;
        let row: Option<Json<Stored>> = sqlx::query_scalar(
            "SELECT attempt FROM signin_attempts WHERE id = $1 AND plan = $2 FOR UPDATE",
        )
        .bind(id)
        .bind(plan.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(Json(stored)) = row else {
            return Ok(Err(LoginError::Unknown));
        };
        let attempt = stored.into_attempt(id.to_owned());
        match attempt.check(csrf, now) {
            Ok(()) => Ok(Ok(Locked { tx, attempt })),
            Err(ended @ LoginError::Ended(_)) => {
                Self::finish(Locked { tx, attempt }, Err(ended), Then::Drop).await
            }
            Err(refused) => Ok(Err(refused)),
        }
    }

    /// Writes the attempt back as the step left it (a counted wrong try too), or drops it when
    /// the step ended it or `then` says so, and commits: only then is the step's answer given.
    async fn finish<T>(locked: Locked, result: Result<T, LoginError>, then: Then) -> Step<T> {
        let Locked { mut tx, attempt } = locked;
        let dropped = match &result {
            Ok(_) => then == Then::Drop,
            Err(e) => matches!(e, LoginError::Ended(_)),
        };
        if dropped {
            sqlx::query("DELETE FROM signin_attempts WHERE id = $1")
                .bind(&attempt.id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE signin_attempts SET attempt = $2 WHERE id = $1")
                .bind(&attempt.id)
                .bind(Json(Stored::from(&attempt)))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(result)
    }

    /// The account the plan's `email` (as typed) is linked to, read in the step's transaction.
    async fn linked(
        tx: &mut Transaction<'static, Postgres>,
        plan: &PlanId,
        email: &str,
    ) -> Result<Option<Account>, sqlx::Error> {
        let Some(email) = normalize_email(email) else {
            return Ok(None);
        };
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT member_id, representative FROM signin_email_links
             WHERE plan = $1 AND email = $2",
        )
        .bind(plan.as_str())
        .bind(email)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(row.map(|(member_id, representative)| Account {
            member_id,
            representative,
        }))
    }

    /// A step that sends a code: the attempt locked, the typed email's link read, `step` run;
    /// its email goes to the outbox in the same transaction.
    async fn send_step(
        &self,
        plan: &PlanId,
        id: &str,
        csrf: &str,
        now: UnixTime,
        email: &str,
        step: impl FnOnce(&mut Attempt, Option<&Account>) -> Result<OutboxMessage, LoginError>,
    ) -> Step<OutboxMessage> {
        let mut locked = match self.lock_attempt(plan, id, csrf, now).await? {
            Ok(locked) => locked,
            Err(refused) => return Ok(Err(refused)),
        };
        let linked = Self::linked(&mut locked.tx, plan, email).await?;
        let result = step(&mut locked.attempt, linked.as_ref());
        if let Ok(message) = &result {
            sqlx::query(
                "INSERT INTO signin_outbox (plan, to_email, code, sent_at, member_id)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(plan.as_str())
            .bind(&message.to)
            .bind(&message.code)
            .bind(&message.sent_at)
            .bind(&message.member_id)
            .execute(&mut *locked.tx)
            .await?;
            // The newest `OUTBOX_LIMIT` of the plan are kept, as in memory.
            sqlx::query(
                "DELETE FROM signin_outbox WHERE plan = $1 AND seq <= (
                     SELECT seq FROM signin_outbox WHERE plan = $1
                     ORDER BY seq DESC OFFSET $2 LIMIT 1)",
            )
            .bind(plan.as_str())
            .bind(i64::try_from(OUTBOX_LIMIT).unwrap_or(i64::MAX))
            .execute(&mut *locked.tx)
            .await?;
        }
        Self::finish(locked, result, Then::Keep).await
    }

    /// `Attempt::create_account` on the shared attempt.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_account(
        &self,
        plan: &PlanId,
        id: &str,
        csrf: &str,
        details: &AccountDetails,
        members: &Members,
        now: UnixTime,
        sent_at: String,
    ) -> Step<OutboxMessage> {
        self.send_step(plan, id, csrf, now, &details.email, |attempt, linked| {
            attempt.create_account(details, members, linked, now, sent_at)
        })
        .await
    }

    /// `Attempt::create_representative` on the shared attempt.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_representative(
        &self,
        plan: &PlanId,
        id: &str,
        csrf: &str,
        details: &RepresentativeDetails,
        members: &Members,
        now: UnixTime,
        sent_at: String,
    ) -> Step<OutboxMessage> {
        self.send_step(
            plan,
            id,
            csrf,
            now,
            &details.member.email,
            |attempt, linked| attempt.create_representative(details, members, linked, now, sent_at),
        )
        .await
    }

    /// `Attempt::sign_in` on the shared attempt.
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_in(
        &self,
        plan: &PlanId,
        id: &str,
        csrf: &str,
        email: &str,
        members: &Members,
        now: UnixTime,
        sent_at: String,
    ) -> Step<OutboxMessage> {
        self.send_step(plan, id, csrf, now, email, |attempt, linked| {
            attempt.sign_in(email, linked, members, now, sent_at)
        })
        .await
    }

    /// `Attempt::verify_code` on the shared attempt, and the new account's email link in the
    /// same transaction: `Some((email, account))` when a link was made.
    pub async fn verify_code(
        &self,
        plan: &PlanId,
        id: &str,
        csrf: &str,
        entered: &str,
        now: UnixTime,
    ) -> Step<Option<(String, Account)>> {
        let mut locked = match self.lock_attempt(plan, id, csrf, now).await? {
            Ok(locked) => locked,
            Err(refused) => return Ok(Err(refused)),
        };
        let verified = match locked.attempt.verify_code(entered, now) {
            Ok(verified) if verified.link => verified,
            Ok(_) => return Self::finish(locked, Ok(None), Then::Keep).await,
            Err(refused) => return Self::finish(locked, Err(refused), Then::Keep).await,
        };
        // Two attempts may link one email at once: the key lets one in; the other waits for it
        // to commit, inserts nothing, and then reads whose the email became.
        let inserted = sqlx::query(
            "INSERT INTO signin_email_links (plan, email, member_id, representative)
             VALUES ($1, $2, $3, $4) ON CONFLICT (plan, email) DO NOTHING",
        )
        .bind(plan.as_str())
        .bind(&verified.email)
        .bind(&verified.account.member_id)
        .bind(&verified.account.representative)
        .execute(&mut *locked.tx)
        .await?
        .rows_affected();
        let result = if inserted == 1 {
            Ok(Some((verified.email, verified.account)))
        } else {
            let existing = Self::linked(&mut locked.tx, plan, &verified.email).await?;
            link_needed(existing.as_ref(), &verified.account).map(|_| None)
        };
        Self::finish(locked, result, Then::Keep).await
    }

    /// `Attempt::decision` on the shared attempt, which is dropped in the same transaction: of
    /// two posts of the consent form, only the first decides.
    pub async fn decide(
        &self,
        plan: &PlanId,
        id: &str,
        csrf: &str,
        now: UnixTime,
    ) -> Step<(AuthorizeRequest, Account, UnixTime)> {
        let locked = match self.lock_attempt(plan, id, csrf, now).await? {
            Ok(locked) => locked,
            Err(refused) => return Ok(Err(refused)),
        };
        let decision = locked.attempt.decision();
        Self::finish(locked, decision, Then::Drop).await
    }

    /// Every plan's verification emails, in the order they were sent.
    pub async fn outbox(&self) -> Result<Vec<(PlanId, OutboxMessage)>, sqlx::Error> {
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT plan, to_email, code, sent_at, member_id FROM signin_outbox ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(plan, to, code, sent_at, member_id)| {
                (
                    PlanId::new(plan),
                    OutboxMessage {
                        to,
                        code,
                        sent_at,
                        member_id,
                    },
                )
            })
            .collect())
    }

    /// Reset (docs/sandbox-tools.md#reset): every plan's attempts, email links and outbox, for
    /// every replica, in one transaction.
    pub async fn reset_sign_ins(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for table in ["signin_attempts", "signin_email_links", "signin_outbox"] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_is_kept_and_read_back_as_it_was() {
        let attempt = Attempt {
            id: "cascade.0f".into(),
            csrf: "c5".into(),
            request: AuthorizeRequest {
                client_id: "app".into(),
                app_name: "App".into(),
                redirect_uri: "https://app.example/cb".into(),
                redirect_uri_sent: true,
                scopes: GrantedScopes::grant(
                    "openid patient/*.read patient/Observation.rs?category=laboratory offline_access",
                    None,
                ),
                state: Some("s".into()),
                code_challenge: Some("challenge".into()),
                nonce: None,
            },
            restart_query: "client_id=app".into(),
            created_at: UnixTime::from_seconds(100),
            stage: Stage::Code {
                account: Account {
                    member_id: "M1".into(),
                    representative: Some("rp1".into()),
                },
                email: "a@b.example".into(),
                code: "123456".into(),
                sent_at: UnixTime::from_seconds(101),
                tries: 2,
                link: true,
            },
            detail_failures: 1,
        };
        assert_eq!(
            attempt.request.scopes.iter().count(),
            4,
            "a granular one too"
        );
        let json = serde_json::to_string(&Stored::from(&attempt)).unwrap();
        let back: Stored = serde_json::from_str(&json).unwrap();
        let back = back.into_attempt(attempt.id.clone());
        assert_eq!(back.request.scopes, attempt.request.scopes);
        assert_eq!(
            back.request.scopes.to_string(),
            attempt.request.scopes.to_string()
        );
        assert_eq!(back.stage, attempt.stage);
        assert_eq!(
            (
                back.csrf,
                back.created_at,
                back.detail_failures,
                back.restart_query
            ),
            (
                attempt.csrf,
                attempt.created_at,
                attempt.detail_failures,
                attempt.restart_query
            )
        );
        assert_eq!(back.request.state, attempt.request.state);
        assert_eq!(back.request.code_challenge, attempt.request.code_challenge);
    }
}
