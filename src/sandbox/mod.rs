//! The contract-testing tools' core (docs/sandbox-tools.md): the endpoints requests are aimed
//! at, injected faults, the request log, and the report of a client's behaviour computed from
//! that log. No HTTP types here: the HTTP layer hands in plain facts about each request (its
//! endpoint, method, client), with `now` from the sandbox clock.

pub mod endpoint;
pub mod faults;
pub mod interaction;
pub mod report;
pub mod report_junit;
pub mod request_log;

use faults::Faults;
use request_log::RequestLog;

/// What the control API adds to a running sandbox. `POST /sandbox/api/reset` clears both.
#[derive(Debug)]
pub struct Tools {
    pub faults: Faults,
    pub requests: RequestLog,
}

impl Tools {
    pub fn new(request_log_size: usize) -> Self {
        Self {
            faults: Faults::default(),
            requests: RequestLog::new(request_log_size),
        }
    }

    pub fn reset(&self) {
        self.faults.clear();
        self.requests.clear();
    }
}
