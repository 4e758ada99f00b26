//! Waiting for hosted mode's database on a request path (docs/hosted.md#when-the-database-is-gone):
//! a page or form waits at most a bounded time for its call, and a call that failed or did not
//! answer becomes `Unavailable`, which the endpoint answers 503 in its own format. The cause goes
//! to the server log, never to the answer.

use std::time::Duration;

/// The longest a page waits for the database before it says it is unavailable (the readiness
/// check's wait): a person waits no longer than that for a page.
pub const DATABASE_WAIT: Duration = Duration::from_secs(2);

/// The database did not answer (the server log says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the database does not answer")]
pub struct Unavailable;

/// Waits for a database call, at most `DATABASE_WAIT`; a failure is logged (with `what` was
/// being done) and becomes `Unavailable`.
pub async fn answered<T>(
    what: &str,
    call: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, Unavailable> {
    answered_within(DATABASE_WAIT, what, call).await
}

/// `answered`, waiting at most `wait`.
pub async fn answered_within<T>(
    wait: Duration,
    what: &str,
    call: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, Unavailable> {
    match tokio::time::timeout(wait, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => {
            tracing::error!("{what}: the database: {e}");
            Err(Unavailable)
        }
        Err(_) => {
            tracing::error!("{what}: no answer from the database within {wait:?}");
            Err(Unavailable)
        }
    }
}
