//! Hosted mode's database (docs/hosted.md): a PostgreSQL pool, the migrations embedded in the
//! binary and run at start-up, and the checks the readiness endpoint makes. sqlx's migrator
//! holds a PostgreSQL advisory lock while it runs, so that replicas starting together apply each
//! migration exactly once. Errors name the URL with its password replaced by `***`: a start-up
//! message lands in logs.

pub mod apps;
pub mod clock;
pub mod data_changes;
pub mod developers;
pub mod faults;
pub mod grants;
pub mod keys;
pub mod rate_limits;
pub mod request_log;
pub mod signin;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// How long a replica waits for the database at start-up before it gives up, and how long a
/// readiness check waits.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READY_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a request waits for a connection: long enough to ride out a burst that holds
/// every connection, short enough that with the database gone a request gets its 503 quickly.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// A replica not heard from for this long is not waited for.
const LIVE_SECONDS: i32 = 20;
/// The longest a shared change waits for the other replicas to apply it.
const PROPAGATION: Duration = Duration::from_secs(3);

/// At most this many connections per replica.
const MAX_CONNECTIONS: u32 = 16;

/// Why the database could not be used at start-up.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("--database {url}: {problem}")]
    Unusable { url: String, problem: String },
}

/// The database did not answer while serving: the caller answers 503 (the server log says why).
#[derive(Debug, thiserror::Error)]
#[error("the database did not answer: {0}")]
pub struct Unavailable(#[from] pub sqlx::Error);

/// A record that could not be written as JSON, as the database call's error.
pub(super) fn json_error(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(e))
}

/// The shared database of every replica.
#[derive(Clone)]
pub struct Database {
    pool: PgPool,
    /// The URL, password redacted, for messages.
    shown: String,
    /// This replica's row in `replicas`.
    replica: String,
    applied: Arc<clock::Applied>,
    /// The newest app version applied here. Held across a whole `sync_apps` (read, then apply),
    /// so that two syncs of one replica (its own change, an announcement, the heartbeat) take
    /// turns: otherwise a slower one could apply an older version of an app over a newer one.
    apps_applied: Arc<tokio::sync::Mutex<i64>>,
    /// The revocations this replica has applied to its token cache.
    grants_sync: Arc<grants::GrantsSync>,
    /// One request-log flush at a time on this replica.
    flushing: Arc<request_log::Flushing>,
    /// The made data changes this replica has applied.
    changes_sync: Arc<data_changes::ChangesSync>,
    /// The version of the signing keys this replica has applied.
    keys_sync: Arc<keys::KeysSync>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

/// The URL with its password, if any, replaced by `***`.
pub fn redact(url: &str) -> String {
    // Only a URL with a host can be shown: in anything else a password could hide anywhere.
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.has_host() => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        _ => "(an unparsable URL)".to_owned(),
    }
}

impl Database {
    /// Connects, runs the embedded migrations (under an advisory lock) and registers this replica.
    pub async fn open(url: &str, replica: &str) -> Result<Database, DbError> {
        let shown = redact(url);
        let fail = |problem: String| DbError::Unusable {
            url: shown.clone(),
            problem,
        };
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| fail(format!("not a PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        // At start-up the database may still be coming up: keep trying for a while.
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            match pool.acquire().await {
                Ok(_) => break,
                Err(e) if Instant::now() >= deadline => {
                    return Err(fail(format!("cannot connect: {e}")));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| fail(format!("migrations failed: {e}")))?;
        sqlx::query(
            "INSERT INTO replicas (id, version) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET seen_at = now(), version = EXCLUDED.version",
        )
        .bind(replica)
        .bind(env!("CARGO_PKG_VERSION"))
        .execute(&pool)
        .await
        .map_err(|e| fail(format!("cannot register the replica: {e}")))?;
        Ok(Database {
            pool,
            shown,
            replica: replica.to_owned(),
            applied: Arc::default(),
            apps_applied: Arc::default(),
            grants_sync: Arc::default(),
            flushing: Arc::default(),
            changes_sync: Arc::default(),
            keys_sync: Arc::default(),
        })
    }

    /// Whether the database answers now (the readiness endpoint's check).
    pub async fn ready(&self) -> Result<(), String> {
        let check = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(READY_TIMEOUT, check).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} s", READY_TIMEOUT.as_secs())),
        }
    }

    /// The URL, password redacted.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Serialises this transaction with every other that announces a change of `what`: taken
    /// before a change's version is drawn, held until commit, so that versions commit in the
    /// order they are drawn and a replica that has loaded version N never misses a smaller one
    /// committed later.
    pub(super) async fn announce_in_order(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        what: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("payer-sandbox {what}"))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Announces version `version` of what `channel` carries (`LISTEN/NOTIFY`): the replicas
    /// listening hear it when `tx` commits, and not before.
    pub(super) async fn notify(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        channel: &str,
        version: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(version.to_string())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Records in `replicas` that this replica has applied `version` of what `column` counts
    /// (and that it is alive), for the replica that made the change and waits for the others.
    pub(super) async fn record_applied(
        &self,
        column: &'static str,
        version: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(
            "UPDATE replicas SET {column} = GREATEST({column}, $1), seen_at = now() WHERE id = $2"
        ))
        .bind(version)
        .bind(&self.replica)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Waits, at most `PROPAGATION`, until no live replica's `column` (the version of what it
    /// has applied: `clock_version`, `apps_version`, `faults_version`, `keys_version`; for the request log,
    /// `request_log_version`, the newest reader it has flushed for) is behind `version`.
    pub(super) async fn wait_for_replicas(&self, column: &'static str, version: i64) {
        let deadline = Instant::now() + PROPAGATION;
        let query = format!(
            "SELECT count(*) FROM replicas WHERE {column} < $1
             AND seen_at > now() - make_interval(secs => $2)"
        );
        while Instant::now() < deadline {
            let behind: Result<i64, _> = sqlx::query_scalar(&query)
                .bind(version)
                .bind(f64::from(LIVE_SECONDS))
                .fetch_one(&self.pool)
                .await;
            if behind.is_ok_and(|n| n == 0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tracing::warn!(
            "a change ({column}) was not applied by every replica within {PROPAGATION:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(
            redact("postgres://sandbox:s3cret@db.example:5432/payer"),
            "postgres://sandbox:***@db.example:5432/payer"
        );
        assert_eq!(
            redact("postgres://db.example/payer"),
            "postgres://db.example/payer"
        );
        assert_eq!(redact("u:s3cret@db"), "(an unparsable URL)");
    }
}
