//! Developer accounts shared by every replica (docs/hosted.md#developer-accounts): the accounts,
//! the sign-ups waiting for a code, the sessions, the counted sign-in failures and the developer
//! emails of the outbox of docs/developer-accounts.md, kept in the database, which is their one
//! copy. The rules are `crate::developers`'s: each change loads its row under a lock
//! (`SELECT … FOR UPDATE`), runs the rule on it and writes what the rule did in the same
//! transaction, so that any page may land on any replica and a form posted twice, on two
//! replicas, takes effect once. Passwords are hashed and checked by the caller, off the async
//! runtime and outside any transaction.

use sqlx::types::Json;

use super::{Database, json_error};
use crate::clock::UnixTime;
use crate::developers::password::PasswordHash;
use crate::developers::rate_limit::{Attempt, Failures, WINDOW_SECS};
use crate::developers::sessions::{self, NewSession, Session};
use crate::developers::signup::{CODE_LIFETIME_SECS, CodeCheck, Pending};
use crate::developers::{Developer, DeveloperEmail, OUTBOX_LIMIT, SignUp, SignedIn, Verified};
use crate::oauth::secret::Secret;

impl Database {
    /// Opens a sign-up (its password already hashed) and puts its code in the outbox, in one
    /// transaction. Sign-ups whose code has expired are deleted on the way.
    pub async fn open_developer_sign_up(
        &self,
        browser: &str,
        email: String,
        password: PasswordHash,
        now: UnixTime,
        sent_at: String,
    ) -> Result<SignUp, sqlx::Error> {
        let (opened, pending) = Pending::open(browser, email.clone(), password, now);
        let signup = serde_json::to_value(&pending).map_err(json_error)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM developer_signups WHERE sent_at <= $1")
            .bind(now.plus(-CODE_LIFETIME_SECS).seconds())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO developer_signups (id, sent_at, signup) VALUES ($1, $2, $3)")
            .bind(&opened.id)
            .bind(now.seconds())
            .bind(Json(signup))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO developer_outbox (to_email, code, sent_at) VALUES ($1, $2, $3)")
            .bind(&email)
            .bind(opened.code.expose())
            .bind(&sent_at)
            .execute(&mut *tx)
            .await?;
        // The newest `OUTBOX_LIMIT` are kept, as in memory.
        sqlx::query(
            "DELETE FROM developer_outbox WHERE seq <= (SELECT max(seq) FROM developer_outbox) - $1",
        )
        .bind(i64::try_from(OUTBOX_LIMIT).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SignUp::CodeSent {
            signup: opened.id,
            email: DeveloperEmail {
                to: email,
                code: opened.code.expose().to_owned(),
                sent_at,
            },
        })
    }

    /// The email a sign-up waits to prove, while its code works, to the browser that opened it.
    pub async fn developer_signup_email(
        &self,
        id: &str,
        browser: &str,
        now: UnixTime,
    ) -> Result<Option<String>, sqlx::Error> {
        let row: Option<Json<Pending>> =
            sqlx::query_scalar("SELECT signup FROM developer_signups WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|Json(pending)| pending.email_for(browser, now)))
    }

    /// Checks a sign-up's code under the sign-up's row lock; the right one creates the account
    /// in the same transaction, unless the email has one already (the unique email decides,
    /// across replicas).
    pub async fn verify_developer(
        &self,
        id: &str,
        browser: &str,
        code: &str,
        now: UnixTime,
    ) -> Result<Verified, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let row: Option<Json<Pending>> =
            sqlx::query_scalar("SELECT signup FROM developer_signups WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(Json(mut pending)) = row else {
            return Ok(Verified::Unknown);
        };
        let checked = pending.check(browser, code, now);
        if checked.keeps_it_open() {
            let signup = serde_json::to_value(&pending).map_err(json_error)?;
            sqlx::query("UPDATE developer_signups SET signup = $2 WHERE id = $1")
                .bind(id)
                .bind(Json(signup))
                .execute(&mut *tx)
                .await?;
        } else if checked != CodeCheck::Unknown {
            sqlx::query("DELETE FROM developer_signups WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let verified = match checked {
            CodeCheck::Proved { email, password } => {
                let developer = Developer::new(email, password, now);
                let account = serde_json::to_value(&developer).map_err(json_error)?;
                let created: Option<String> = sqlx::query_scalar(
                    "INSERT INTO developers (id, email, account) VALUES ($1, $2, $3)
                     ON CONFLICT (email) DO NOTHING RETURNING id",
                )
                .bind(developer.id.as_str())
                .bind(&developer.email)
                .bind(Json(account))
                .fetch_optional(&mut *tx)
                .await?;
                match created {
                    Some(_) => Verified::Created(developer),
                    None => Verified::Exists,
                }
            }
            CodeCheck::Retry { tries_left } => Verified::Retry { tries_left },
            CodeCheck::Ended(why) => Verified::Ended(why),
            CodeCheck::Unknown => Verified::Unknown,
        };
        tx.commit().await?;
        Ok(verified)
    }

    /// Counts a sign-in to `key` (`crate::developers::sign_in_key`) as a failure until it
    /// succeeds, or refuses it past the limit, under the key's row lock: replicas racing on one
    /// account count every attempt.
    pub async fn developer_sign_in_attempt(
        &self,
        key: &str,
        now: UnixTime,
    ) -> Result<Attempt, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO developer_signin_failures (email, failures) VALUES ($1, '[]')
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(key)
        .execute(&mut *tx)
        .await?;
        let Json(mut failures): Json<Failures> = sqlx::query_scalar(
            "SELECT failures FROM developer_signin_failures WHERE email = $1 FOR UPDATE",
        )
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        let attempt = failures.attempt(now);
        let failures = serde_json::to_value(&failures).map_err(json_error)?;
        sqlx::query("UPDATE developer_signin_failures SET failures = $2 WHERE email = $1")
            .bind(key)
            .bind(Json(failures))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(attempt)
    }

