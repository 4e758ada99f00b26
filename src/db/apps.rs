//! Registered apps shared by every replica (docs/hosted.md#registered-apps). A registration is
//! stored and announced (`LISTEN/NOTIFY`) in one transaction, and answered only once every live
//! replica has loaded it: an app registered on one replica can sign members in on any other
//! with the very next request, and an acknowledged registration is in the database. Each replica
//! keeps the apps in memory, so a token request's client lookup is no database round trip.

use std::sync::atomic::Ordering;

use sqlx::types::Json;

use super::Database;
use crate::oauth::apps::{App, AppRegistry};

pub(super) const CHANNEL: &str = "payer_sandbox_apps";

impl Database {
    /// Loads the apps this replica does not have yet into `registry` (at start-up, on each
    /// announcement, and at the heartbeat).
    pub async fn sync_apps(&self, registry: &AppRegistry) -> Result<(), sqlx::Error> {
        let known = self.apps_applied.load(Ordering::SeqCst);
        let rows: Vec<(Json<App>, i64)> =
            sqlx::query_as("SELECT app, version FROM apps WHERE version > $1 ORDER BY version")
                .bind(known)
                .fetch_all(&self.pool)
                .await?;
        let Some(newest) = rows.last().map(|(_, version)| *version) else {
            return Ok(());
        };
        for (Json(app), _) in rows {
            registry.insert(app);
        }
        self.apps_applied.fetch_max(newest, Ordering::SeqCst);
        sqlx::query(
            "UPDATE replicas SET apps_version = GREATEST(apps_version, $1), seen_at = now()
             WHERE id = $2",
        )
        .bind(newest)
        .bind(&self.replica)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores and announces a registration this replica has just made, and returns once every
    /// live replica has it.
    pub async fn publish_app(&self, app: &App, registry: &AppRegistry) -> Result<(), String> {
        let mut tx = self.pool.begin().await.map_err(|e| e.to_string())?;
        Database::announce_in_order(&mut tx, "apps")
            .await
            .map_err(|e| e.to_string())?;
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO apps (client_id, app) VALUES ($1, $2) RETURNING version",
        )
        .bind(app.client_id.as_str())
        .bind(Json(app))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(version.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        self.sync_apps(registry).await.map_err(|e| e.to_string())?;
        self.wait_for_replicas("apps_version", version).await;
        Ok(())
    }
}
