//! Portal sessions (docs/developer-accounts.md#sessions): a session id of 128 random bits that
//! the browser holds in a cookie, and on the server what it stands for: the developer, the
//! session's anti-CSRF token and when it ends (12 hours after sign-in, on the sandbox clock).
//! The server keeps only the SHA-256 of each id, so its memory or a saved copy cannot be
//! replayed as a cookie. Signing out deletes the session.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::clock::UnixTime;
use crate::ids::DeveloperId;
use crate::oauth::random::hex128;
use crate::oauth::secret::Secret;

pub const LIFETIME_SECS: i64 = 12 * 3600;
/// Live sessions at once: past this, ended ones are swept, then the oldest go.
const MAX_SESSIONS: usize = 100_000;

#[derive(Debug, Clone)]
pub struct Session {
    pub developer: DeveloperId,
    /// The token every form of the session carries (docs/developer-accounts.md#csrf).
    pub csrf: Secret,
    pub started_at: UnixTime,
}

/// A session just started: the id for the cookie, shown once, and the session.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Secret,
    pub session: Session,
}

#[derive(Debug, Default)]
pub struct Sessions {
    by_hash: Mutex<HashMap<String, Session>>,
}

/// What the server keeps of a session id: its SHA-256, in hex.
pub fn key(id: &str) -> String {
    format!("{:x}", Sha256::digest(id.as_bytes()))
}

impl Session {
    /// Whether the session still lives at `now` (12 hours from sign-in).
    pub fn is_live(&self, now: UnixTime) -> bool {
        now.since(self.started_at) < LIFETIME_SECS
    }
}

impl NewSession {
    /// A session for `developer` with a fresh id and anti-CSRF token.
    pub fn new(developer: DeveloperId, now: UnixTime) -> Self {
        NewSession {
            id: Secret::new(hex128()),
            session: Session {
                developer,
                csrf: Secret::new(hex128()),
                started_at: now,
            },
        }
    }
}

impl Sessions {
    pub fn start(&self, developer: DeveloperId, now: UnixTime) -> NewSession {
        let new = NewSession::new(developer, now);
        let mut sessions = self.by_hash.lock().unwrap_or_else(|p| p.into_inner());
        if sessions.len() >= MAX_SESSIONS {
            sessions.retain(|_, s| s.is_live(now));
            if sessions.len() >= MAX_SESSIONS {
                let oldest = sessions
                    .iter()
                    .min_by_key(|(_, s)| s.started_at)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    sessions.remove(&oldest);
                }
            }
        }
        sessions.insert(key(new.id.expose()), new.session.clone());
        new
    }

    /// The live session the cookie's id names; an ended one is forgotten.
    pub fn get(&self, id: &str, now: UnixTime) -> Option<Session> {
        let key = key(id);
        let mut sessions = self.by_hash.lock().unwrap_or_else(|p| p.into_inner());
        let session = sessions.get(&key)?;
        if !session.is_live(now) {
            sessions.remove(&key);
            return None;
        }
        Some(session.clone())
    }

    /// Sign-out: the id stops working at once.
    pub fn end(&self, id: &str) {
        self.by_hash
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> UnixTime {
        UnixTime::from_seconds(seconds)
    }

    #[test]
    fn a_session_lives_twelve_hours_or_until_it_ends() {
        let sessions = Sessions::default();
        let new = sessions.start("dev".into(), t(0));
        let id = new.id.expose().to_owned();
        assert_eq!(id.len(), 32);
        let found = sessions.get(&id, t(LIFETIME_SECS - 1)).unwrap();
        assert_eq!(found.developer, "dev");
        assert_eq!(found.csrf, new.session.csrf);
        assert!(sessions.get(&id, t(LIFETIME_SECS)).is_none());
        let other = sessions.start("dev".into(), t(0));
        sessions.end(other.id.expose());
        assert!(sessions.get(other.id.expose(), t(1)).is_none());
        assert!(sessions.get("made-up", t(1)).is_none());
        assert!(
            !sessions.by_hash.lock().unwrap().keys().any(|k| k == &id),
            "only hashes are kept"
        );
    }
}