    /// The account an email signs in to, if any.
    pub async fn developer_by_email(&self, email: &str) -> Result<Option<Developer>, sqlx::Error> {
        let row: Option<Json<Developer>> =
            sqlx::query_scalar("SELECT account FROM developers WHERE email = $1")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|Json(developer)| developer))
    }

    /// Starts a session for `developer`; after a sign-in with a password, `forgiven` is the key
    /// whose counted failures the success forgives, in the same transaction.
    pub async fn start_developer_session(
        &self,
        developer: &Developer,
        forgiven: Option<&str>,
        now: UnixTime,
    ) -> Result<NewSession, sqlx::Error> {
        let new = NewSession::new(developer.id.clone(), now);
        let mut tx = self.pool.begin().await?;
        if let Some(key) = forgiven {
            sqlx::query("DELETE FROM developer_signin_failures WHERE email = $1")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO developer_sessions (id_hash, developer_id, csrf, started_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(sessions::key(new.id.expose()))
        .bind(developer.id.as_str())
        .bind(new.session.csrf.expose())
        .bind(now.seconds())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(new)
    }

    /// The developer a session cookie's id signs in, while the session lives: one read.
    pub async fn developer_session(
        &self,
        id: &str,
        now: UnixTime,
    ) -> Result<Option<SignedIn>, sqlx::Error> {
        let row: Option<(Json<Developer>, String, i64)> = sqlx::query_as(
            "SELECT d.account, s.csrf, s.started_at
             FROM developer_sessions s JOIN developers d ON d.id = s.developer_id
             WHERE s.id_hash = $1",
        )
        .bind(sessions::key(id))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(Json(developer), csrf, started_at)| {
            let session = Session {
                developer: developer.id.clone(),
                csrf: Secret::new(csrf),
                started_at: UnixTime::from_seconds(started_at),
            };
            session
                .is_live(now)
                .then_some(SignedIn { developer, session })
        }))
    }

    /// Signs out on every replica: the session id stops working.
    pub async fn end_developer_session(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM developer_sessions WHERE id_hash = $1")
            .bind(sessions::key(id))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Developer verification emails, oldest first.
    pub async fn developer_outbox(&self) -> Result<Vec<DeveloperEmail>, sqlx::Error> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT to_email, code, sent_at FROM developer_outbox ORDER BY seq")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(to, code, sent_at)| DeveloperEmail { to, code, sent_at })
            .collect())
    }

    /// Reset (docs/sandbox-tools.md#reset): sign-ups waiting for a code, counted sign-in failures
    /// and the developer emails of the outbox go, for every replica; accounts and sessions stay.
    pub async fn reset_developers(&self) -> Result<(), sqlx::Error> {
        sqlx::query("TRUNCATE developer_signups, developer_signin_failures, developer_outbox")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes ended sessions and sign-ups, and failures out of the window (the heartbeat's).
    pub async fn sweep_developers(&self, now: UnixTime) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM developer_sessions WHERE started_at <= $1")
            .bind(now.plus(-sessions::LIFETIME_SECS).seconds())
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM developer_signups WHERE sent_at <= $1")
            .bind(now.plus(-CODE_LIFETIME_SECS).seconds())
            .execute(&self.pool)
            .await?;
        // A row whose newest failure has left the window counts nothing any more.
        sqlx::query(
            "DELETE FROM developer_signin_failures
             WHERE COALESCE((failures ->> (jsonb_array_length(failures) - 1))::bigint, 0) <= $1",
        )
        .bind(now.plus(-WINDOW_SECS).seconds())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
