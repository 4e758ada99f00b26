//! The sandbox clock shared by every replica (docs/hosted.md#the-sandbox-clock), and the
//! listener and heartbeat that follow every replica's changes. The offset
//! lives in one row with a version that grows with each move. The replica that moves it updates
//! the row and notifies the others (`LISTEN/NOTIFY`) in one transaction, applies the move itself,
//! and answers only once every live replica has recorded the new version (or after a bounded
//! wait): so the next request, on any replica, reads the new time. A replica that missed a
//! notification (its connection dropped) catches up at its next heartbeat.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sqlx::postgres::PgListener;

use super::Database;
use super::data_changes::PlanData;
use super::keys::PlanKeys;
use crate::clock::{Clock, MAX_OFFSET};
use crate::oauth::apps::AppRegistry;
use crate::oauth::token_store::Grants;
use crate::sandbox::Tools;

const CHANNEL: &str = "payer_sandbox_clock";

/// What a replica keeps in step with the others.
#[derive(Clone)]
pub struct Followed {
    pub clock: Arc<Clock>,
    pub apps: Arc<AppRegistry>,
    pub grants: Arc<Grants>,
    pub tools: Arc<Tools>,
    pub data: Arc<[PlanData]>,
    /// Every plan's signing keys.
    pub keys: Arc<[PlanKeys]>,
}
/// How often a replica says it is alive and checks it has the newest clock.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// The newest clock version this replica has applied.
#[derive(Default)]
pub struct Applied(AtomicI64);

impl Database {
    /// Reads the shared offset into `clock` (at start-up, and to catch up).
    pub async fn sync_clock(&self, clock: &Clock) -> Result<(), sqlx::Error> {
        let (offset, version): (i64, i64) =
            sqlx::query_as("SELECT offset_seconds, version FROM sandbox_clock")
                .fetch_one(&self.pool)
                .await?;
        self.apply(clock, offset, version).await
    }

    async fn apply(&self, clock: &Clock, offset: i64, version: i64) -> Result<(), sqlx::Error> {
        if self.applied.0.fetch_max(version, Ordering::SeqCst) < version {
            clock.set_offset(offset);
        }
        self.record_applied("clock_version", version).await?;
        Ok(())
    }

    /// Moves the shared clock (`Some(seconds)` forward, `None` back to the wall clock) and
    /// applies it here; returns once every live replica has it. Returns the offset before.
    pub async fn move_clock(&self, clock: &Clock, advance: Option<u64>) -> Result<i64, String> {
        let before = clock.offset();
        let mut tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        let moved: (i64, i64) = match advance {
            Some(seconds) => sqlx::query_as(
                "UPDATE sandbox_clock SET offset_seconds = LEAST(offset_seconds + $1, $2),
                 version = version + 1 RETURNING offset_seconds, version",
            )
            .bind(i64::try_from(seconds).unwrap_or(MAX_OFFSET))
            .bind(MAX_OFFSET),
            None => sqlx::query_as(
                "UPDATE sandbox_clock SET offset_seconds = 0, version = version + 1
                 RETURNING offset_seconds, version",
            ),
        }
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
        let (offset, version) = moved;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(format!("{version}:{offset}"))
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        self.apply(clock, offset, version)
            .await
            .map_err(|e| e.to_string())?;
        self.wait_for_replicas("clock_version", version).await;
        Ok(before)
    }

