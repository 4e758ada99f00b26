//! Sign-ups waiting for their email to be proved (docs/developer-accounts.md#signing-up): the
//! email, the password's hash and a 6-digit code sent to the sandbox outbox. The code works for
//! 10 minutes and 5 tries; then the sign-up is over and must start again. The password is hashed
//! before it is kept here, so a plain password lives no longer than its request. A sign-up is
//! bound to the browser that opened it (its form token): the sandbox outbox is readable by
//! anyone, so the code alone must not let another browser finish the sign-up and sign in.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::password::PasswordHash;
use crate::clock::UnixTime;
use crate::oauth::random::{hex128, six_digits};
use crate::oauth::secret::Secret;

pub const CODE_LIFETIME_SECS: i64 = 600;
pub const MAX_CODE_TRIES: u32 = 5;
/// Sign-ups waiting at once: past this, expired ones are swept, then the oldest go.
const MAX_PENDING: usize = 10_000;

/// A sign-up waiting for its code: kept in memory here, or in hosted mode in the database
/// (docs/hosted.md#developer-accounts), where its rules below run on the row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// The opening browser's form token: only it may see and finish the sign-up.
    browser: Secret,
    email: String,
    password: PasswordHash,
    code: Secret,
    sent_at: UnixTime,
    tries: u32,
}

/// A sign-up just opened: its id (the verification page's) and the code to send.
#[derive(Debug, Clone)]
pub struct Opened {
    pub id: String,
    pub code: Secret,
}

/// What an entered code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// The email is proved: the sign-up is over, the account may be made.
    Proved {
        email: String,
        password: PasswordHash,
    },
    /// Wrong: this many tries are left.
    Retry { tries_left: u32 },
    /// The sign-up is over without an account.
    Ended(Ended),
    /// No such sign-up (never opened, finished, or ended).
    Unknown,
}

impl CodeCheck {
    /// Whether the sign-up stays open after this check: only a wrong code with tries left
    /// keeps it; every other outcome ends it.
    pub fn keeps_it_open(&self) -> bool {
        matches!(self, CodeCheck::Retry { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Ended {
    #[error("the verification code expired after 10 minutes")]
    Expired,
    #[error("{MAX_CODE_TRIES} wrong verification codes")]
    TooManyTries,
}

impl Pending {
    /// A new sign-up of `email` in `browser`, with a fresh id and code.
    pub fn open(
        browser: &str,
        email: String,
        password: PasswordHash,
        now: UnixTime,
    ) -> (Opened, Pending) {
        let opened = Opened {
            id: hex128(),
            code: Secret::new(six_digits()),
        };
        let pending = Pending {
            browser: Secret::new(browser),
            email,
            password,
            code: opened.code.clone(),
            sent_at: now,
            tries: 0,
        };
        (opened, pending)
    }

    pub fn sent_at(&self) -> UnixTime {
        self.sent_at
    }

    pub fn opened_by(&self, browser: &str) -> bool {
        self.browser
            .expose()
            .as_bytes()
            .ct_eq(browser.as_bytes())
            .into()
    }

    /// The email it waits to prove, while its code still works, to the browser that opened it.
    pub fn email_for(&self, browser: &str, now: UnixTime) -> Option<String> {
        (self.opened_by(browser) && now.since(self.sent_at) < CODE_LIFETIME_SECS)
            .then(|| self.email.clone())
    }

    /// Checks a code entered in `browser`: another browser's sign-up is `Unknown` to it, and
    /// its tries do not count. The caller forgets the sign-up unless the answer
    /// `keeps_it_open`.
    pub fn check(&mut self, browser: &str, entered: &str, now: UnixTime) -> CodeCheck {
        if !self.opened_by(browser) {
            return CodeCheck::Unknown;
        }
        if now.since(self.sent_at) >= CODE_LIFETIME_SECS {
            return CodeCheck::Ended(Ended::Expired);
        }
        if !bool::from(
            self.code
                .expose()
                .as_bytes()
                .ct_eq(entered.trim().as_bytes()),
        ) {
            self.tries += 1;
            if self.tries >= MAX_CODE_TRIES {
                return CodeCheck::Ended(Ended::TooManyTries);
            }
            return CodeCheck::Retry {
                tries_left: MAX_CODE_TRIES - self.tries,
            };
        }
        CodeCheck::Proved {
            email: self.email.clone(),
            password: self.password.clone(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Signups {
    pending: Mutex<HashMap<String, Pending>>,
}

impl Signups {
    pub fn open(
        &self,
        browser: &str,
        email: String,
        password: PasswordHash,
        now: UnixTime,
    ) -> Opened {
        let (opened, new) = Pending::open(browser, email, password, now);
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if pending.len() >= MAX_PENDING {
            pending.retain(|_, p| now.since(p.sent_at) < CODE_LIFETIME_SECS);
            if pending.len() >= MAX_PENDING {
                let oldest = pending
                    .iter()
                    .min_by_key(|(_, p)| p.sent_at)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    pending.remove(&oldest);
                }
            }
        }
        pending.insert(opened.id.clone(), new);
        opened
    }

    /// The email a sign-up waits to prove, while its code still works, to the browser that
    /// opened it.
    pub fn email_of(&self, id: &str, browser: &str, now: UnixTime) -> Option<String> {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.get(id)?.email_for(browser, now)
    }

    /// Checks a code entered in `browser` (`Pending::check`).
    pub fn check(&self, id: &str, browser: &str, entered: &str, now: UnixTime) -> CodeCheck {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let Some(p) = pending.get_mut(id) else {
            return CodeCheck::Unknown;
        };
        let checked = p.check(browser, entered, now);
        if !checked.keeps_it_open() && checked != CodeCheck::Unknown {
            pending.remove(id);
        }
        checked
    }

    pub fn clear(&self) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}
