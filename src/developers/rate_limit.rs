//! The sign-in limit (docs/developer-accounts.md#signing-in): at most 5 failed sign-ins per
//! account (email) in any 15 minutes of the sandbox clock; past that every sign-in to it is
//! refused, the right password too, until the oldest failure is 15 minutes old. Counted per
//! email whether or not an account has it, so the limit does not tell which emails do.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;

pub const MAX_FAILURES: usize = 5;
pub const WINDOW_SECS: i64 = 15 * 60;
/// Emails tracked at once: past this, those with no failure in the window are forgotten.
const MAX_TRACKED: usize = 100_000;

/// One email's failed sign-ins in the window, oldest first: in memory here, or in hosted mode a
/// database row (docs/hosted.md#developer-accounts), where `attempt` runs under its row lock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Failures(VecDeque<UnixTime>);

impl Failures {
    /// Asks to try a sign-in now, counting it as a failure until it succeeds: parallel guesses
    /// are counted before any is checked, so none slips past the limit.
    pub fn attempt(&mut self, now: UnixTime) -> Attempt {
        self.forget_old(now);
        if self.0.len() >= MAX_FAILURES {
            let oldest = self.0.front().copied().unwrap_or(now);
            return Attempt::Limited {
                retry_after: (WINDOW_SECS - now.since(oldest)).max(1),
            };
        }
        self.0.push_back(now);
        Attempt::Allowed
    }

    fn forget_old(&mut self, now: UnixTime) {
        while self
            .0
            .front()
            .is_some_and(|at| now.since(*at) >= WINDOW_SECS)
        {
            self.0.pop_front();
        }
    }

    /// Whether a failure is still in the window.
    fn any_since(&self, now: UnixTime) -> bool {
        self.0.back().is_some_and(|at| now.since(*at) < WINDOW_SECS)
    }
}

#[derive(Debug, Default)]
pub struct SignInFailures {
    by_email: Mutex<HashMap<String, Failures>>,
}

/// Whether a sign-in may be tried now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead: the attempt is already counted as a failure, and `succeeded` forgives it.
    Allowed,
    /// Refused: this many seconds until the oldest failure leaves the window.
    Limited { retry_after: i64 },
}

impl SignInFailures {
    /// Asks to try a sign-in to `email` (`Failures::attempt`).
    pub fn attempt(&self, email: &str, now: UnixTime) -> Attempt {
        let mut by_email = self.by_email.lock().unwrap_or_else(|p| p.into_inner());
        if by_email.len() >= MAX_TRACKED {
            by_email.retain(|_, failures| failures.any_since(now));
        }
        by_email.entry(email.to_owned()).or_default().attempt(now)
    }

    /// A sign-in to `email` succeeded: its failures are forgotten.
    pub fn succeeded(&self, email: &str) {
        self.by_email
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(email);
    }

    pub fn clear(&self) {
        self.by_email
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> UnixTime {
        UnixTime::from_seconds(seconds)
    }

    #[test]
    fn five_failures_in_fifteen_minutes_lock_the_email_until_the_oldest_ages_out() {
        let failures = SignInFailures::default();
        for i in 0..5 {
            assert_eq!(failures.attempt("a@x.example", t(i * 60)), Attempt::Allowed);
        }
        assert_eq!(
            failures.attempt("a@x.example", t(300)),
            Attempt::Limited { retry_after: 600 }
        );
        assert_eq!(
            failures.attempt("b@x.example", t(300)),
            Attempt::Allowed,
            "per email"
        );
        assert_eq!(failures.attempt("a@x.example", t(900)), Attempt::Allowed);
        failures.succeeded("a@x.example");
        for _ in 0..5 {
            assert_eq!(failures.attempt("a@x.example", t(901)), Attempt::Allowed);
        }
        assert!(matches!(
            failures.attempt("a@x.example", t(901)),
            Attempt::Limited { .. }
        ));
    }
}
