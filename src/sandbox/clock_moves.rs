//! The moves of the sandbox clock (`clock/advance`, `clock/reset` and the sandbox page's
//! buttons), kept so that a client's timeline can show them among its requests: the control API
//! is the harness, so its requests are not in the request log, yet a move explains what follows
//! it (an expired token, a 401). Bounded, and emptied by a reset like the log.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use time::OffsetDateTime;

use super::request_log::{log_millis, log_time};

/// A long soak that moves the clock often keeps only the newest moves.
pub const MAX_CLOCK_MOVES: usize = 200;

/// One move of the sandbox clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockMove {
    /// The `seq` of the newest logged request when the clock moved: the move comes after it.
    /// Ordered by this rather than by time, since a move back to the wall clock makes the
    /// sandbox clock's times go backwards.
    pub after_seq: u64,
    /// The sandbox clock's time just after the move, as the request log writes times.
    pub time: String,
    pub at_ms: i64,
    /// How far the clock moved: positive forward, negative back (to the wall clock).
    pub seconds: i64,
    /// A move back to the wall clock, rather than an advance.
    pub to_wall_clock: bool,
}

impl ClockMove {
    pub fn new(after_seq: u64, now: OffsetDateTime, seconds: i64, to_wall_clock: bool) -> Self {
        Self {
            after_seq,
            time: log_time(now),
            at_ms: log_millis(now),
            seconds,
            to_wall_clock,
        }
    }
}

#[derive(Debug, Default)]
pub struct ClockMoves {
    moves: Mutex<VecDeque<ClockMove>>,
}

impl ClockMoves {
    fn lock(&self) -> MutexGuard<'_, VecDeque<ClockMove>> {
        self.moves.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps a move, dropping the oldest beyond the bound. A move of zero seconds (an advance
    /// by 0, a reset of a clock that was not ahead) changed nothing and is not kept.
    pub fn record(&self, moved: ClockMove) {
        if moved.seconds == 0 {
            return;
        }
        let mut moves = self.lock();
        moves.push_back(moved);
        while moves.len() > MAX_CLOCK_MOVES {
            moves.pop_front();
        }
    }

    /// Oldest first.
    pub fn all(&self) -> Vec<ClockMove> {
        self.lock().iter().cloned().collect()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn keeps_the_newest_moves_and_skips_empty_ones() {
        let moves = ClockMoves::default();
        moves.record(ClockMove::new(1, at(1_800_000_000), 0, true));
        assert!(
            moves.all().is_empty(),
            "a reset of a clock on the wall clock"
        );
        for i in 0..(MAX_CLOCK_MOVES as u64 + 5) {
            moves.record(ClockMove::new(i, at(1_800_000_000), 60, false));
        }
        let all = moves.all();
        assert_eq!(all.len(), MAX_CLOCK_MOVES);
        assert_eq!(all[0].after_seq, 5);
        assert_eq!(all[0].time, "2027-01-15T08:00:00.000Z");
        moves.clear();
        assert!(moves.all().is_empty());
    }
}
