//! Developer passwords (docs/developer-accounts.md#passwords): the rules a new one must meet
//! (NIST SP 800-63B §5.1.1.2: a minimum length, a generous maximum, no composition rules) and
//! Argon2id hashing (RFC 9106) with RustCrypto's `argon2`. Only the PHC string of the hash is
//! kept; the password itself arrives as a `Secret` and is never stored or logged.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

use crate::oauth::secret::Secret;

pub const MIN_CHARS: usize = 8;
/// Long enough for any passphrase; bounded so that a request cannot make the hash read megabytes.
pub const MAX_CHARS: usize = 128;

/// OWASP's first recommended Argon2id configuration (19 MiB of memory, 2 passes, 1 lane): about
/// 40 ms of CPU per hash or verification on one core of a 2-core AMD EPYC server in a release
/// build (about 75 ms in the test profile), so that a sign-in stays under 50 ms while each
/// guess costs an attacker 19 MiB and the same time.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Why a password could not be hashed (the parameters are constants, so in practice never).
#[derive(Debug, thiserror::Error)]
#[error("hashing a password failed: {0}")]
pub struct HashError(argon2::password_hash::Error);

/// What is wrong with a new password, as the sign-up page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("Choose a password of at least {MIN_CHARS} characters.")]
    TooShort,
    #[error("Choose a password of at most {MAX_CHARS} characters.")]
    TooLong,
    #[error("The two passwords are not the same.")]
    Mismatch,
}

/// An Argon2id hash in PHC string form (`$argon2id$v=19$m=…`): its parameters and salt travel
/// with it, so a hash made under other parameters still verifies.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

fn hasher() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|e| HashError(argon2::password_hash::Error::from(e)))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A new password against the rules: `confirm` is the form's second entry of it.
pub fn check_new(password: &Secret, confirm: &Secret) -> Result<(), PasswordProblem> {
    let chars = password.expose().chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    if password != confirm {
        return Err(PasswordProblem::Mismatch);
    }
    Ok(())
}

/// Hashes a password with a fresh 128-bit salt.
pub fn hash(password: &Secret) -> Result<PasswordHash, HashError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(HashError)?;
    let hash = hasher()?
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(HashError)?;
    Ok(PasswordHash(hash.to_string()))
}

/// Whether `password` is the one `hash` was made from (the comparison is constant-time).
pub fn verify(password: &Secret, hash: &PasswordHash) -> bool {
    let Ok(parsed) = argon2::password_hash::PasswordHash::new(&hash.0) else {
        return false;
    };
    hasher().is_ok_and(|h| {
        h.verify_password(password.expose().as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the time of a verification on a hash no password matches: a sign-in with an unknown
/// email then takes as long as one with a known email, so timing does not tell which emails
/// have accounts.
pub fn verify_nothing(password: &Secret) {
    static DUMMY: OnceLock<Option<PasswordHash>> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash(&Secret::new(crate::oauth::random::hex128())).ok());
    if let Some(dummy) = dummy {
        let _ = verify(password, dummy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_never_shows_it() {
        let password = Secret::new("correct horse battery");
        let hashed = hash(&password).unwrap();
        assert!(
            hashed.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hashed.0
        );
        assert!(!hashed.0.contains("correct horse"));
        assert!(verify(&password, &hashed));
        assert!(!verify(&Secret::new("correct horse batterY"), &hashed));
        assert!(!verify(&password, &PasswordHash("not a hash".into())));
        assert_ne!(
            hash(&password).unwrap(),
            hashed,
            "every hash has its own salt"
        );
        assert_eq!(format!("{hashed:?}"), "PasswordHash([redacted])");
    }

    #[test]
    fn new_passwords_follow_the_length_rules() {
        let s = Secret::new;
        assert_eq!(
            check_new(&s("short"), &s("short")),
            Err(PasswordProblem::TooShort)
        );
        let long = "x".repeat(MAX_CHARS + 1);
        assert_eq!(
            check_new(&s(&long), &s(&long)),
            Err(PasswordProblem::TooLong)
        );
        assert_eq!(
            check_new(&s("long enough"), &s("long enougH")),
            Err(PasswordProblem::Mismatch)
        );
        assert_eq!(check_new(&s("ééééééé é"), &s("ééééééé é")), Ok(()));
    }
}
