//! Codes and tokens shared by every replica (docs/hosted.md#codes-and-tokens; RFC 6749 §4.1.2
//! and §10.5, RFC 7009, RFC 9700 §4.14.2). The database holds every code and token, keyed by
//! digest; each replica caches the access tokens it has seen, so that a FHIR read is no database
//! round trip.
//!
//! - A token request loads the one code or refresh token it names with `SELECT … FOR UPDATE`,
//!   lets the core decide (`RecordedBook`), and writes what it did in the same transaction:
//!   replicas racing on one code take turns on its row, and the second finds it used.
//! - A revocation is written, with a numbered event, and announced (`LISTEN/NOTIFY`) in one
//!   transaction; the revoking replica answers once every live replica has applied the event to
//!   its cache (or after a bounded wait).
//! - A replica fills its cache from the database only when no event arrived while it read, and
//!   trusts its cache only while it has heard from the database recently; otherwise it asks the
//!   database.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder, Transaction};

use super::{Database, json_error};
use crate::clock::UnixTime;
use crate::ids::{ClientId, MemberId, PlanId};
use crate::oauth::grant_book::{GrantChange, RecordedBook, StoredCode, StoredRefresh};
use crate::oauth::token_store::{
    AccessGrant, CodeGrant, Grants, RefreshGrant, TokenLookup, digest,
};

pub(super) const CHANNEL: &str = "payer_sandbox_grants";

/// A replica that has not heard from the database for this long asks it about every token
/// instead of trusting its cache: the other replicas have stopped waiting for it
/// (`LIVE_SECONDS`), so a revocation could have passed it by.
const TRUST_CACHE_FOR: Duration = Duration::from_secs(10);

/// Revocation events are kept this long; a replica that falls further behind empties its cache.
const KEEP_EVENTS_SECONDS: f64 = 600.0;

/// Expired codes and tokens are deleted this long after they expire (sandbox seconds): a used
/// code is kept until then so that its replay is still recognised.
const KEEP_EXPIRED_SECONDS: i64 = 86_400;

/// This replica's view of the shared revocations.
#[derive(Default)]
pub struct GrantsSync {
    /// The newest revocation event applied to this replica's cache.
    applied: tokio::sync::Mutex<i64>,
    /// Milliseconds since `started` when the database last answered a sync.
    synced_at: AtomicI64,
    started: std::sync::OnceLock<Instant>,
}

