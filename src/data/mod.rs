//! The data the sandbox serves (docs/data.md): the embedded `seed-data/` or a user's `--data DIR`,
//! loaded once at start-up, checked, indexed into the FHIR store and turned into the list of
//! test members.

mod loader;
mod members;
mod parse;
mod sources;
pub mod timeline;
mod unlink;
mod validate;

pub use loader::{DataSource, LoadError, load, load_public, load_with, resources};
pub use members::{Member, Members, Representative};
pub use sources::{embedded_file, release_embedded};

use std::sync::Arc;

use crate::fhir::Store;

/// Everything loaded and checked: the store to serve, the test members, and the warnings to
/// print at start-up. Cheap to clone, so that one load can serve several servers (the
/// integration tests load the embedded data once for all of them).
#[derive(Debug, Default, Clone)]
pub struct Dataset {
    pub store: Arc<Store>,
    /// Changes scheduled on the sandbox clock (docs/data.md#timeline-format).
    pub timeline: Vec<timeline::Scheduled>,
    pub members: Arc<Members>,
    pub warnings: Vec<String>,
}
