//! The control API's changes to member data, shared by every replica
//! (docs/hosted.md#data-changes; docs/sandbox-tools.md#data-changes): a decision on, or units
//! used of, a prior authorization is a new version of the data at once, served by every replica
//! for the very next request, with the same version numbers everywhere.
//!
//! Each made change is a row of `data_changes`: its plan, its prior authorization, the change as
//! replayable input, the instant it is due and the version it made. A replica keeps the changes
//! in its `LiveData` (so that reads, searches and `_history` cost no database round trip) and
//! replays the rows in version order: at start-up, on each announcement (`LISTEN/NOTIFY`) and at
//! the heartbeat. A change is made under a transaction-scoped advisory lock that every change
//! and every `forget` takes: the maker first applies every change committed before it, checks
//! the new one against the version they left, writes and announces it, commits, applies it, and
//! answers once every live replica has applied it. So two replicas changing one prior
//! authorization at once take turns, and the second's version is the first's plus one.
//! `reset` and `clock/reset` forget every made change in one row that replaces all before it.
//!
//! The data's timeline counts from the first replica's start on the database, so that every
//! replica has the same timeline changes due.

use sqlx::types::Json;
use sqlx::{Postgres, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Database;
use crate::fhir::MemberData;
use crate::fhir::live::{self, Change, ChangeError, Version};
use crate::fhir::prior_auth::PriorAuthChange;
use crate::ids::PlanId;

pub(super) const CHANNEL: &str = "payer_sandbox_data_changes";

/// One plan's member data: what its made changes apply to.
#[derive(Clone)]
pub struct PlanData {
    pub plan: PlanId,
    pub data: MemberData,
}

/// The newest made change (or forget) this replica has applied. Held while rows are applied,
/// so that the listener, the heartbeat and a change made here never apply one row twice.
#[derive(Default)]
pub struct ChangesSync {
    applied: tokio::sync::Mutex<i64>,
}

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    /// No such prior authorization, or the change does not fit it: answered as without a
    /// database.
    #[error("the change does not apply: {0:?}")]
    Change(ChangeError),
    /// The database did not take it: the change was not made.
    #[error("the database: {0}")]
    Database(#[from] sqlx::Error),
}

/// A stored row: a made change, or a forget (`kind`).
#[derive(sqlx::FromRow)]
struct Row {
    version: i64,
    kind: String,
    plan: Option<String>,
    resource_id: Option<String>,
    change: Option<Json<PriorAuthChange>>,
    at: Option<String>,
}

impl Database {
    /// The instant the data's timeline counts from (its `after` entries): the sandbox clock at
    /// the first start of a replica on this database, `here` if this is the first. Every replica
    /// then has the same timeline changes due at the same instants.
    pub async fn timeline_start(
        &self,
        here: OffsetDateTime,
    ) -> Result<OffsetDateTime, sqlx::Error> {
        // Two statements: when replicas start together, the second's insert waits for the
        // first's to commit and does nothing; its read then sees the first's row.
        sqlx::query("INSERT INTO data_timeline (start) VALUES ($1) ON CONFLICT (id) DO NOTHING")
            .bind(here.format(&Rfc3339).map_err(encode_error)?)
            .execute(&self.pool)
            .await?;
        let start: String = sqlx::query_scalar("SELECT start FROM data_timeline")
            .fetch_one(&self.pool)
            .await?;
        OffsetDateTime::parse(&start, &Rfc3339).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }

    /// Applies every made change (and forget) this replica has not applied yet, in order, to
    /// `plans`, and records that it has (at start-up, on each announcement, at the heartbeat).
    pub async fn sync_changes(&self, plans: &[PlanData]) -> Result<(), sqlx::Error> {
        let mut applied = self.changes_sync.applied.lock().await;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT version, kind, plan, resource_id, change, at FROM data_changes
             WHERE version > $1 ORDER BY version",
        )
        .bind(*applied)
        .fetch_all(&self.pool)
        .await?;
        apply_rows(plans, rows, &mut applied);
        let newest = *applied;
        drop(applied);
        // Recorded even when there was nothing new: a change made here that was refused may
        // have applied other replicas' changes first, and their makers wait for this record.
        self.record_changes_version(newest).await
    }

    /// Makes a change to the prior authorization `id` in the first of `candidates` whose data
    /// holds it, now on the sandbox clock, on every replica: returns the version it made once
    /// every live replica serves it. `plans` are all of this replica's plans (the changes made
    /// elsewhere, which this one is checked after, may be any plan's).
    pub async fn make_prior_auth_change(
        &self,
        plans: &[PlanData],
        candidates: &[PlanData],
        id: &str,
        change: PriorAuthChange,
        now: OffsetDateTime,
    ) -> Result<Version, MakeError> {
        let mut applied = self.changes_sync.applied.lock().await;
        let mut tx = self.pool.begin().await?;
        Database::announce_in_order(&mut tx, "data changes").await?;
        // Under the lock, every change made before this one is committed: apply them first, so
        // that this one is checked against, and numbered after, them.
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT version, kind, plan, resource_id, change, at FROM data_changes
             WHERE version > $1 ORDER BY version",
        )
        .bind(*applied)
        .fetch_all(&mut *tx)
        .await?;
        apply_rows(plans, rows, &mut applied);
        let mut found = Err(ChangeError::NotFound(format!(
            "no prior authorization ExplanationOfBenefit/{id} in the data"
        )));
        for candidate in candidates {
            found = candidate
                .data
                .changes()
                .prepare_prior_auth(id, change.clone(), now)
                .map(|prepared| (candidate, prepared));
            if !matches!(found, Err(ChangeError::NotFound(_))) {
                break;
            }
        }
        let (plan, prepared) = found.map_err(MakeError::Change)?;
        let at = prepared.change.at.format(&Rfc3339).map_err(encode_error)?;
        let last_updated = prepared
            .version
            .last_updated
            .and_then(|nanos| OffsetDateTime::from_unix_timestamp_nanos(nanos).ok())
            .map(live::instant);
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO data_changes
             (kind, plan, resource_id, change, at, version_id, last_updated)
             VALUES ('change', $1, $2, $3, $4, $5, $6) RETURNING version",
        )
        .bind(plan.plan.as_str())
        .bind(id)
        .bind(Json(&change))
        .bind(&at)
        .bind(&prepared.version.version_id)
        .bind(last_updated)
        .fetch_one(&mut *tx)
        .await?;
        notify(&mut tx, version).await?;
        tx.commit().await?;
        let data = plan.data.changes();
        data.record(prepared.change);
        *applied = version;
        drop(applied);
        self.settle_changes(version).await;
        Ok(data
            .prior_auth_version(id, &prepared.version.version_id, now)
            .unwrap_or(prepared.version))
    }

    /// Forgets every change made through the control API, on every replica (`reset`,
    /// `clock/reset`): returns once every live replica has forgotten them.
    pub async fn forget_changes(&self, plans: &[PlanData]) -> Result<(), sqlx::Error> {
        let mut applied = self.changes_sync.applied.lock().await;
        let mut tx = self.pool.begin().await?;
        Database::announce_in_order(&mut tx, "data changes").await?;
        // The forget replaces every row before it: a replica that had not applied them yet
        // forgets them all the same, and one that starts later has nothing to replay.
        sqlx::query("DELETE FROM data_changes")
            .execute(&mut *tx)
            .await?;
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO data_changes (kind) VALUES ('forget') RETURNING version",
        )
        .fetch_one(&mut *tx)
        .await?;
        notify(&mut tx, version).await?;
        tx.commit().await?;
        for plan in plans {
            plan.data.changes().forget_made();
        }
        *applied = version;
        drop(applied);
        self.settle_changes(version).await;
        Ok(())
    }

    /// Records this replica's own change as applied, then waits for the others.
    async fn settle_changes(&self, version: i64) {
        if let Err(e) = self.record_changes_version(version).await {
            tracing::warn!("recording a data change as applied: {e}");
        }
        self.wait_for_replicas("changes_version", version).await;
    }

    async fn record_changes_version(&self, version: i64) -> Result<(), sqlx::Error> {
        self.record_applied("changes_version", version).await?;
        Ok(())
    }
}

