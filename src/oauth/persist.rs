//! `--state-dir` persistence of what a person would hate to lose: registered apps, member
//! email links and developer accounts. Every save writes the whole state to a temporary file,
//! fsyncs it, renames it over `state.json` and fsyncs the directory, so a crash or SIGKILL at any
//! instant leaves either the old or the new state on disk, never a torn one.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::apps::App;

const STATE_FILE: &str = "state.json";
const TEMP_PREFIX: &str = ".state.json.tmp-";

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PersistedState {
    #[serde(default)]
    pub apps: Vec<App>,
    /// Verified email (lowercase) → member ID.
    #[serde(default)]
    pub email_links: BTreeMap<String, String>,
    /// Verified email → the RelatedPerson id of a personal representative's account (the
    /// member is in `email_links`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub representatives: BTreeMap<String, String>,
    /// The other plans' email links, by plan id (docs/plans.md): the fields above are the
    /// default plan's, as they were before there were plans.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub plans: BTreeMap<String, PlanLinks>,
    /// Developer accounts (docs/developer-accounts.md), in the shape their module gives: it is a
    /// layer above this one, so the section is its JSON, read back by it.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub developers: serde_json::Value,
}

/// A part of the saved state kept by a layer above the authorization server (developer
/// accounts): asked for its snapshot at every save, so that one atomic write holds everything.
pub trait Section: Send + Sync {
    fn snapshot(&self) -> serde_json::Value;
}

/// One plan's email links.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlanLinks {
    #[serde(default)]
    pub email_links: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub representatives: BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct Persister {
    dir: Option<PathBuf>,
    /// Serialises writers; each takes its snapshot inside the lock, so the last write is newest.
    lock: Mutex<()>,
}

/// Why the state directory could not be opened or saved.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("state dir {dir}: cannot create: {source}")]
    Create { dir: String, source: std::io::Error },
    #[error("{path}: not a payer-sandbox state file: {source}")]
    NotAStateFile {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("state dir {dir}: not writable: {source}")]
    NotWritable { dir: String, source: std::io::Error },
    #[error("could not save the state directory: {0}")]
    Save(std::io::Error),
}

impl Persister {
    pub fn in_memory() -> Self {
        Self {
            dir: None,
            lock: Mutex::new(()),
        }
    }

    /// Opens (creating) the state directory, proves it writable, removes temporary files a
    /// crash left behind, and reads the saved state.
    pub fn open(dir: &Path) -> Result<(Self, PersistedState), PersistError> {
        let shown = dir.display().to_string();
        fs::create_dir_all(dir).map_err(|source| PersistError::Create {
            dir: shown.clone(),
            source,
        })?;
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        let path = dir.join(STATE_FILE);
        let state = match fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| PersistError::NotAStateFile {
                    path: path.display().to_string(),
                    source,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => PersistedState::default(),
            Err(source) => {
                return Err(PersistError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let persister = Self {
            dir: Some(dir.to_owned()),
            lock: Mutex::new(()),
        };
        persister
            .write_file(&state)
            .map_err(|source| PersistError::NotWritable { dir: shown, source })?;
        Ok((persister, state))
    }

    /// Saves the snapshot `take` returns; a no-op without a state directory.
    pub fn save(&self, take: impl FnOnce() -> PersistedState) -> Result<(), PersistError> {
        if self.dir.is_none() {
            return Ok(());
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let state = take();
        self.write_file(&state).map_err(|e| {
            let error = PersistError::Save(e);
            tracing::error!("{error}");
            error
        })
    }

    fn write_file(&self, state: &PersistedState) -> std::io::Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
        let temp = dir.join(format!("{TEMP_PREFIX}{}", super::random::hex128()));
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            fs::rename(&temp, dir.join(STATE_FILE))?;
            // The rename is durable only once the directory entry is.
            File::open(dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "payer-sandbox-{name}-{}",
            super::super::random::hex128()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn round_trip_and_leftover_temp_files() {
        let dir = temp_dir("persist");
        fs::write(dir.join(format!("{TEMP_PREFIX}junk")), b"{half").unwrap();
        let (p, state) = Persister::open(&dir).unwrap();
        assert_eq!(state, PersistedState::default());
        let mut saved = PersistedState::default();
        saved.email_links.insert("a@b.example".into(), "M1".into());
        p.save(|| saved.clone()).unwrap();
        let (_, loaded) = Persister::open(&dir).unwrap();
        assert_eq!(loaded, saved);
        let leftovers = fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "only state.json remains");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn corrupt_state_is_a_clear_error() {
        let dir = temp_dir("corrupt");
        fs::write(dir.join(STATE_FILE), b"{not json").unwrap();
        let err = Persister::open(&dir).unwrap_err().to_string();
        assert!(
            err.contains("state.json: not a payer-sandbox state file"),
            "{err}"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
