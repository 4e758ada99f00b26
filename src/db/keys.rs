//! The keys every replica must agree on (docs/hosted.md#signing-keys, #form-tokens): where each
//! plan's signing-key ring is, and the key of the forms' anti-CSRF tokens.
//!
//! - A ring's position is a row per plan (none: the first key alone) under one version for every
//!   ring. A rotation, a drop of the previous key or a reset bumps the version (whose row lock
//!   makes changes take turns), writes the rows and notifies the other replicas
//!   (`LISTEN/NOTIFY`) in one transaction; then this replica sets its rings to what it committed
//!   and answers once every live replica has recorded the version (or after a bounded wait). So
//!   the next id_token, on any replica, is signed with the new key, and every JWKS lists the
//!   same keys. A replica sets its rings before it serves, on each notification, and at its
//!   heartbeat, which also mends a ring that fell out of step.
//! - The form-token key is one row, put there by the first replica that starts on the database
//!   and read by every other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Database, Unavailable};
use crate::ids::PlanId;
use crate::oauth::keys::{KeyRing, RingPosition};

pub(super) const CHANNEL: &str = "payer_sandbox_keys";

/// A plan's ring, as the follower sets it.
#[derive(Clone)]
pub struct PlanKeys {
    pub plan: PlanId,
    pub ring: Arc<KeyRing>,
}

/// What a control call does to a plan's ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChange {
    Rotate,
    DropPrevious,
}

/// The newest version of the rings this replica has applied. Held while the rings are set, so
/// that the listener, the heartbeat and a change made here never put an older set over a newer.
#[derive(Default)]
pub struct KeysSync(Mutex<i64>);

/// A row of `signing_keys`: the plan, and its positions as stored.
type Row = (String, i16, Option<i16>);
/// `Row` beside the rings' version, each part absent when no plan has a row.
type VersionedRow = (i64, Option<String>, Option<i16>, Option<i16>);

/// The positions a row stores, if they name keys.
fn position_of(current: i16, previous: Option<i16>) -> Option<RingPosition> {
    let position = RingPosition {
        current: usize::try_from(current).ok()?,
        previous: match previous {
            Some(p) => Some(usize::try_from(p).ok()?),
            None => None,
        },
    };
    position.is_valid().then_some(position)
}

/// A position as a row stores it (positions are below `RingPosition::LAST`, a handful).
fn stored(position: usize) -> i16 {
    i16::try_from(position).unwrap_or(i16::MAX)
}

impl Database {
    /// Sets every ring where the database says (at start-up, on each notification, and at the
    /// heartbeat), and records the version applied.
    pub async fn sync_keys(&self, rings: &[PlanKeys]) -> Result<(), sqlx::Error> {
        // One statement, one snapshot: the version and the rows it versions agree.
        let rows: Vec<VersionedRow> = sqlx::query_as(
            "SELECT v.version, k.plan, k.position, k.previous
             FROM signing_keys_version v LEFT JOIN signing_keys k ON true",
        )
        .fetch_all(&self.pool)
        .await?;
        let version = rows.first().map_or(0, |row| row.0);
        let rows: Vec<Row> = rows
            .into_iter()
            .filter_map(|(_, plan, position, previous)| Some((plan?, position?, previous)))
            .collect();
        self.set_rings(rings, version, &rows);
        self.record_keys_version(version).await
    }

    /// Puts every ring at the position of `rows` (the first key alone for a plan without one),
    /// unless a newer version is already applied. The same version is applied again, so that
    /// the heartbeat mends a ring that a reset on this replica put out of step.
    fn set_rings(&self, rings: &[PlanKeys], version: i64, rows: &[Row]) {
        let mut applied = self.keys_sync.0.lock().unwrap_or_else(|p| p.into_inner());
        if version < *applied {
            return;
        }
        let positions: HashMap<&str, RingPosition> = rows
            .iter()
            .filter_map(
                |(plan, current, previous)| match position_of(*current, *previous) {
                    Some(position) => Some((plan.as_str(), position)),
                    None => {
                        tracing::warn!("plan {plan}: signing keys at positions that name no key");
                        None
                    }
                },
            )
            .collect();
        for PlanKeys { plan, ring } in rings {
            let position = positions.get(plan.as_str()).copied().unwrap_or_default();
            if let Err(e) = ring.set(position) {
                tracing::warn!("plan {plan}: setting the signing keys: {e}");
            }
        }
        *applied = version;
    }

