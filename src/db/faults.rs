//! Injected faults shared by every replica (docs/hosted.md#faults; the faults themselves are
//! docs/sandbox-tools.md#faults). The database holds each fault and how many firings it has
//! left; each replica keeps the set in memory (`sandbox::faults::Faults`) for matching, so a
//! request that matches no fault costs no round trip.
//!
//! - Adding, removing or clearing stores the change, bumps the set's version and notifies the
//!   other replicas (`LISTEN/NOTIFY`) in one transaction, then answers once every live replica
//!   has loaded that version (or after a bounded wait): the change is in force everywhere for
//!   the very next request.
//! - A request that matches a fault claims one firing in the database: a single statement
//!   decrements `remaining` where it is still above zero. PostgreSQL serialises updates of one
//!   row and re-checks the condition on the newest version, so however the replicas race, at
//!   most `count` claims succeed: a fault with `count: N` fires exactly N times in total while
//!   the database answers. The claim that spends a fault bumps the version and notifies, so that
//!   every replica drops it; one that has not yet done so finds nothing to claim.

use std::time::Duration;

use sqlx::types::Json;

use super::{Database, Unavailable};
use crate::sandbox::faults::{self, Fault, FaultSpec, Faults, MAX_ACTIVE, RequestFacts};

pub(super) const CHANNEL: &str = "payer_sandbox_faults";

/// How long a request that matches a fault waits for the database to claim a firing before it
/// goes on without the fault (the database is away: readiness says so too).
const CLAIM_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a fault was not added.
#[derive(Debug, thiserror::Error)]
pub enum AddFaultError {
    /// The spec is not a fault, or too many wait: the caller's to fix (400).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl From<sqlx::Error> for AddFaultError {
    fn from(e: sqlx::Error) -> Self {
        AddFaultError::Unavailable(Unavailable(e))
    }
}

/// A row of `faults`: the fault, its id and what is left of its count.
type Row = (i64, Json<Fault>, i32);
/// `Row` beside the set's version, each part absent when there is no fault.
type VersionedRow = (i64, Option<i64>, Option<Json<Fault>>, Option<i32>);

fn fault_of((id, Json(mut fault), remaining): Row) -> Option<Fault> {
    fault.id = u64::try_from(id).ok()?;
    fault.remaining = u32::try_from(remaining).ok()?;
    Some(fault)
}