impl GrantsSync {
    fn millis(&self) -> i64 {
        let started = self.started.get_or_init(Instant::now);
        i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    fn mark_synced(&self) {
        self.synced_at.store(self.millis(), Ordering::SeqCst);
    }

    fn cache_trusted(&self) -> bool {
        let since = self.millis() - self.synced_at.load(Ordering::SeqCst);
        since < i64::try_from(TRUST_CACHE_FOR.as_millis()).unwrap_or(i64::MAX)
    }
}

/// One token request's open transaction and its book.
pub struct OpenBook {
    tx: Transaction<'static, Postgres>,
    pub book: RecordedBook,
}

/// A revocation to write and announce.
enum Revocation<'a> {
    Family(&'a str),
    Member(&'a str),
    Token(&'a str),
    /// Every code and token of a deleted app.
    Client(&'a str),
    All,
}

impl Revocation<'_> {
    fn kind_and_key(&self) -> (&'static str, &str) {
        match self {
            Revocation::Family(family) => ("family", family),
            Revocation::Member(member) => ("member", member),
            Revocation::Token(token) => ("token", token),
            Revocation::Client(client) => ("client", client),
            Revocation::All => ("all", ""),
        }
    }
}

async fn insert_event(
    tx: &mut Transaction<'static, Postgres>,
    revocation: &Revocation<'_>,
) -> Result<i64, sqlx::Error> {
    let (kind, key) = revocation.kind_and_key();
    Database::announce_in_order(tx, "revocations").await?;
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO oauth_revocations (kind, key) VALUES ($1, $2) RETURNING version",
    )
    .bind(kind)
    .bind(key)
    .fetch_one(&mut **tx)
    .await?;
    Database::notify(tx, CHANNEL, version).await?;
    Ok(version)
}

impl Database {
    /// Stores a code this replica issued: redeemable on any replica once this returns.
    pub async fn publish_code(&self, code: &str, grant: &CodeGrant) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO oauth_codes (code_hash, grant_data, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(digest(code))
        .bind(Json(grant))
        .bind(grant.expires_at.seconds())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Opens a token request's transaction with its code and refresh token loaded and locked.
    pub async fn open_book(
        &self,
        code: Option<&str>,
        refresh: Option<&str>,
    ) -> Result<OpenBook, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let code = match code.filter(|c| !c.is_empty()) {
            Some(code) => {
                let row: Option<(Json<CodeGrant>, bool)> = sqlx::query_as(
                    "SELECT grant_data, used FROM oauth_codes WHERE code_hash = $1 FOR UPDATE",
                )
                .bind(digest(code))
                .fetch_optional(&mut *tx)
                .await?;
                let stored = row.map(|(Json(grant), used)| StoredCode { grant, used });
                Some((code.to_owned(), stored))
            }
            None => None,
        };
        let refresh = match refresh.filter(|t| !t.is_empty()) {
            Some(token) => {
                let row: Option<(Json<RefreshGrant>, String)> = sqlx::query_as(
                    "SELECT grant_data, state FROM oauth_refresh_tokens
                     WHERE token_hash = $1 FOR UPDATE",
                )
                .bind(digest(token))
                .fetch_optional(&mut *tx)
                .await?;
                let stored = row.and_then(|(Json(grant), state)| match state.as_str() {
                    "live" => Some(StoredRefresh::Live(grant)),
                    "rotated" => Some(StoredRefresh::Rotated {
                        family: grant.family,
                        plan: grant.plan,
                    }),
                    _ => None,
                });
                Some((token.to_owned(), stored))
            }
            None => None,
        };
        Ok(OpenBook {
            tx,
            book: RecordedBook::new(code, refresh),
        })
    }

    /// Writes what a token request did and commits; then caches its new access tokens here and,
    /// when it revoked anything, waits until every live replica has applied the revocation.
    /// Nothing is answered before the commit: an issued token is in the database.
    pub async fn commit_book(&self, open: OpenBook, grants: &Grants) -> Result<(), sqlx::Error> {
        let OpenBook { mut tx, book } = open;
        let changes = book.into_changes();
        // Every write but a revocation's goes in one statement (data-modifying CTEs): a token
        // request is four round trips (BEGIN, the locking read, the writes, COMMIT).
        let mut writes = QueryBuilder::<Postgres>::new("WITH ");
        let mut any = false;
        let mut newest = None;
        for (n, change) in changes.iter().enumerate() {
            let separator = if any { ", " } else { "" };
            match change {
                GrantChange::CodeUsed { code } => {
                    writes.push(format_args!(
                        "{separator}w{n} AS (UPDATE oauth_codes SET used = true WHERE code_hash = "
                    ));
                    writes.push_bind(code.clone()).push(")");
                }
                GrantChange::CodeExpired { code } => {
                    writes.push(format_args!(
                        "{separator}w{n} AS (DELETE FROM oauth_codes WHERE code_hash = "
                    ));
                    writes.push_bind(code.clone()).push(")");
                }
                GrantChange::Access { token, grant } => {
                    let row = NewToken {
                        table: "oauth_access_tokens",
                        hash: digest(token),
                        family: grant.family.clone(),
                        member_id: grant.member_id.to_string(),
                        client_id: grant.client_id.to_string(),
                        data: Json(serde_json::to_value(grant).map_err(json_error)?),
                        expires_at: grant.expires_at.seconds(),
                    };
                    row.push(&mut writes, separator, n);
                }
                GrantChange::Refresh { token, grant } => {
                    let row = NewToken {
                        table: "oauth_refresh_tokens",
                        hash: digest(token),
                        family: grant.family.clone(),
                        member_id: grant.member_id.to_string(),
                        client_id: grant.client_id.to_string(),
                        data: Json(serde_json::to_value(grant).map_err(json_error)?),
                        expires_at: grant.expires_at.seconds(),
                    };
                    row.push(&mut writes, separator, n);
                }
                GrantChange::Rotated { token } | GrantChange::Consumed { token } => {
                    let state = if matches!(change, GrantChange::Rotated { .. }) {
                        "rotated"
                    } else {
                        "ended"
                    };
                    writes.push(format_args!(
                        "{separator}w{n} AS (UPDATE oauth_refresh_tokens SET state = '{state}' \
                         WHERE token_hash = "
                    ));
                    writes.push_bind(token.clone()).push(")");
                }
                GrantChange::FamilyRevoked { family } => {
                    end_tokens(&mut tx, Owner::Family, family).await?;
                    newest = Some(insert_event(&mut tx, &Revocation::Family(family)).await?);
                    continue;
                }
            }
            any = true;
        }
        if any {
            writes.push(" SELECT 1");
            writes.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        for change in changes {
            match change {
                GrantChange::Access { token, grant } => grants.cache_access(&token, grant, false),
                GrantChange::FamilyRevoked { family } => grants.revoke_family(&family),
                _ => {}
            }
        }
        if let Some(version) = newest {
            self.settle_revocation(grants, version).await;
        }
        Ok(())
    }

    /// What a bearer token is. The cache answers while it is trusted and knows the token;
    /// otherwise the database does, and the answer is cached.
    pub async fn lookup_access(&self, grants: &Grants, token: &str, now: UnixTime) -> TokenLookup {
        let trusted = self.grants_sync.cache_trusted();
        if trusted {
            match grants.lookup(token, now) {
                TokenLookup::Unknown => {}
                known => return known,
            }
        }
        match self.load_access(grants, token).await {
            Ok(()) => grants.lookup(token, now),
            Err(e) => {
                tracing::warn!("looking up an access token in the database: {e}");
                TokenLookup::Unavailable
            }
        }
    }

    /// Reads one access token into the cache. An event applied while it read could have revoked
    /// it after the read: then it reads again, so the cache never keeps a revoked token live.
    async fn load_access(&self, grants: &Grants, token: &str) -> Result<(), sqlx::Error> {
        let key = digest(token);
        for _ in 0..5 {
            let before = *self.grants_sync.applied.lock().await;
            let row: Option<(Json<AccessGrant>, bool)> = sqlx::query_as(
                "SELECT grant_data, revoked FROM oauth_access_tokens WHERE token_hash = $1",
            )
            .bind(&key)
            .fetch_optional(&self.pool)
            .await?;
            let applied = self.grants_sync.applied.lock().await;
            if *applied != before {
                continue;
            }
            if let Some((Json(grant), revoked)) = row {
                grants.cache_access(token, grant, revoked);
            }
            return Ok(());
        }
        Err(sqlx::Error::Protocol(
            "revocations kept arriving while a token was read".into(),
        ))
    }

    /// The plan a code or refresh token (live or not) was issued for, from the database.
    pub async fn plan_of_secret(
        &self,
        code: Option<&str>,
        refresh: Option<&str>,
    ) -> Result<Option<PlanId>, sqlx::Error> {
        if let Some(code) = code {
            let grant: Option<Json<CodeGrant>> =
                sqlx::query_scalar("SELECT grant_data FROM oauth_codes WHERE code_hash = $1")
                    .bind(digest(code))
                    .fetch_optional(&self.pool)
                    .await?;
            if let Some(Json(grant)) = grant {
                return Ok(Some(grant.plan));
            }
        }
        if let Some(token) = refresh {
            let grant: Option<Json<RefreshGrant>> = sqlx::query_scalar(
                "SELECT grant_data FROM oauth_refresh_tokens WHERE token_hash = $1",
            )
            .bind(digest(token))
            .fetch_optional(&self.pool)
            .await?;
            return Ok(grant.map(|Json(grant)| grant.plan));
        }
        Ok(None)
    }

    /// A live refresh token's grant (for introspection).
    pub async fn live_refresh(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<Option<RefreshGrant>, sqlx::Error> {
        let grant: Option<Json<RefreshGrant>> = sqlx::query_scalar(
            "SELECT grant_data FROM oauth_refresh_tokens
             WHERE token_hash = $1 AND state = 'live' AND expires_at > $2",
        )
        .bind(digest(token))
        .bind(now.seconds())
        .fetch_optional(&self.pool)
        .await?;
        Ok(grant.map(|Json(grant)| grant))
    }

    /// RFC 7009 on every replica: a refresh token of `client_id` takes its family along; an
    /// access token of `client_id` is revoked alone. Returns once every live replica has it.
    pub async fn revoke_token(
        &self,
        grants: &Grants,
        token: &str,
        client_id: &str,
    ) -> Result<(), sqlx::Error> {
        let key = digest(token);
        let mut tx = self.pool.begin().await?;
        let family: Option<String> = sqlx::query_scalar(
            "SELECT family FROM oauth_refresh_tokens
             WHERE token_hash = $1 AND client_id = $2 AND state = 'live' FOR UPDATE",
        )
        .bind(&key)
        .bind(client_id)
        .fetch_optional(&mut *tx)
        .await?;
        let version = if let Some(family) = &family {
            end_tokens(&mut tx, Owner::Family, family).await?;
            Some(insert_event(&mut tx, &Revocation::Family(family)).await?)
        } else {
            let revoked = sqlx::query(
                "UPDATE oauth_access_tokens SET revoked = true
                 WHERE token_hash = $1 AND client_id = $2 AND NOT revoked",
            )
            .bind(&key)
            .bind(client_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if revoked > 0 {
                Some(insert_event(&mut tx, &Revocation::Token(&key)).await?)
            } else {
                None
            }
        };
        tx.commit().await?;
        match &family {
            Some(family) => grants.revoke_family(family),
            None => grants.revoke_token(token, client_id),
        }
        if let Some(version) = version {
            self.settle_revocation(grants, version).await;
        }
        Ok(())
    }

    /// `expire-grants` on every replica: every token of the member stops working. Returns how
    /// many were live.
    pub async fn revoke_member(
        &self,
        grants: &Grants,
        member_id: &MemberId,
    ) -> Result<usize, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let ended = end_tokens(&mut tx, Owner::Member, member_id.as_str()).await?;
        let version = insert_event(&mut tx, &Revocation::Member(member_id.as_str())).await?;
        tx.commit().await?;
        grants.revoke_member(member_id);
        self.settle_revocation(grants, version).await;
        Ok(usize::try_from(ended).unwrap_or(usize::MAX))
    }

    /// `reset` on every replica: every code and token is gone.
    pub async fn clear_grants(&self, grants: &Grants) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("TRUNCATE oauth_codes, oauth_access_tokens, oauth_refresh_tokens")
            .execute(&mut *tx)
            .await?;
        let version = insert_event(&mut tx, &Revocation::All).await?;
        tx.commit().await?;
        grants.clear();
        self.settle_revocation(grants, version).await;
        Ok(())
    }

    /// Inside a deletion's transaction: every code and token of the app ends, and the event
    /// for the replicas' caches is written. Returns the event's version, to settle after commit.
    pub(super) async fn revoke_client_in(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        client_id: &str,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query("UPDATE oauth_codes SET used = true WHERE grant_data ->> 'client_id' = $1")
            .bind(client_id)
            .execute(&mut **tx)
            .await?;
        end_tokens(tx, Owner::Client, client_id).await?;
        insert_event(tx, &Revocation::Client(client_id)).await
    }

    /// Records this replica's own revocation as applied, then waits for the others.
    pub(super) async fn settle_revocation(&self, grants: &Grants, version: i64) {
        if let Err(e) = self.sync_grants(grants).await {
            tracing::warn!("applying revocations: {e}");
        }
        self.wait_for_replicas("grants_version", version).await;
    }

    /// Applies every revocation this replica has not applied yet to its cache (on each
    /// announcement, and at the heartbeat), and records that it has. A replica that fell
    /// further behind than the events kept empties its cache.
    pub async fn sync_grants(&self, grants: &Grants) -> Result<(), sqlx::Error> {
        let mut applied = self.grants_sync.applied.lock().await;
        let oldest: Option<i64> = sqlx::query_scalar("SELECT min(version) FROM oauth_revocations")
            .fetch_one(&self.pool)
            .await?;
        if oldest.is_some_and(|oldest| oldest > *applied + 1) && *applied > 0 {
            grants.clear();
        }
        let events: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT version, kind, key FROM oauth_revocations WHERE version > $1 ORDER BY version",
        )
        .bind(*applied)
        .fetch_all(&self.pool)
        .await?;
        for (version, kind, key) in &events {
            match kind.as_str() {
                "family" => grants.revoke_family(key),
                "member" => {
                    grants.revoke_member(&MemberId::from(key.as_str()));
                }
                "token" => grants.revoke_digest(key),
                "client" => {
                    grants.revoke_client(&ClientId::from(key.as_str()));
                }
                _ => grants.clear(),
            }
            *applied = (*applied).max(*version);
        }
        let newest = *applied;
        drop(applied);
        self.record_applied("grants_version", newest).await?;
        self.grants_sync.mark_synced();
        Ok(())
    }

    /// At start-up: every revocation so far is already in the database rows this replica will
    /// read, so it starts from the newest event.
    pub async fn start_grants(&self) -> Result<(), sqlx::Error> {
        let newest: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM oauth_revocations")
            .fetch_one(&self.pool)
            .await?;
        *self.grants_sync.applied.lock().await = newest.unwrap_or(0);
        sqlx::query("UPDATE replicas SET grants_version = $1 WHERE id = $2")
            .bind(newest.unwrap_or(0))
            .bind(&self.replica)
            .execute(&self.pool)
            .await?;
        self.grants_sync.mark_synced();
        Ok(())
    }

    /// Deletes codes and tokens long expired, and revocation events every replica is past.
    pub async fn sweep_grants(&self, now: UnixTime) -> Result<(), sqlx::Error> {
        let cutoff = now.plus(-KEEP_EXPIRED_SECONDS).seconds();
        for table in ["oauth_codes", "oauth_access_tokens", "oauth_refresh_tokens"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE expires_at < $1"))
                .bind(cutoff)
                .execute(&self.pool)
                .await?;
        }
        sqlx::query("DELETE FROM oauth_revocations WHERE at < now() - make_interval(secs => $1)")
            .bind(KEEP_EVENTS_SECONDS)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// A new token's row.
struct NewToken {
    table: &'static str,
    hash: String,
    family: String,
    member_id: String,
    client_id: String,
    data: Json<serde_json::Value>,
    expires_at: i64,
}

impl NewToken {
    /// Its insert, as the CTE `w{n}`.
    fn push(self, writes: &mut QueryBuilder<'_, Postgres>, separator: &str, n: usize) {
        writes.push(format_args!(
            "{separator}w{n} AS (INSERT INTO {} \
             (token_hash, family, member_id, client_id, grant_data, expires_at) VALUES (",
            self.table
        ));
        let mut values = writes.separated(", ");
        values.push_bind(self.hash);
        values.push_bind(self.family);
        values.push_bind(self.member_id);
        values.push_bind(self.client_id);
        values.push_bind(self.data);
        values.push_bind(self.expires_at);
        writes.push("))");
    }
}

/// Whose tokens a revocation ends: the column that names them.
#[derive(Debug, Clone, Copy)]
enum Owner {
    Family,
    Member,
    Client,
}

impl Owner {
    fn column(self) -> &'static str {
        match self {
            Owner::Family => "family",
            Owner::Member => "member_id",
            Owner::Client => "client_id",
        }
    }
}

/// Ends every live access and refresh token of `key` (a family, a member or an app): how many
/// were live.
async fn end_tokens(
    tx: &mut Transaction<'static, Postgres>,
    owner: Owner,
    key: &str,
) -> Result<u64, sqlx::Error> {
    let column = owner.column();
    let access = sqlx::query(&format!(
        "UPDATE oauth_access_tokens SET revoked = true WHERE {column} = $1 AND NOT revoked"
    ))
    .bind(key)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let refresh = sqlx::query(&format!(
        "UPDATE oauth_refresh_tokens SET state = 'ended' WHERE {column} = $1 AND state = 'live'"
    ))
    .bind(key)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(access + refresh)
}