    /// Follows the other replicas' clock moves, registrations, revocations, faults, request-log
    /// readers, data changes and signing keys for as long as the process runs: a listener, and a heartbeat that
    /// also catches up on any notification a dropped connection missed. Also starts the request
    /// log's flush.
    pub fn follow(&self, followed: Followed) {
        self.flush_request_log_forever(followed.tools.clone());
        let database = self.clone();
        let listening = followed.clone();
        tokio::spawn(async move { database.listen(listening).await });
        let database = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                database.catch_up(&followed).await;
                let now = followed.clock.now_unix();
                if let Err(e) = database.sweep_grants(now).await {
                    tracing::warn!("deleting expired codes and tokens: {e}");
                }
                if let Err(e) = database.sweep_rate_counts(now.seconds()).await {
                    tracing::warn!("deleting past rate-limit counts: {e}");
                }
                if let Err(e) = database.sweep_developers(now).await {
                    tracing::warn!("deleting ended developer sessions and sign-ups: {e}");
                }
            }
        });
    }

    async fn catch_up(&self, followed: &Followed) {
        let Followed {
            clock,
            apps,
            grants,
            tools,
            data,
            keys,
        } = followed;
        if let Err(e) = self.sync_grants(grants).await {
            tracing::warn!("the revoked tokens could not be read: {e}");
        }
        if let Err(e) = self.sync_clock(clock).await {
            tracing::warn!("the shared sandbox clock could not be read: {e}");
        }
        if let Err(e) = self.sync_apps(apps).await {
            tracing::warn!("the registered apps could not be read: {e}");
        }
        if let Err(e) = self.sync_faults(&tools.faults).await {
            tracing::warn!("the faults could not be read: {e}");
        }
        if let Err(e) = self.catch_up_request_log(&tools.requests).await {
            tracing::warn!("the request log could not be flushed: {e}");
        }
        if let Err(e) = self.sync_changes(data).await {
            tracing::warn!("the data changes could not be read: {e}");
        }
        if let Err(e) = self.sync_keys(keys).await {
            tracing::warn!("the signing keys could not be read: {e}");
        }
    }

    async fn listen(&self, followed: Followed) {
        let Followed {
            clock,
            apps,
            grants,
            tools,
            data,
            keys,
        } = &followed;
        loop {
            let mut listener = match PgListener::connect_with(&self.pool).await {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!("listening for clock moves: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let channels = [
                CHANNEL,
                super::apps::CHANNEL,
                super::faults::CHANNEL,
                super::request_log::CHANNEL,
                super::grants::CHANNEL,
                super::data_changes::CHANNEL,
                super::keys::CHANNEL,
            ];
            if let Err(e) = listener.listen_all(channels).await {
                tracing::warn!("listening for clock moves: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            // Listening from here on: whatever changed before (while this replica started, or
            // while the connection was down) is read now, so nothing falls between the two.
            self.catch_up(&followed).await;
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) if notification.channel() == super::apps::CHANNEL => {
                        if let Err(e) = self.sync_apps(apps).await {
                            tracing::warn!("loading a registered app: {e}");
                        }
                    }
                    Ok(Some(notification))
                        if notification.channel() == super::data_changes::CHANNEL =>
                    {
                        if let Err(e) = self.sync_changes(data).await {
                            tracing::warn!("applying a data change: {e}");
                        }
                    }
                    Ok(Some(notification)) if notification.channel() == super::keys::CHANNEL => {
                        if let Err(e) = self.sync_keys(keys).await {
                            tracing::warn!("setting the signing keys: {e}");
                        }
                    }
                    Ok(Some(notification)) if notification.channel() == super::grants::CHANNEL => {
                        if let Err(e) = self.sync_grants(grants).await {
                            tracing::warn!("applying a revocation: {e}");
                        }
                    }
                    Ok(Some(notification)) if notification.channel() == super::faults::CHANNEL => {
                        if let Err(e) = self.sync_faults(&tools.faults).await {
                            tracing::warn!("loading the faults: {e}");
                        }
                    }
                    Ok(Some(notification))
                        if notification.channel() == super::request_log::CHANNEL =>
                    {
                        self.heard_log_reader(&tools.requests, notification.payload())
                            .await;
                    }
                    Ok(Some(notification)) => {
                        let parsed = notification.payload().split_once(':').and_then(|(v, o)| {
                            Some((v.parse::<i64>().ok()?, o.parse::<i64>().ok()?))
                        });
                        if let Some((version, offset)) = parsed {
                            if let Err(e) = self.apply(clock, offset, version).await {
                                tracing::warn!("recording a clock move: {e}");
                            }
                        }
                    }
                    // The connection dropped: listen again (and catch up) once it is back.
                    Ok(None) | Err(_) => {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        break;
                    }
                }
            }
        }
    }
}
