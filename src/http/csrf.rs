//! Anti-CSRF tokens for forms that are not part of a sign-in attempt (the developer portal, the
//! sandbox page): synchronizer tokens kept server-side for an hour, bounded in number.

use crate::clock::UnixTime;
use std::collections::HashMap;
use std::sync::Mutex;

use crate::oauth::random::hex128;

const LIFETIME_SECS: i64 = 3600;
const MAX_TOKENS: usize = 10_000;

#[derive(Debug, Default)]
pub struct CsrfTokens {
    issued: Mutex<HashMap<String, UnixTime>>,
}

impl CsrfTokens {
    pub fn issue(&self, now: UnixTime) -> String {
        let token = hex128();
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        if issued.len() >= MAX_TOKENS {
            issued.retain(|_, at| now.since(*at) < LIFETIME_SECS);
            if issued.len() >= MAX_TOKENS {
                issued.clear();
            }
        }
        issued.insert(token.clone(), now);
        token
    }

    pub fn check(&self, token: &str, now: UnixTime) -> bool {
        let issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        issued
            .get(token)
            .is_some_and(|at| now.since(*at) < LIFETIME_SECS)
    }
}
