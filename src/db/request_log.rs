//! The request log shared by every replica (docs/hosted.md#the-request-log; the log itself is
//! docs/sandbox-tools.md#request-log). A replica answers without a round trip: each answered
//! request waits in the core log's buffer (`RequestLog::share`), with the instant it was
//! answered, and a background task appends the buffer to `request_log` every few milliseconds.
//!
//! - **Reading** (`GET /sandbox/api/requests`, the report, the pages) first makes every live
//!   replica flush: it bumps `flush_version` and notifies, each replica flushes its buffer and
//!   records the version, and the reader waits for them (at most `PROPAGATION`). A replica
//!   records the version only after flushing everything it had answered when it heard, so the
//!   reader sees every request answered, on any live replica, before its read began.
//! - The reader then **numbers** the rows not numbered yet in the order they were answered (the
//!   answering replica's wall clock; one replica's requests strictly in its own order), under an
//!   advisory lock, from a counter that never goes back: every replica lists the same requests,
//!   in the same order, with the same `seq`. A request that follows a `next` link offered by any
//!   replica before it was answered (allowing for the replicas' clocks to differ by up to a
//!   second) is marked `followed_next` then.
//! - **Clearing** (and `reset`) makes every replica flush the same way, then deletes the rows:
//!   a request answered before the clear began, anywhere, is gone.
//! - The table holds at most `--request-log-size` rows (the oldest go at each flush). A flush
//!   the database does not take goes back to the buffer, which is bounded too, and is retried.
//! - The clock's moves, which the timeline shows among the requests, are rows too, each after
//!   the newest request numbered when it was made.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::types::Json;

use super::{Database, Unavailable};
use crate::ids::TokenTag;
use crate::oauth::id_token_flaw::IdTokenFlaw;
use crate::sandbox::clock_moves::{ClockMove, MAX_CLOCK_MOVES};
use crate::sandbox::endpoint::Endpoint;
use crate::sandbox::request_log::{
    Answered, LoggedRequest, NEXT_LINKS_REMEMBERED, OfferedLink, RequestLog, shared_link_key,
};

pub(super) const CHANNEL: &str = "payer_sandbox_request_log";

/// How often a replica appends what it answered: short, so a replica that dies loses little.
const FLUSH_EVERY: Duration = Duration::from_millis(5);
/// After a failed flush, the wait before the next one doubles up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How far another replica's clock may run ahead of the answering one's and a `next` link it
/// offered still count as offered before a request that followed it was answered. The link is
/// in a response the client had read before it sent that request, so the true order is never in
/// doubt; only the two clocks can disagree (two machines, or one clock stepped back between the
/// two requests). A client that builds the very URL of a link itself, less than this before a
/// search offers it, is counted as following it.
const LINK_CLOCK_SKEW_US: i64 = 1_000_000;

/// The PostgreSQL advisory lock (transaction-scoped) that numbering, trimming and clearing take,
/// so that they never fight over the same rows (no deadlock, no row numbered twice).
const LOCK: i64 = 0x7061_7965_725f_6c67;

/// How a logged request is stored: every field, also those the control API does not show but
/// the report and the timeline read. `seq` and `followed_next` are columns of their own, set
/// when the row is numbered.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    time: String,
    at_ms: i64,
    method: String,
    path: String,
    query: String,
    client_id: Option<String>,
    status: u16,
    duration_ms: u64,
    grant_type: Option<String>,
    client_auth: Option<String>,
    retry_after: Option<u32>,
    fault: Option<u64>,
    followed_next: bool,
    offered_next: bool,
    client_gone: bool,
    expires_in: Option<i64>,
    endpoint: Option<Endpoint>,
    issued_token: Option<TokenTag>,
    bearer_token: Option<TokenTag>,
    id_token_flaw: Option<String>,
    plan: Option<String>,
}