    async fn record_keys_version(&self, version: i64) -> Result<(), sqlx::Error> {
        self.record_applied("keys_version", version).await?;
        Ok(())
    }

    /// Rotates `plan`'s keys, or drops its previous key, for every replica: returns once every
    /// live replica has it (and `rings`, every plan's, are set on this one).
    pub async fn change_keys(
        &self,
        rings: &[PlanKeys],
        plan: &PlanId,
        change: KeyChange,
    ) -> Result<(), Unavailable> {
        let mut tx = self.pool.begin().await?;
        let version = Self::next_keys_version(&mut tx).await?;
        let row: Option<(i16, Option<i16>)> =
            sqlx::query_as("SELECT position, previous FROM signing_keys WHERE plan = $1")
                .bind(plan.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let at = match row {
            None => RingPosition::default(),
            Some((current, previous)) => position_of(current, previous).unwrap_or_else(|| {
                tracing::warn!("plan {plan}: signing keys at positions that name no key");
                RingPosition::default()
            }),
        };
        let to = match change {
            KeyChange::Rotate => at.rotated(),
            KeyChange::DropPrevious => at.without_previous(),
        };
        sqlx::query(
            "INSERT INTO signing_keys (plan, position, previous) VALUES ($1, $2, $3)
             ON CONFLICT (plan) DO UPDATE
             SET position = EXCLUDED.position, previous = EXCLUDED.previous",
        )
        .bind(plan.as_str())
        .bind(stored(to.current))
        .bind(to.previous.map(stored))
        .execute(&mut *tx)
        .await?;
        self.commit_keys(tx, rings, version).await
    }

    /// Every plan back to its first key alone, on every replica (the sandbox's reset).
    pub async fn reset_keys(&self, rings: &[PlanKeys]) -> Result<(), Unavailable> {
        let mut tx = self.pool.begin().await?;
        let version = Self::next_keys_version(&mut tx).await?;
        sqlx::query("DELETE FROM signing_keys")
            .execute(&mut *tx)
            .await?;
        self.commit_keys(tx, rings, version).await
    }

    /// The next version of the rings. Its row stays locked until commit, so that changes take
    /// turns: each reads the rows the one before it committed, and versions commit in order.
    async fn next_keys_version(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "UPDATE signing_keys_version SET version = version + 1 RETURNING version",
        )
        .fetch_one(&mut **tx)
        .await
    }

    /// Reads every ring as this change leaves them, notifies, commits; then sets this replica's
    /// rings and waits for the others.
    async fn commit_keys(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
        rings: &[PlanKeys],
        version: i64,
    ) -> Result<(), Unavailable> {
        // Under the version's lock every earlier change has committed: these rows are the whole
        // state at `version`, not only this plan's.
        let rows: Vec<Row> = sqlx::query_as("SELECT plan, position, previous FROM signing_keys")
            .fetch_all(&mut *tx)
            .await?;
        Database::notify(&mut tx, CHANNEL, version).await?;
        tx.commit().await?;
        self.set_rings(rings, version, &rows);
        // The change is committed and in force here; the others have it from the notification
        // or their heartbeat even if this record is lost.
        if let Err(e) = self.record_keys_version(version).await {
            tracing::warn!("recording the signing keys' version: {e}");
        }
        self.wait_for_replicas("keys_version", version).await;
        Ok(())
    }

    /// The key of the forms' anti-CSRF tokens every replica shares: `candidate` if this replica
    /// is the first to start on the database, else the one the first put there.
    pub async fn form_token_key(&self, candidate: [u8; 32]) -> Result<[u8; 32], sqlx::Error> {
        sqlx::query("INSERT INTO form_token_key (key) VALUES ($1) ON CONFLICT (id) DO NOTHING")
            .bind(candidate.as_slice())
            .execute(&self.pool)
            .await?;
        let key: Vec<u8> = sqlx::query_scalar("SELECT key FROM form_token_key")
            .fetch_one(&self.pool)
            .await?;
        key.try_into()
            .map_err(|_| sqlx::Error::Protocol("the form-token key is not 32 bytes".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_positions_are_read_back_and_nonsense_is_not() {
        let rotated = RingPosition::default().rotated();
        assert_eq!(
            position_of(stored(rotated.current), rotated.previous.map(stored)),
            Some(rotated)
        );
        assert_eq!(position_of(0, None), Some(RingPosition::default()));
        assert_eq!(position_of(-1, None), None);
        assert_eq!(position_of(1, Some(-1)), None);
        assert_eq!(position_of(i16::MAX, None), None);
    }
}