async fn notify(tx: &mut Transaction<'static, Postgres>, version: i64) -> Result<(), sqlx::Error> {
    Database::notify(tx, CHANNEL, version).await?;
    Ok(())
}

/// Applies `rows` (in version order) to `plans`, moving `applied` past each.
fn apply_rows(plans: &[PlanData], rows: Vec<Row>, applied: &mut i64) {
    for row in rows {
        match row.kind.as_str() {
            "forget" => {
                for plan in plans {
                    plan.data.changes().forget_made();
                }
            }
            _ => match replayed(plans, &row) {
                Some((data, change)) => data.changes().record(change),
                // A plan or change this replica cannot take (another version of the server,
                // another plans file): the data it serves is then not every replica's.
                None => tracing::warn!(
                    version = row.version,
                    "a data change made on another replica could not be applied here"
                ),
            },
        }
        *applied = (*applied).max(row.version);
    }
}

/// The change a row stores, and the data it applies to.
fn replayed(plans: &[PlanData], row: &Row) -> Option<(MemberData, Change)> {
    let plan = plans
        .iter()
        .find(|plan| Some(plan.plan.as_str()) == row.plan.as_deref())?;
    let Json(change) = row.change.clone()?;
    let at = OffsetDateTime::parse(row.at.as_deref()?, &Rfc3339).ok()?;
    Some((
        plan.data.clone(),
        Change::made(row.resource_id.as_deref()?, change, at),
    ))
}

fn encode_error(e: time::error::Format) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(e))
}