impl From<&LoggedRequest> for Stored {
    fn from(e: &LoggedRequest) -> Self {
        Stored {
            time: e.time.clone(),
            at_ms: e.at_ms,
            method: e.method.clone(),
            path: e.path.clone(),
            query: e.query.clone(),
            client_id: e.client_id.clone(),
            status: e.status,
            duration_ms: e.duration_ms,
            grant_type: e.grant_type.clone(),
            client_auth: e.client_auth.map(str::to_owned),
            retry_after: e.retry_after,
            fault: e.fault,
            followed_next: e.followed_next,
            offered_next: e.offered_next,
            client_gone: e.client_gone,
            expires_in: e.expires_in,
            endpoint: e.endpoint.clone(),
            issued_token: e.issued_token,
            bearer_token: e.bearer_token,
            id_token_flaw: e.id_token_flaw.map(str::to_owned),
            plan: e.plan.clone(),
        }
    }
}

impl Stored {
    fn into_logged(self, seq: u64, followed_next: bool) -> LoggedRequest {
        LoggedRequest {
            seq,
            time: self.time,
            at_ms: self.at_ms,
            method: self.method,
            path: self.path,
            query: self.query,
            client_id: self.client_id,
            status: self.status,
            duration_ms: self.duration_ms,
            grant_type: self.grant_type,
            client_auth: self.client_auth.map(client_auth_name),
            retry_after: self.retry_after,
            fault: self.fault,
            followed_next: self.followed_next || followed_next,
            offered_next: self.offered_next,
            client_gone: self.client_gone,
            expires_in: self.expires_in,
            endpoint: self.endpoint,
            issued_token: self.issued_token,
            bearer_token: self.bearer_token,
            id_token_flaw: self.id_token_flaw.map(flaw_name),
            plan: self.plan,
        }
    }
}

/// How clients authenticate, as the token endpoint names them (one, or two it refused together).
const CLIENT_AUTH: &[&str] = &[
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
    "client_secret_basic+client_secret_post",
    "client_secret_basic+private_key_jwt",
    "client_secret_post+private_key_jwt",
];

/// The log names these with `&'static str`: the stored text back as one of the known names.
fn client_auth_name(name: String) -> &'static str {
    match CLIENT_AUTH.iter().find(|known| **known == name) {
        Some(known) => known,
        None => interned(name),
    }
}

fn flaw_name(name: String) -> &'static str {
    match serde_json::from_value::<IdTokenFlaw>(serde_json::Value::String(name.clone())) {
        Ok(flaw) => flaw.as_str(),
        Err(_) => interned(name),
    }
}

/// A name this version does not know (a newer replica wrote it during a rolling upgrade): kept
/// once for the life of the process. Bounded: past `MAX_INTERNED` names, `"unknown"`.
fn interned(name: String) -> &'static str {
    const MAX_INTERNED: usize = 64;
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(known) = names.get(name.as_str()) {
        return known;
    }
    if names.len() >= MAX_INTERNED {
        return "unknown";
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    leaked
}

