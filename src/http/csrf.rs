//! Anti-CSRF tokens for forms that are not part of a sign-in attempt (the developer portal, the
//! sandbox page): signed tokens, good for an hour of the sandbox clock, that the server keeps no
//! record of. A token is `{issued_at}.{nonce}.{mac}`: the second it was issued (Unix seconds), 128
//! random bits (32 lowercase hex characters), and the HMAC-SHA256 of the two under the server's
//! key (64 lowercase hex characters). Checking it recomputes the MAC and compares it in constant
//! time, so whoever holds the key can check any token it signed:
//!
//! - without `--database`, the key is drawn at start-up and lives in the process: a restart ends
//!   every token, as when the tokens were kept in memory;
//! - in hosted mode, every replica signs with one key kept in the database, so that a form
//!   served by one replica is accepted by any (docs/hosted.md#form-tokens).
//!
//! A token may be posted more than once within its hour, as before: it proves that the form came
//! from one of the server's pages, not that it is posted once.

use std::fmt::Write;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::clock::UnixTime;
use crate::oauth::random::hex128;

/// How long a token is good for, in seconds of the sandbox clock.
const LIFETIME_SECS: i64 = 3600;
/// The nonce's and the MAC's lengths in hex characters.
const NONCE_HEX: usize = 32;
const MAC_HEX: usize = 64;

/// The key the tokens are signed with: 256 bits, HMAC-SHA256's output size.
pub type CsrfKey = [u8; 32];

/// The server's anti-CSRF tokens: the HMAC keyed once, cloned for each token.
#[derive(Clone)]
pub struct CsrfTokens {
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for CsrfTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key signs every token: never in a log.
        f.debug_struct("CsrfTokens").finish_non_exhaustive()
    }
}

impl CsrfTokens {
    /// A fresh random key: what hosted mode's first replica puts in the database, and what an
    /// embedded server signs with.
    pub fn random_key() -> CsrfKey {
        rand::random()
    }

    /// Tokens signed with `key`.
    pub fn with_key(key: &CsrfKey) -> Result<Self, String> {
        // HMAC takes a key of any length: this cannot fail, but its type says it may.
        let keyed =
            Hmac::<Sha256>::new_from_slice(key).map_err(|e| format!("the form-token key: {e}"))?;
        Ok(Self { keyed })
    }

    /// A token for a form served at `now`.
    pub fn issue(&self, now: UnixTime) -> String {
        let signed = format!("{}.{}", now.seconds(), hex128());
        let mac = self.mac(&signed);
        let mut token = String::with_capacity(signed.len() + 1 + MAC_HEX);
        token.push_str(&signed);
        token.push('.');
        for byte in mac {
            // Writing to a String cannot fail.
            let _ = write!(token, "{byte:02x}");
        }
        token
    }

    /// Whether `token` is one of ours, issued less than an hour before `now`. Anything else,
    /// whatever its shape, is `false`.
    pub fn check(&self, token: &str, now: UnixTime) -> bool {
        let Some((signed, mac)) = token.rsplit_once('.') else {
            return false;
        };
        let Some((issued, nonce)) = signed.split_once('.') else {
            return false;
        };
        let (Some(issued), Some(mac)) = (seconds(issued), mac_bytes(mac)) else {
            return false;
        };
        if nonce.len() != NONCE_HEX || !nonce.bytes().all(is_lower_hex) {
            return false;
        }
        let authentic = bool::from(self.mac(signed)[..].ct_eq(&mac[..]));
        // As before: a token from an instant the clock has since gone back over is still good.
        authentic && now.since(issued) < LIFETIME_SECS
    }

