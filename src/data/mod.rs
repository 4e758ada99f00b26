//! The data the sandbox serves (SPEC §8): the embedded `seed-data/` or a user's `--data DIR`,
//! loaded once at start-up, checked, and turned into the list of test members.

mod loader;
mod members;
mod validate;

pub use loader::{DataSource, LoadError, load};
pub use members::{Member, Members};

use serde_json::Value;

/// Everything loaded and checked: the resources to serve and the warnings to print at start-up.
#[derive(Debug, Default)]
pub struct Dataset {
    pub resources: Vec<Value>,
    pub warnings: Vec<String>,
}