/// A link key, hashed: the table compares keys without holding the URLs.
fn hashed(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A row to append, as `jsonb_to_recordset` reads it.
#[derive(Serialize)]
struct NewRow {
    answered_at: i64,
    entry: Stored,
    /// A GET under the FHIR base: the hashed key a followed `next` link would have.
    request_key: Option<String>,
}

impl NewRow {
    fn of(answered: &Answered) -> NewRow {
        let e = &answered.entry;
        let fhir_get = e.method == "GET" && matches!(e.endpoint, Some(Endpoint::Fhir(_)));
        NewRow {
            answered_at: answered.answered_us,
            request_key: fhir_get.then(|| hashed(&shared_link_key(&e.path, &e.query))),
            entry: Stored::from(e),
        }
    }
}

#[derive(Serialize)]
struct NewLink {
    key: String,
    offered_at: i64,
}

/// Serialises this replica's flushes: a flush that must include everything answered so far
/// (the barrier's) waits for one already under way, so nothing taken is still in flight.
#[derive(Default)]
pub(super) struct Flushing(tokio::sync::Mutex<()>);

impl Database {
    /// Appends this replica's buffer to the table; how many requests it appended. What the
    /// database does not take goes back to the buffer.
    async fn flush_request_log(&self, log: &RequestLog) -> Result<usize, sqlx::Error> {
        let _one_at_a_time = self.flushing.0.lock().await;
        let (entries, links) = log.take_outgoing();
        if entries.is_empty() && links.is_empty() {
            return Ok(0);
        }
        match self.append(&entries, &links, log.capacity()).await {
            Ok(()) => Ok(entries.len()),
            Err(e) => {
                log.put_back(entries, links);
                Err(e)
            }
        }
    }

    async fn append(
        &self,
        entries: &[Answered],
        links: &[OfferedLink],
        capacity: usize,
    ) -> Result<(), sqlx::Error> {
        let rows: Vec<NewRow> = entries.iter().map(NewRow::of).collect();
        let mut links: Vec<NewLink> = links
            .iter()
            .map(|l| NewLink {
                key: hashed(&l.key),
                offered_at: l.offered_us,
            })
            .collect();
        // Two replicas inserting the same keys take their locks in one order: no deadlock.
        links.sort_by(|a, b| a.key.cmp(&b.key));
        links.dedup_by(|a, b| a.key == b.key);
        let mut tx = self.pool.begin().await?;
        if !links.is_empty() {
            sqlx::query(
                "INSERT INTO request_next_links (key, offered_at)
                 SELECT decode(r.key, 'hex'), r.offered_at
                 FROM jsonb_to_recordset($1) AS r(key text, offered_at bigint)
                 ORDER BY r.key
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(Json(&links))
            .execute(&mut *tx)
            .await?;
        }
        if !rows.is_empty() {
            sqlx::query(
                "INSERT INTO request_log (replica, answered_at, entry, request_key)
                 SELECT $1, r.answered_at, r.entry, decode(r.request_key, 'hex')
                 FROM jsonb_to_recordset($2) AS r(answered_at bigint, entry jsonb, request_key text)",
            )
            .bind(&self.replica)
            .bind(Json(&rows))
            .execute(&mut *tx)
            .await?;
        }
        // Trimming waits for nobody: when a reader or another replica holds the lock, the next
        // flush trims.
        let trim: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if trim {
            // The oldest go, in the order the requests were answered. A request dropped before
            // any reader numbered it still counts, as the embedded log counts one that rolled
            // off: its number is used up.
            sqlx::query(
                "WITH gone AS (
                     DELETE FROM request_log WHERE (answered_at, replica, id) <= (
                         SELECT answered_at, replica, id FROM request_log
                         ORDER BY answered_at DESC, replica DESC, id DESC OFFSET $1 LIMIT 1)
                     RETURNING seq
                 )
                 UPDATE request_log_state
                 SET next_seq = next_seq + (SELECT count(*) FROM gone WHERE seq IS NULL)",
            )
            .bind(i64::try_from(capacity).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM request_next_links WHERE id <=
                 (SELECT id FROM request_next_links ORDER BY id DESC OFFSET $1 LIMIT 1)",
            )
            .bind(i64::try_from(NEXT_LINKS_REMEMBERED).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Flushes, then records that this replica has flushed for `version` (a reader waits for it).
    async fn flush_for(&self, log: &RequestLog, version: i64) -> Result<(), sqlx::Error> {
        self.flush_request_log(log).await?;
        self.record_applied("request_log_version", version).await?;
        Ok(())
    }

    /// Heard a reader's notification: flush for it.
    pub(super) async fn heard_log_reader(&self, log: &RequestLog, payload: &str) {
        let Ok(version) = payload.parse::<i64>() else {
            return;
        };
        if let Err(e) = self.flush_for(log, version).await {
            tracing::warn!("flushing the request log for a reader: {e}");
        }
    }

    /// At the heartbeat, and after the listener reconnects: flush for every reader so far, in
    /// case a notification was missed. The version is read first, so that every request
    /// answered before those readers began is in the flush.
    pub(super) async fn catch_up_request_log(&self, log: &RequestLog) -> Result<(), sqlx::Error> {
        let version: i64 = sqlx::query_scalar("SELECT flush_version FROM request_log_state")
            .fetch_one(&self.pool)
            .await?;
        self.flush_for(log, version).await
    }

    /// Every live replica flushes what it answered before this call began; returns once they
    /// all have (or after `PROPAGATION`, a warning in the log).
    async fn flush_everywhere(&self, log: &RequestLog) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let version: i64 = sqlx::query_scalar(
            "UPDATE request_log_state SET flush_version = flush_version + 1
             RETURNING flush_version",
        )
        .fetch_one(&mut *tx)
        .await?;
        Database::notify(&mut tx, CHANNEL, version).await?;
        tx.commit().await?;
        // This replica does not wait for its own listener.
        self.flush_for(log, version).await?;
        self.wait_for_replicas("request_log_version", version).await;
        Ok(())
    }

    /// Numbers every row not numbered yet, in the order the requests were answered, and marks
    /// those that followed a `next` link offered before they were answered; then drops what is
    /// beyond `capacity`. Returns the newest `seq`.
    async fn number(
        &self,
        tx: &mut sqlx::PgTransaction<'_>,
        capacity: usize,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK)
            .execute(&mut **tx)
            .await?;
        // Under the lock no other numbering runs, so `next_seq` read at the start of this
        // statement is the one to continue from.
        let newest: i64 = sqlx::query_scalar(
            "WITH base AS (SELECT next_seq FROM request_log_state),
             todo AS (
                 SELECT id, row_number() OVER (ORDER BY answered_at, replica, id) AS n
                 FROM request_log WHERE seq IS NULL
             ),
             numbered AS (
                 UPDATE request_log r SET seq = base.next_seq + todo.n,
                     followed_next = r.followed_next OR (r.request_key IS NOT NULL AND EXISTS (
                         SELECT 1 FROM request_next_links l
                         WHERE l.key = r.request_key AND l.offered_at < r.answered_at + $1))
                 FROM todo, base WHERE r.id = todo.id
                 RETURNING r.seq
             )
             UPDATE request_log_state SET next_seq = next_seq + (SELECT count(*) FROM numbered)
             RETURNING next_seq",
        )
        .bind(LINK_CLOCK_SKEW_US)
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM request_log WHERE seq <= $1")
            .bind(newest.saturating_sub(i64::try_from(capacity).unwrap_or(i64::MAX)))
            .execute(&mut **tx)
            .await?;
        Ok(newest)
    }

    /// Every live replica's requests numbered up to now: the newest `seq` (hosted mode's
    /// `RequestLog::last_seq`, for a clock move to come after).
    pub async fn settle_request_log(&self, log: &RequestLog) -> Result<u64, Unavailable> {
        self.flush_everywhere(log).await?;
        let mut tx = self.pool.begin().await?;
        let newest = self.number(&mut tx, log.capacity()).await?;
        tx.commit().await?;
        let newest = u64::try_from(newest).unwrap_or_default();
        log.seen_seq(newest);
        Ok(newest)
    }

    /// The request log of every replica, oldest first: every request answered before this call
    /// began, on any live replica, and at most `capacity` of them.
    pub async fn read_request_log(
        &self,
        log: &RequestLog,
    ) -> Result<Vec<LoggedRequest>, Unavailable> {
        self.flush_everywhere(log).await?;
        let mut tx = self.pool.begin().await?;
        let newest = self.number(&mut tx, log.capacity()).await?;
        let rows: Vec<(i64, Json<Stored>, bool)> = sqlx::query_as(
            "SELECT seq, entry, followed_next FROM request_log
             WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT $1",
        )
        .bind(i64::try_from(log.capacity()).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        log.seen_seq(u64::try_from(newest).unwrap_or_default());
        Ok(rows
            .into_iter()
            .rev()
            .map(|(seq, Json(stored), followed)| {
                stored.into_logged(u64::try_from(seq).unwrap_or_default(), followed)
            })
            .collect())
    }

    /// Empties every replica's log: every request answered before this call began, on any live
    /// replica, and the remembered `next` links. How many requests went.
    pub async fn clear_request_log(&self, log: &RequestLog) -> Result<usize, Unavailable> {
        self.flush_everywhere(log).await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query("DELETE FROM request_log")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM request_next_links")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
    }

    /// Notes a move of the clock for every replica's timeline (a move that changed nothing is
    /// not kept, as without the database), keeping the newest `MAX_CLOCK_MOVES`.
    pub async fn note_clock_move(&self, moved: &ClockMove) -> Result<(), Unavailable> {
        if moved.seconds == 0 {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO request_log_clock_moves (after_seq, time, at_ms, seconds, to_wall_clock)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(i64::try_from(moved.after_seq).unwrap_or(i64::MAX))
        .bind(&moved.time)
        .bind(moved.at_ms)
        .bind(moved.seconds)
        .bind(moved.to_wall_clock)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM request_log_clock_moves WHERE id <=
             (SELECT id FROM request_log_clock_moves ORDER BY id DESC OFFSET $1 LIMIT 1)",
        )
        .bind(i64::try_from(MAX_CLOCK_MOVES).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every replica's moves of the clock, oldest first.
    pub async fn clock_moves(&self) -> Result<Vec<ClockMove>, Unavailable> {
        let rows: Vec<(i64, String, i64, i64, bool)> = sqlx::query_as(
            "SELECT after_seq, time, at_ms, seconds, to_wall_clock
             FROM request_log_clock_moves ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(after_seq, time, at_ms, seconds, to_wall_clock)| ClockMove {
                    after_seq: u64::try_from(after_seq).unwrap_or_default(),
                    time,
                    at_ms,
                    seconds,
                    to_wall_clock,
                },
            )
            .collect())
    }

    /// Forgets every replica's moves of the clock (a reset).
    pub async fn clear_clock_moves(&self) -> Result<(), Unavailable> {
        sqlx::query("DELETE FROM request_log_clock_moves")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Appends this replica's buffer every `FLUSH_EVERY` for as long as the process runs; after
    /// a failure, less often (up to `MAX_BACKOFF`) until the database takes it again.
    pub(super) fn flush_request_log_forever(&self, log: Arc<crate::sandbox::Tools>) {
        let database = self.clone();
        tokio::spawn(async move {
            let mut backoff = FLUSH_EVERY;
            let mut dropped = 0;
            loop {
                tokio::time::sleep(backoff).await;
                match database.flush_request_log(&log.requests).await {
                    Ok(_) => {
                        if backoff > FLUSH_EVERY {
                            tracing::info!("the request log reaches the database again");
                        }
                        backoff = FLUSH_EVERY;
                    }
                    Err(e) => {
                        if backoff == FLUSH_EVERY {
                            tracing::warn!(
                                "the request log waits in memory: the database did not take it: {e}"
                            );
                        }
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
                let now_dropped = log.requests.dropped();
                if now_dropped > dropped {
                    tracing::warn!(
                        "{} logged requests were dropped: the database did not take them before the buffer filled",
                        now_dropped - dropped
                    );
                    dropped = now_dropped;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::interaction::Interaction;

    #[test]
    fn a_stored_request_reads_back_as_it_was_logged() {
        let mut logged = LoggedRequest::example("GET", "/r4/ExplanationOfBenefit", 200);
        logged.time = "2026-11-29T03:11:04.230Z".to_owned();
        logged.at_ms = 1_795_921_864_230;
        logged.query = "patient=1&_count=1".to_owned();
        logged.client_id = Some("sandbox-app".to_owned());
        logged.client_auth = Some("client_secret_basic+private_key_jwt");
        logged.id_token_flaw = Some("alg_none");
        logged.endpoint = Some(Endpoint::Fhir(Interaction::Search(
            "ExplanationOfBenefit".to_owned(),
        )));
        logged.issued_token = Some(TokenTag::of("an access token"));
        logged.bearer_token = Some(TokenTag::of("another"));
        logged.offered_next = true;
        logged.expires_in = Some(3600);
        logged.fault = Some(4);
        logged.plan = Some("cascade".to_owned());
        let json = serde_json::to_value(Stored::from(&logged)).unwrap();
        let stored: Stored = serde_json::from_value(json).unwrap();
        let mut expected = logged.clone();
        expected.seq = 12;
        assert_eq!(stored.into_logged(12, false), expected);
        let stored: Stored =
            serde_json::from_value(serde_json::to_value(Stored::from(&logged)).unwrap()).unwrap();
        assert!(stored.into_logged(12, true).followed_next);
    }

    #[test]
    fn names_this_version_does_not_know_are_kept_bounded() {
        assert_eq!(client_auth_name("none".to_owned()), "none");
        assert_eq!(flaw_name("wrong_key".to_owned()), "wrong_key");
        let first = client_auth_name("tls_client_auth".to_owned());
        assert_eq!(first, "tls_client_auth");
        assert!(std::ptr::eq(
            first,
            client_auth_name("tls_client_auth".to_owned())
        ));
        for n in 0..100 {
            interned(format!("name-{n}"));
        }
        assert_eq!(interned("one-more".to_owned()), "unknown");
    }
}