    fn mac(&self, signed: &str) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(signed.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// The issue time as `issue` writes it: digits, no sign, no leading zero (so that one instant
/// has one spelling). A sandbox clock before 1970 is not a case the server meets.
fn seconds(text: &str) -> Option<UnixTime> {
    let canonical = !text.is_empty()
        && text.len() <= 19
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical
        .then(|| text.parse::<i64>().ok())
        .flatten()
        .map(UnixTime::from_seconds)
}

/// The MAC's 32 bytes from its 64 lowercase hex characters.
fn mac_bytes(text: &str) -> Option<[u8; 32]> {
    let text = text.as_bytes();
    if text.len() != MAC_HEX || !text.iter().copied().all(is_lower_hex) {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: UnixTime = UnixTime::from_seconds(1_767_225_600);

    fn tokens() -> CsrfTokens {
        CsrfTokens::with_key(&CsrfTokens::random_key()).unwrap()
    }

    /// `token` with its `part`th dot-separated part replaced by what `change` makes of it.
    fn with_part(token: &str, part: usize, change: impl Fn(&str) -> String) -> String {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[part] = change(&parts[part]);
        parts.join(".")
    }

    /// The same text with its last character changed to another hex digit.
    fn flip_last(text: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        let last = chars.last_mut().unwrap();
        *last = if *last == '0' { '1' } else { '0' };
        chars.into_iter().collect()
    }

    #[test]
    fn a_token_is_good_for_an_hour_and_not_a_second_more() {
        let csrf = tokens();
        let token = csrf.issue(T0);
        assert!(csrf.check(&token, T0));
        assert!(csrf.check(&token, T0.plus(1)));
        assert!(csrf.check(&token, T0.plus(LIFETIME_SECS - 1)));
        assert!(
            !csrf.check(&token, T0.plus(LIFETIME_SECS)),
            "expired at 1 h"
        );
        assert!(!csrf.check(&token, T0.plus(LIFETIME_SECS * 24)));
        // As the synchronizer tokens did: a clock moved back does not end a token.
        assert!(csrf.check(&token, T0.plus(-60)));
    }

    #[test]
    fn tokens_have_their_shape_and_differ_each_time() {
        let csrf = tokens();
        let (a, b) = (csrf.issue(T0), csrf.issue(T0));
        assert_ne!(a, b, "a random nonce in each");
        let parts: Vec<&str> = a.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], T0.seconds().to_string());
        assert_eq!(parts[1].len(), NONCE_HEX);
        assert_eq!(parts[2].len(), MAC_HEX);
        // Safe in a form field and a cookie as they are.
        assert!(a.bytes().all(|b| is_lower_hex(b) || b == b'.'));
    }

    #[test]
    fn a_changed_time_nonce_or_mac_is_refused() {
        let csrf = tokens();
        let token = csrf.issue(T0);
        let later = with_part(&token, 0, |_| T0.plus(3000).seconds().to_string());
        let zero_padded = with_part(&token, 0, |t| format!("0{t}"));
        let nonce = with_part(&token, 1, flip_last);
        let mac = with_part(&token, 2, flip_last);
        let upper = with_part(&token, 2, str::to_uppercase);
        let short_nonce = with_part(&token, 1, |n| n[1..].to_owned());
        for tampered in [later, zero_padded, nonce, mac, upper, short_nonce] {
            assert!(!csrf.check(&tampered, T0), "{tampered}");
        }
    }

    #[test]
    fn another_key_s_token_is_refused_and_the_same_key_s_is_not() {
        let key = CsrfTokens::random_key();
        let one = CsrfTokens::with_key(&key).unwrap();
        let same = CsrfTokens::with_key(&key).unwrap();
        let other = tokens();
        let token = one.issue(T0);
        assert!(
            same.check(&token, T0),
            "another holder of the key: a replica"
        );
        assert!(!other.check(&token, T0));
        assert!(!one.check(&other.issue(T0), T0));
    }

    #[test]
    fn junk_is_refused() {
        let csrf = tokens();
        let token = csrf.issue(T0);
        let junk = [
            String::new(),
            ".".to_owned(),
            "..".to_owned(),
            "...".to_owned(),
            "not a token".to_owned(),
            hex128(),
            format!("{token}."),
            format!(".{token}"),
            format!("{token}.00"),
            token.replacen('.', "", 1),
            with_part(&token, 0, |_| "-1".to_owned()),
            with_part(&token, 0, |_| "+1767225600".to_owned()),
            with_part(&token, 0, |_| "99999999999999999999".to_owned()),
            with_part(&token, 1, |_| "é".repeat(16)),
            with_part(&token, 2, |m| format!("{}é", &m[..62])),
            with_part(&token, 2, |_| "g".repeat(MAC_HEX)),
        ];
        for junk in junk {
            assert!(!csrf.check(&junk, T0), "{junk:?}");
        }
    }

    proptest! {
        /// Whatever is posted, `check` answers (no panic), and only our own tokens pass.
        #[test]
        fn any_input_is_answered_without_a_panic(input in ".{0,160}", now in any::<i64>()) {
            let csrf = tokens();
            prop_assert!(!csrf.check(&input, UnixTime::from_seconds(now)));
        }

        #[test]
        fn any_token_checks_within_its_hour(issued in 0i64..=i64::MAX / 2, age in 0i64..LIFETIME_SECS) {
            let csrf = tokens();
            let token = csrf.issue(UnixTime::from_seconds(issued));
            prop_assert!(csrf.check(&token, UnixTime::from_seconds(issued + age)));
            prop_assert!(!csrf.check(&token, UnixTime::from_seconds(issued + LIFETIME_SECS)));
        }
    }
}
