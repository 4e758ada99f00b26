//! A plan's rate limit (docs/plans.md#behaviour-profiles): at most N FHIR requests per access
//! token in one second of the sandbox clock; more are refused with 429 and `Retry-After`, as
//! payers behind API gateways do. Counting in whole seconds of the sandbox clock keeps tests
//! deterministic: a frozen clock stays in one window until a test moves it.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::ids::TokenTag;

/// Above this many tracked tokens, windows that have passed are dropped.
const SWEEP_ABOVE: usize = 4096;

/// The current window of each token: its second and the requests counted in it.
#[derive(Default)]
pub struct RateLimits {
    windows: Mutex<HashMap<TokenTag, (i64, u32)>>,
}

/// What the limit says of one more request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    /// Refused: retry after this many seconds.
    Limited {
        retry_after: u64,
    },
}

impl RateLimits {
    /// Counts a request of `token` at `second` (Unix seconds of the sandbox clock) against
    /// `limit` per second.
    pub fn check(&self, token: TokenTag, second: i64, limit: u32) -> RateDecision {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (at, _)| *at >= second);
        }
        let window = windows.entry(token).or_insert((second, 0));
        if window.0 != second {
            *window = (second, 0);
        }
        if window.1 >= limit {
            return RateDecision::Limited { retry_after: 1 };
        }
        window.1 += 1;
        RateDecision::Allowed
    }

    pub fn clear(&self) {
        self.windows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// What the limit says of a request that is the `counted`th of its token in its second (hosted
/// mode counts in the database, docs/hosted.md#rate-limits): as `check` decides.
pub fn decide(counted: i64, limit: u32) -> RateDecision {
    if counted > i64::from(limit) {
        RateDecision::Limited { retry_after: 1 }
    } else {
        RateDecision::Allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_per_second_then_limited_until_the_next_second() {
        let limits = RateLimits::default();
        let token = TokenTag::of("t");
        for _ in 0..3 {
            assert_eq!(limits.check(token, 100, 3), RateDecision::Allowed);
        }
        assert_eq!(
            limits.check(token, 100, 3),
            RateDecision::Limited { retry_after: 1 }
        );
        assert_eq!(
            limits.check(TokenTag::of("other"), 100, 3),
            RateDecision::Allowed,
            "per token"
        );
        assert_eq!(limits.check(token, 101, 3), RateDecision::Allowed);
    }

    #[test]
    fn a_count_decides_as_the_window_does() {
        assert_eq!(decide(1, 3), RateDecision::Allowed);
        assert_eq!(decide(3, 3), RateDecision::Allowed);
        assert_eq!(decide(4, 3), RateDecision::Limited { retry_after: 1 });
    }
}
