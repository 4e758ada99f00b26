//! Registered apps shared by every replica (docs/hosted.md#registered-apps). A registration is
//! stored and announced (`LISTEN/NOTIFY`) in one transaction, and answered only once every live
//! replica has loaded it: an app registered on one replica can sign members in on any other
//! with the very next request, and an acknowledged registration is in the database. Each replica
//! keeps the apps in memory, so a token request's client lookup is no database round trip. An
//! owner's edit, rotation or deletion (docs/developer-accounts.md#apps) is a new version of the
//! app's row, made under its lock and announced the same way.

use sqlx::types::Json;
use sqlx::{Postgres, Transaction};

use super::Database;
use crate::ids::DeveloperId;
use crate::oauth::apps::{App, AppChangeError, AppRegistry};
use crate::oauth::token_store::Grants;

pub(super) const CHANNEL: &str = "payer_sandbox_apps";

impl Database {
    /// Loads the apps this replica does not have yet into `registry` (at start-up, on each
    /// announcement, and at the heartbeat).
    pub async fn sync_apps(&self, registry: &AppRegistry) -> Result<(), sqlx::Error> {
        let mut applied = self.apps_applied.lock().await;
        let rows: Vec<(Json<App>, i64, bool)> = sqlx::query_as(
            "SELECT app, version, deleted FROM apps WHERE version > $1 ORDER BY version",
        )
        .bind(*applied)
        .fetch_all(&self.pool)
        .await?;
        let Some(newest) = rows.last().map(|(_, version, _)| *version) else {
            return Ok(());
        };
        for (Json(app), _, deleted) in rows {
            match deleted {
                true => registry.remove(&app.client_id),
                false => registry.insert(app),
            }
        }
        *applied = newest;
        drop(applied);
        self.record_applied("apps_version", newest).await?;
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
        Database::notify(&mut tx, CHANNEL, version)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        self.sync_apps(registry).await.map_err(|e| e.to_string())?;
        self.wait_for_replicas("apps_version", version).await;
        Ok(())
    }

    /// Runs an owner's change (an edit, a secret rotation: docs/developer-accounts.md#apps) on
    /// the app as the database has it, under its row lock, so that two replicas changing one app
    /// take turns and neither undoes the other; stores and announces it under a new version, and
    /// returns it once every live replica has it. `Ok(Err(..))` is the rule's refusal: nothing
    /// changed.
    pub async fn change_app(
        &self,
        client_id: &str,
        change: impl FnOnce(&mut App) -> Result<(), AppChangeError>,
        registry: &AppRegistry,
    ) -> Result<Result<App, AppChangeError>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let Some(Json(mut app)) = lock_app(&mut tx, client_id).await? else {
            return Ok(Err(AppChangeError::NotFound));
        };
        if let Err(refused) = change(&mut app) {
            return Ok(Err(refused));
        }
        let version = store(&mut tx, &app, false).await?;
        tx.commit().await?;
        self.sync_apps(registry).await?;
        self.wait_for_replicas("apps_version", version).await;
        Ok(Ok(app))
    }

    /// Deletes an app its owner asked to delete (docs/developer-accounts.md#deleting-an-app):
    /// marks it deleted under a new version and revokes every code and token issued to it, in
    /// one transaction; returns once every live replica has forgotten the app and applied the
    /// revocation.
    pub async fn delete_app(
        &self,
        client_id: &str,
        owner: &DeveloperId,
        registry: &AppRegistry,
        grants: &Grants,
    ) -> Result<Result<App, AppChangeError>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let app = match lock_app(&mut tx, client_id).await? {
            Some(Json(app)) if app.is_owned_by(owner) => app,
            _ => return Ok(Err(AppChangeError::NotFound)),
        };
        let version = store(&mut tx, &app, true).await?;
        let revocation = self.revoke_client_in(&mut tx, &app.client_id).await?;
        tx.commit().await?;
        self.sync_apps(registry).await?;
        self.wait_for_replicas("apps_version", version).await;
        grants.revoke_client(&app.client_id);
        self.settle_revocation(grants, revocation).await;
        Ok(Ok(app))
    }
}

/// The app's row, locked until the transaction ends; a deleted app is not found.
async fn lock_app(
    tx: &mut Transaction<'static, Postgres>,
    client_id: &str,
) -> Result<Option<Json<App>>, sqlx::Error> {
    sqlx::query_scalar("SELECT app FROM apps WHERE client_id = $1 AND NOT deleted FOR UPDATE")
        .bind(client_id)
        .fetch_optional(&mut **tx)
        .await
}

/// Writes an app's row under a new version (deleted or not) and announces it.
async fn store(
    tx: &mut Transaction<'static, Postgres>,
    app: &App,
    deleted: bool,
) -> Result<i64, sqlx::Error> {
    Database::announce_in_order(tx, "apps").await?;
    let version: i64 = sqlx::query_scalar(
        "UPDATE apps SET app = $2, deleted = $3, version = nextval(pg_get_serial_sequence('apps', 'version'))
         WHERE client_id = $1 RETURNING version",
    )
    .bind(app.client_id.as_str())
    .bind(Json(app))
    .bind(deleted)
    .fetch_one(&mut **tx)
    .await?;
    Database::notify(tx, CHANNEL, version).await?;
    Ok(version)
}
