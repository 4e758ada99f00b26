//! Hosted mode against a real PostgreSQL (docs/hosted.md). `tests/hosted/run.sh` starts the
//! database and runs these; a plain `cargo test` has no database, so the tests that need one are
//! ignored there. Each test works in a database of its own.

// Tests fail loudly; the production code's ban does not apply here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod changes;
mod developers;
mod faults;
mod foundation;
mod grants;
mod keys;
mod outage;
mod signin;
mod support;
