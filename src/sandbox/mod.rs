//! The contract-testing tools' core (docs/sandbox-tools.md): the endpoints requests are aimed
//! at, injected faults, the request log and the clock's moves, the report of a client's
//! behaviour computed from that log, and the timeline that pictures it. No HTTP types here: the
//! HTTP layer hands in plain facts about each request (its endpoint, method, client), with `now`
//! from the sandbox clock.

pub mod clock_moves;
pub mod endpoint;
pub mod faults;
pub mod interaction;
pub mod rate_limit;
pub mod report;
pub mod report_junit;
pub mod request_log;
pub mod timeline;

use clock_moves::{ClockMove, ClockMoves};
use faults::Faults;
use request_log::RequestLog;
use time::OffsetDateTime;

/// What the control API adds to a running sandbox. `POST /sandbox/api/reset` clears it all.
#[derive(Debug)]
pub struct Tools {
    pub faults: Faults,
    pub requests: RequestLog,
    pub clock_moves: ClockMoves,
}

impl Tools {
    pub fn new(request_log_size: usize) -> Self {
        Self {
            faults: Faults::default(),
            requests: RequestLog::new(request_log_size),
            clock_moves: ClockMoves::default(),
        }
    }

    /// Notes that the sandbox clock moved by `seconds` and now reads `now`, after the newest
    /// logged request.
    pub fn clock_moved(&self, now: OffsetDateTime, seconds: i64, to_wall_clock: bool) {
        let after_seq = self.requests.last_seq();
        self.clock_moves
            .record(ClockMove::new(after_seq, now, seconds, to_wall_clock));
    }

    pub fn reset(&self) {
        self.faults.clear();
        self.requests.clear();
        self.clock_moves.clear();
    }
}