impl Database {
    /// Loads the database's set of faults into `faults` (at start-up, on each announcement, and
    /// at the heartbeat), and records the version loaded.
    pub async fn sync_faults(&self, faults: &Faults) -> Result<(), sqlx::Error> {
        // One statement, one snapshot: the version and the set it versions agree.
        let rows: Vec<VersionedRow> = sqlx::query_as(
            "SELECT v.version, f.id, f.fault, f.remaining
             FROM faults_version v LEFT JOIN faults f ON f.remaining > 0
             ORDER BY f.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let version = rows.first().map_or(0, |row| row.0);
        let set = rows
            .into_iter()
            .filter_map(|(_, id, fault, remaining)| fault_of((id?, fault?, remaining?)))
            .collect();
        faults.load(version, set);
        self.record_applied("faults_version", version).await?;
        Ok(())
    }

    /// The active faults, oldest first, with what the database says is left of each.
    pub async fn list_faults(&self) -> Result<Vec<Fault>, Unavailable> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, fault, remaining FROM faults WHERE remaining > 0 ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().filter_map(fault_of).collect())
    }

    /// Adds a fault for every replica: answered once every live replica has it.
    pub async fn add_fault(
        &self,
        faults: &Faults,
        spec: FaultSpec,
    ) -> Result<Fault, AddFaultError> {
        let mut fault = faults::validate(spec).map_err(AddFaultError::Invalid)?;
        let count =
            i32::try_from(fault.count).map_err(|e| AddFaultError::Invalid(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        // The version row's lock serialises every change of the set: the count of active
        // faults below is exact, and ids are handed out in the order changes commit.
        let version: i64 =
            sqlx::query_scalar("UPDATE faults_version SET version = version + 1 RETURNING version")
                .fetch_one(&mut *tx)
                .await?;
        // Spent faults are no longer listed: their rows can go.
        sqlx::query("DELETE FROM faults WHERE remaining = 0")
            .execute(&mut *tx)
            .await?;
        let active: i64 = sqlx::query_scalar("SELECT count(*) FROM faults")
            .fetch_one(&mut *tx)
            .await?;
        if usize::try_from(active).unwrap_or(usize::MAX) >= MAX_ACTIVE {
            // Dropping the transaction rolls it back.
            return Err(AddFaultError::Invalid(faults::too_many()));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO faults (fault, remaining) VALUES ($1, $2) RETURNING id",
        )
        .bind(Json(&fault))
        .bind(count)
        .fetch_one(&mut *tx)
        .await?;
        self.announce(&mut tx, version).await?;
        tx.commit().await?;
        fault.id = u64::try_from(id).unwrap_or_default();
        self.apply_fault_change(faults, version).await;
        Ok(fault)
    }

    /// Removes one fault everywhere; whether it was active.
    pub async fn remove_fault(&self, faults: &Faults, id: u64) -> Result<bool, Unavailable> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        let mut tx = self.pool.begin().await?;
        let version: i64 =
            sqlx::query_scalar("UPDATE faults_version SET version = version + 1 RETURNING version")
                .fetch_one(&mut *tx)
                .await?;
        let removed = sqlx::query("DELETE FROM faults WHERE id = $1 AND remaining > 0")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed == 0 {
            // Nothing changed: no new version to wait for.
            return Ok(false);
        }
        self.announce(&mut tx, version).await?;
        tx.commit().await?;
        self.apply_fault_change(faults, version).await;
        Ok(true)
    }

    /// Removes every fault everywhere; how many were active.
    pub async fn clear_faults(&self, faults: &Faults) -> Result<usize, Unavailable> {
        let mut tx = self.pool.begin().await?;
        let version: i64 =
            sqlx::query_scalar("UPDATE faults_version SET version = version + 1 RETURNING version")
                .fetch_one(&mut *tx)
                .await?;
        let cleared: i64 = sqlx::query_scalar(
            "WITH gone AS (DELETE FROM faults RETURNING remaining)
             SELECT count(*) FROM gone WHERE remaining > 0",
        )
        .fetch_one(&mut *tx)
        .await?;
        self.announce(&mut tx, version).await?;
        tx.commit().await?;
        self.apply_fault_change(faults, version).await;
        Ok(usize::try_from(cleared).unwrap_or_default())
    }

    async fn announce(
        &self,
        tx: &mut sqlx::PgTransaction<'_>,
        version: i64,
    ) -> Result<(), sqlx::Error> {
        Database::notify(tx, CHANNEL, version).await?;
        Ok(())
    }

    /// After a committed change: load it here, then wait for the other live replicas.
    async fn apply_fault_change(&self, faults: &Faults, version: i64) {
        // The change is committed whatever happens now: a failed load here is retried by the
        // listener (it hears this replica's own notification) and the heartbeat, and the wait
        // below covers this replica too.
        if let Err(e) = self.sync_faults(faults).await {
            tracing::warn!("loading the faults after a change: {e}");
        }
        self.wait_for_replicas("faults_version", version).await;
    }

    /// The fault that fires for this request, if any (hosted mode's `Faults::fire`): the oldest
    /// matching fault a firing of which the database lets this replica claim. A request that
    /// matches no fault makes no round trip. When the database does not answer the fault does
    /// not fire: firing without a claim could fire it more than `count` times.
    pub async fn fire_fault(&self, faults: &Faults, request: &RequestFacts<'_>) -> Option<Fault> {
        for mut candidate in faults.matching(request) {
            let claimed =
                tokio::time::timeout(CLAIM_TIMEOUT, self.claim_firing(candidate.id)).await;
            match claimed {
                Ok(Ok(Some(remaining))) => {
                    faults.claimed(candidate.id, remaining);
                    candidate.remaining = remaining;
                    return Some(candidate);
                }
                // Spent or removed through another replica before this one heard: drop it here
                // and try the next match.
                Ok(Ok(None)) => faults.claimed(candidate.id, 0),
                Ok(Err(e)) => {
                    tracing::warn!(
                        "fault {} matched but did not fire: the database did not answer: {e}",
                        candidate.id
                    );
                    return None;
                }
                Err(_) => {
                    tracing::warn!(
                        "fault {} matched but did not fire: the database did not answer within {CLAIM_TIMEOUT:?}",
                        candidate.id
                    );
                    return None;
                }
            }
        }
        None
    }

    /// Claims one firing of fault `id`: how many are left after it, or `None` when none was
    /// left (or the fault is gone). The claim that spends the fault announces the new set.
    async fn claim_firing(&self, id: u64) -> Result<Option<u32>, sqlx::Error> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        // One statement, so one transaction and one round trip. `remaining > 0` is re-checked
        // on the newest row version when another claim got there first (READ COMMITTED).
        let claimed: Option<(i32, i64)> = sqlx::query_as(
            "WITH claimed AS (
                 UPDATE faults SET remaining = remaining - 1
                 WHERE id = $1 AND remaining > 0 RETURNING remaining
             ), spent AS (
                 UPDATE faults_version SET version = version + 1
                 WHERE EXISTS (SELECT 1 FROM claimed WHERE remaining = 0) RETURNING version
             ), told AS (
                 SELECT pg_notify($2, version::text) FROM spent
             )
             SELECT remaining, (SELECT count(*) FROM told) FROM claimed",
        )
        .bind(id)
        .bind(CHANNEL)
        .fetch_optional(&self.pool)
        .await?;
        Ok(claimed.and_then(|(remaining, _)| u32::try_from(remaining).ok()))
    }
}
