//! A plan's rate limit counted across every replica (docs/hosted.md#rate-limits;
//! docs/plans.md#behaviour-profiles): with each replica counting alone, a client would get the
//! limit once per replica. Each request of a plan with a limit adds one to its token's count for
//! its second of the sandbox clock, in one statement (an upsert, atomic under concurrency), and
//! the count it returns decides; requests of plans without a limit never come here. Seconds that
//! have passed are swept at the heartbeat.

use super::Database;
use crate::ids::TokenTag;

/// Counts of seconds this far behind the sandbox clock's now are deleted at the heartbeat.
const KEEP_SECONDS: i64 = 60;

impl Database {
    /// Counts one request of `token` in `second` (Unix seconds of the sandbox clock): how many
    /// there have been in that second, on every replica, this one included.
    pub async fn count_request(&self, token: TokenTag, second: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO rate_counts (token_tag, second, n) VALUES ($1, $2, 1)
             ON CONFLICT (token_tag, second) DO UPDATE SET n = rate_counts.n + 1
             RETURNING n",
        )
        .bind(tag_key(token))
        .bind(second)
        .fetch_one(&self.pool)
        .await
    }

    /// Deletes the counts of seconds long past (at the heartbeat).
    pub async fn sweep_rate_counts(&self, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM rate_counts WHERE second < $1")
            .bind(now.saturating_sub(KEEP_SECONDS))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The clock went back to `now` (`clock/reset`): the counts of seconds after it were counted
    /// before the move, and must not count again when the clock comes back to them.
    pub async fn forget_rate_counts_after(&self, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM rate_counts WHERE second > $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// `reset`: every count goes.
    pub async fn clear_rate_counts(&self) -> Result<(), sqlx::Error> {
        sqlx::query("TRUNCATE rate_counts")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The token's tag as the database keys it: its 64 bits as a signed bigint.
fn tag_key(token: TokenTag) -> i64 {
    i64::from_be_bytes(token.bits().to_be_bytes())
}
