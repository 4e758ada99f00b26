//! The one source of "now" for everything that expires: authorization codes, tokens, email
//! verification attempts. The sandbox clock is the wall clock (or, for tests that build the
//! server with `startup::Dependencies`, a frozen instant) plus an offset that tests and
//! `POST /sandbox/api/clock/advance` move forward, so expiry is tested without sleeping. Each
//! request reads it once (`http::request_context`).

use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// An instant on the sandbox clock, in whole seconds since the Unix epoch: when something was
/// issued, when it expires, and the `now` it is compared with. A type of its own so that an
/// instant cannot be passed where a duration or a count is meant. Serialises as the number
/// (JWT `iat`/`exp`, RFC 7662 introspection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixTime(i64);

impl UnixTime {
    pub const fn from_seconds(seconds: i64) -> Self {
        Self(seconds)
    }

    pub const fn seconds(self) -> i64 {
        self.0
    }

    /// How many seconds after `earlier` this is (negative when before it).
    pub const fn since(self, earlier: UnixTime) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// `seconds` later (saturating: a lifetime can never wrap around).
    pub const fn plus(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// The UTC calendar date, as `(year, month, day)`: what an age is counted against.
    pub fn utc_date(self) -> (i32, u8, u8) {
        let at = OffsetDateTime::from_unix_timestamp(self.0).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        (at.year(), u8::from(at.month()), at.day())
    }
}

impl From<OffsetDateTime> for UnixTime {
    fn from(at: OffsetDateTime) -> Self {
        Self(at.unix_timestamp())
    }
}

/// The sandbox clock and real time, read together (`Clock::read`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub sandbox: OffsetDateTime,
    pub real: OffsetDateTime,
}

#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
    /// A clock that does not follow the wall clock: it reads this instant (plus the offset).
    frozen_at: Option<OffsetDateTime>,
}

impl Clock {
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock stopped at `at`: only `advance` moves it, so a test's timestamps are exact.
    pub fn frozen(at: OffsetDateTime) -> Self {
        Self {
            offset_seconds: AtomicI64::new(0),
            frozen_at: Some(at),
        }
    }

    /// The sandbox's current time, UTC.
    pub fn now(&self) -> OffsetDateTime {
        self.read().sandbox
    }

    /// One reading of the clock: the sandbox's time and real time (the wall clock, or the
    /// frozen instant, without the advance), from the same offset. Real time is what a client's
    /// own timestamps are compared with (docs/apps.md#asymmetric-client-authentication).
    #[allow(clippy::disallowed_methods)] // the single permitted read of the wall clock
    pub fn read(&self) -> Reading {
        let real = self.frozen_at.unwrap_or_else(OffsetDateTime::now_utc);
        Reading {
            sandbox: real + Duration::seconds(self.offset()),
            real,
        }
    }

    /// The sandbox's current time as seconds since the Unix epoch.
    pub fn now_unix(&self) -> UnixTime {
        self.now().into()
    }

    /// How far the sandbox clock runs ahead of the wall clock.
    pub fn offset(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }

    /// Moves the clock forward: only forward, so that nothing issued can become "not yet valid"
    /// (`reset` goes back to the start). Saturates instead of overflowing.
    pub fn advance(&self, seconds: u64) -> i64 {
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
        let mut current = self.offset();
        loop {
            let next = current
                .saturating_add(seconds)
                .clamp(-MAX_OFFSET, MAX_OFFSET);
            match self.offset_seconds.compare_exchange(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(actual) => current = actual,
            }
        }
    }

    /// Back to the wall clock (or the frozen instant); returns the offset it had.
    pub fn reset(&self) -> i64 {
        self.offset_seconds.swap(0, Ordering::Relaxed)
    }

    /// Takes the offset another replica set (hosted mode, docs/hosted.md#the-sandbox-clock),
    /// within the same bounds as `advance`.
    pub fn set_offset(&self, offset: i64) {
        self.offset_seconds
            .store(offset.clamp(-MAX_OFFSET, MAX_OFFSET), Ordering::Relaxed);
    }
}

/// About 100 years: far enough for any expiry test, near enough that date arithmetic never overflows.
pub const MAX_OFFSET: i64 = 100 * 366 * 24 * 3600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now_and_reset_restores_it() {
        let clock = Clock::new();
        let before = clock.now_unix();
        assert_eq!(clock.advance(301), 301);
        assert!(clock.now_unix() >= before.plus(301));
        clock.reset();
        assert!(clock.now_unix() < before.plus(301));
    }

    #[test]
    fn a_frozen_clock_moves_only_when_advanced() {
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let clock = Clock::frozen(at);
        assert_eq!(clock.now(), at);
        assert_eq!(clock.now(), at);
        clock.advance(301);
        assert_eq!(clock.now_unix().seconds(), 1_800_000_301);
        clock.reset();
        assert_eq!(clock.now(), at);
    }

    #[test]
    fn one_reading_gives_sandbox_and_real_time_from_the_same_offset() {
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let clock = Clock::frozen(at);
        clock.advance(7200);
        let reading = clock.read();
        assert_eq!(reading.real, at);
        assert_eq!(reading.sandbox, at + Duration::seconds(7200));
    }

    #[test]
    fn advance_saturates() {
        let clock = Clock::new();
        clock.advance(u64::MAX);
        clock.advance(u64::MAX);
        assert_eq!(clock.offset(), MAX_OFFSET);
        let _ = clock.now();
    }
}
