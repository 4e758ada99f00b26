//! The data the sandbox serves (SPEC §8): the embedded `seed-data/` or a user's `--data DIR`,
//! loaded once at start-up, checked, indexed into the FHIR store and turned into the list of
//! test members.

mod loader;
mod members;
mod parse;
mod sources;
mod validate;

pub use loader::{DataSource, LoadError, load, resources};
pub use members::{Member, Members};

use crate::fhir::Store;

/// Everything loaded and checked: the store to serve, the test members, and the warnings to
/// print at start-up.
#[derive(Debug, Default)]
pub struct Dataset {
    pub store: Store,
    pub members: Members,
    pub warnings: Vec<String>,
}
