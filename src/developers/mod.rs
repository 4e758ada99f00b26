//! Developer accounts (docs/developer-accounts.md): who may register, see and change apps in the
//! portal when accounts are on. A developer signs up with an email proved by a 6-digit code
//! "sent" to the sandbox outbox and a password hashed with Argon2id (RFC 9106); signs in, at most
//! 5 failures per account per 15 minutes of the sandbox clock; and holds a server-side session
//! until signing out. No HTTP types here: methods take plain values (`now` from the sandbox
//! clock, a form's fields, a cookie's session id) and return decisions (`SignUp`, `Verified`,
//! `SignIn`) that `crate::http::portal` turns into pages and cookies. Apps record their owner
//! themselves (`crate::oauth::apps`); the accounts are saved in the state directory with them.

pub mod password;
pub mod rate_limit;
pub mod sessions;
pub mod signup;

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::ids::DeveloperId;
use crate::oauth::login::normalize_email;
use crate::oauth::persist::Section;
use crate::oauth::random::hex128;
use crate::oauth::secret::Secret;
use password::{HashError, PasswordHash, PasswordProblem};
use rate_limit::{Attempt, SignInFailures};
use sessions::{NewSession, Session, Sessions};
use signup::{CodeCheck, Ended, Signups};

/// Developer emails the outbox keeps (the newest).
pub const OUTBOX_LIMIT: usize = 1000;

/// A developer account. Its password is only ever a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Developer {
    pub id: DeveloperId,
    /// Lowercased, as `normalize_email` gives it: the account's sign-in name.
    pub email: String,
    password: PasswordHash,
    pub created_at: UnixTime,
}

impl Developer {
    /// A new account, its id fresh, for an email just proved.
    pub fn new(email: String, password: PasswordHash, now: UnixTime) -> Self {
        Developer {
            id: hex128().into(),
            email,
            password,
            created_at: now,
        }
    }

    /// Whether `password` is this account's (tens of milliseconds: off the async runtime).
    pub fn password_is(&self, password: &Secret) -> bool {
        password::verify(password, &self.password)
    }
}

/// Checks a sign-up form's email and password and hashes the password: the normalized email
/// and the hash. Hashing takes tens of milliseconds: call it off the async runtime.
pub fn prepare_sign_up(
    email: &str,
    password: &Secret,
    confirm: &Secret,
) -> Result<(String, PasswordHash), SignUpProblem> {
    let email = normalize_email(email).ok_or(SignUpProblem::Email)?;
    password::check_new(password, confirm)?;
    Ok((email, password::hash(password)?))
}

/// The key a sign-in's failures are counted under: the normalized email, or what is not an
/// email (no account has it, but the answer must not tell), cut to the length an email may have,
/// so that the counts stay small.
pub fn sign_in_key(email: &str) -> String {
    normalize_email(email)
        .unwrap_or_else(|| email.trim().to_lowercase().chars().take(254).collect())
}

/// A verification email to a developer, as the sandbox outbox shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeveloperEmail {
    pub to: String,
    pub code: String,
    pub sent_at: String,
}

/// What a sign-up form did.
#[derive(Debug)]
pub enum SignUp {
    /// The code is in the outbox; the verification page is the sign-up's.
    CodeSent {
        signup: String,
        email: DeveloperEmail,
    },
    /// Shown on the form again.
    Invalid(SignUpProblem),
}

#[derive(Debug, thiserror::Error)]
pub enum SignUpProblem {
    #[error("Enter a valid email address.")]
    Email,
    #[error(transparent)]
    Password(#[from] PasswordProblem),
    #[error("The password could not be hashed (the server log says why).")]
    Hash(#[from] HashError),
}

/// What an entered verification code did.
#[derive(Debug)]
pub enum Verified {
    /// The account exists now: sign the developer in.
    Created(Developer),
    /// The email proved already has an account: nothing changed (its password stays).
    Exists,
    Retry {
        tries_left: u32,
    },
    Ended(Ended),
    Unknown,
}

/// What a sign-in form did.
#[derive(Debug)]
pub enum SignIn {
    Ok(Box<NewSession>),
    /// Wrong email or password (the two are not told apart).
    Wrong,
    /// Too many failures for this account: refused for this many seconds, whatever the password.
    Limited {
        retry_after: i64,
    },
}

/// A signed-in developer, as a request's session cookie shows them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub developer: Developer,
    pub session: Session,
}

#[derive(Debug, Default)]
struct Accounts {
    by_id: HashMap<DeveloperId, Developer>,
    by_email: HashMap<String, DeveloperId>,
}

impl Accounts {
    fn insert(&mut self, developer: Developer) {
        self.by_email
            .insert(developer.email.clone(), developer.id.clone());
        self.by_id.insert(developer.id.clone(), developer);
    }
}

/// The saved form (docs/developer-accounts.md#persistence).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    #[serde(default)]
    accounts: Vec<Developer>,
}

#[derive(Debug, Default)]
pub struct Developers {
    accounts: RwLock<Accounts>,
    signups: Signups,
    sessions: Sessions,
    failures: SignInFailures,
    outbox: Mutex<VecDeque<DeveloperEmail>>,
}

impl Developers {
    /// The accounts a state directory saved (`null`: none yet).
    pub fn restore(saved: &serde_json::Value) -> Result<Self, serde_json::Error> {
        let developers = Self::default();
        if !saved.is_null() {
            let saved: Saved = serde_json::from_value(saved.clone())?;
            let mut accounts = developers.write();
            for developer in saved.accounts {
                accounts.insert(developer);
            }
        }
        Ok(developers)
    }

    fn read(&self) -> RwLockReadGuard<'_, Accounts> {
        self.accounts.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Accounts> {
        self.accounts.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a sign-up in `browser` (its form token): checks the email and password, hashes the
    /// password (tens of milliseconds: call it off the async runtime) and sends a code to the
    /// outbox. Whether the email already has an account is not told here, only to whoever
    /// proves the email.
    pub fn sign_up(
        &self,
        browser: &str,
        email: &str,
        password: &Secret,
        confirm: &Secret,
        now: UnixTime,
        sent_at: String,
    ) -> SignUp {
        let (email, hashed) = match prepare_sign_up(email, password, confirm) {
            Ok(prepared) => prepared,
            Err(problem) => return SignUp::Invalid(problem),
        };
        let opened = self.signups.open(browser, email.clone(), hashed, now);
        let message = DeveloperEmail {
            to: email,
            code: opened.code.expose().to_owned(),
            sent_at,
        };
        let mut outbox = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
        if outbox.len() >= OUTBOX_LIMIT {
            outbox.pop_front();
        }
        outbox.push_back(message.clone());
        SignUp::CodeSent {
            signup: opened.id,
            email: message,
        }
    }

    /// The email a sign-up waits to prove, while its code works, to the browser that opened it.
    pub fn signup_email(&self, signup: &str, browser: &str, now: UnixTime) -> Option<String> {
        self.signups.email_of(signup, browser, now)
    }

    /// Checks a sign-up's code entered in `browser`; the right one makes the account (the
    /// caller saves it, and calls `forget` if it cannot).
    pub fn verify(&self, signup: &str, browser: &str, code: &str, now: UnixTime) -> Verified {
        match self.signups.check(signup, browser, code, now) {
            CodeCheck::Proved { email, password } => {
                let mut accounts = self.write();
                if accounts.by_email.contains_key(&email) {
                    return Verified::Exists;
                }
                let developer = Developer::new(email, password, now);
                accounts.insert(developer.clone());
                Verified::Created(developer)
            }
            CodeCheck::Retry { tries_left } => Verified::Retry { tries_left },
            CodeCheck::Ended(why) => Verified::Ended(why),
            CodeCheck::Unknown => Verified::Unknown,
        }
    }

    /// Removes an account that could not be saved: it was never acknowledged.
    pub fn forget(&self, id: &DeveloperId) {
        let mut accounts = self.write();
        if let Some(developer) = accounts.by_id.remove(id) {
            accounts.by_email.remove(&developer.email);
        }
    }

    /// Signs in with an email and password, within the failure limit; a success starts a
    /// session. Verifying takes tens of milliseconds (call it off the async runtime), and as
    /// long for an email without an account.
    pub fn sign_in(&self, email: &str, password: &Secret, now: UnixTime) -> SignIn {
        let email = sign_in_key(email);
        if let Attempt::Limited { retry_after } = self.failures.attempt(&email, now) {
            return SignIn::Limited { retry_after };
        }
        let developer = {
            let accounts = self.read();
            accounts
                .by_email
                .get(&email)
                .and_then(|id| accounts.by_id.get(id).cloned())
        };
        let Some(developer) = developer else {
            password::verify_nothing(password);
            return SignIn::Wrong;
        };
        if !developer.password_is(password) {
            return SignIn::Wrong;
        }
        self.failures.succeeded(&email);
        SignIn::Ok(Box::new(self.sessions.start(developer.id, now)))
    }

    /// The developer a session cookie's id signs in, while the session lives.
    pub fn signed_in(&self, session_id: &str, now: UnixTime) -> Option<SignedIn> {
        let session = self.sessions.get(session_id, now)?;
        let developer = self.read().by_id.get(&session.developer).cloned()?;
        Some(SignedIn { developer, session })
    }

    /// Signs out: the session id stops working.
    pub fn sign_out(&self, session_id: &str) {
        self.sessions.end(session_id);
    }

    /// Starts a session for a developer who has just proved their email.
    pub fn start_session(&self, developer: &Developer, now: UnixTime) -> NewSession {
        self.sessions.start(developer.id.clone(), now)
    }

    /// Developer verification emails, oldest first.
    pub fn outbox(&self) -> Vec<DeveloperEmail> {
        self.outbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Reset (docs/sandbox-tools.md#reset): the outbox, sign-ups waiting for a code and counted
    /// sign-in failures go; accounts and sessions stay, as apps do.
    pub fn clear(&self) {
        self.signups.clear();
        self.failures.clear();
        self.outbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

impl Section for Developers {
    fn snapshot(&self) -> serde_json::Value {
        let mut accounts: Vec<Developer> = self.read().by_id.values().cloned().collect();
        accounts.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        serde_json::to_value(Saved { accounts }).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> UnixTime {
        UnixTime::from_seconds(seconds)
    }

    fn s(text: &str) -> Secret {
        Secret::new(text)
    }

    /// The form token of the browser that signs up in these tests.
    const BROWSER: &str = "browser-1";

    fn sign_up(developers: &Developers, email: &str, password: &str) -> (String, String) {
        match developers.sign_up(BROWSER, email, &s(password), &s(password), t(0), "t".into()) {
            SignUp::CodeSent { signup, email } => (signup, email.code),
            SignUp::Invalid(problem) => panic!("{problem}"),
        }
    }

    #[test]
    fn sign_up_verify_sign_in_sign_out() {
        let developers = Developers::default();
        assert!(matches!(
            developers.sign_up(
                BROWSER,
                "nope",
                &s("long enough"),
                &s("long enough"),
                t(0),
                "t".into()
            ),
            SignUp::Invalid(SignUpProblem::Email)
        ));
        let (signup, code) = sign_up(&developers, " Dev@X.example ", "long enough");
        assert_eq!(developers.outbox()[0].to, "dev@x.example");
        assert_eq!(
            developers.signup_email(&signup, BROWSER, t(1)).as_deref(),
            Some("dev@x.example")
        );
        assert!(matches!(
            developers.verify(&signup, BROWSER, "000000x", t(1)),
            Verified::Retry { tries_left: 4 }
        ));
        let Verified::Created(developer) = developers.verify(&signup, BROWSER, &code, t(2)) else {
            panic!("created");
        };
        assert!(matches!(
            developers.verify(&signup, BROWSER, &code, t(2)),
            Verified::Unknown
        ));
        assert!(matches!(
            developers.sign_in("dev@x.example", &s("wrong password"), t(3)),
            SignIn::Wrong
        ));
        let SignIn::Ok(session) = developers.sign_in("DEV@x.example", &s("long enough"), t(3))
        else {
            panic!("signed in");
        };
        let signed_in = developers.signed_in(session.id.expose(), t(4)).unwrap();
        assert_eq!(signed_in.developer.id, developer.id);
        developers.sign_out(session.id.expose());
        assert!(developers.signed_in(session.id.expose(), t(5)).is_none());
    }

    #[test]
    fn only_the_browser_that_signed_up_sees_and_finishes_the_sign_up() {
        let developers = Developers::default();
        let (signup, code) = sign_up(&developers, "dev@x.example", "long enough");
        assert!(
            developers
                .signup_email(&signup, "browser-2", t(1))
                .is_none()
        );
        assert!(matches!(
            developers.verify(&signup, "browser-2", &code, t(1)),
            Verified::Unknown
        ));
        assert!(matches!(
            developers.verify(&signup, BROWSER, &code, t(1)),
            Verified::Created(_)
        ));
    }

    #[test]
    fn proving_an_email_that_has_an_account_changes_nothing() {
        let developers = Developers::default();
        let (signup, code) = sign_up(&developers, "dev@x.example", "first password");
        assert!(matches!(
            developers.verify(&signup, BROWSER, &code, t(1)),
            Verified::Created(_)
        ));
        let (again, code) = sign_up(&developers, "dev@x.example", "second password");
        assert!(matches!(
            developers.verify(&again, BROWSER, &code, t(1)),
            Verified::Exists
        ));
        assert!(matches!(
            developers.sign_in("dev@x.example", &s("second password"), t(2)),
            SignIn::Wrong
        ));
        assert!(matches!(
            developers.sign_in("dev@x.example", &s("first password"), t(2)),
            SignIn::Ok(_)
        ));
    }

    #[test]
    fn codes_end_after_five_tries_or_ten_minutes() {
        let developers = Developers::default();
        let (signup, code) = sign_up(&developers, "a@x.example", "long enough");
        for _ in 0..4 {
            assert!(matches!(
                developers.verify(&signup, BROWSER, "x", t(1)),
                Verified::Retry { .. }
            ));
        }
        assert!(matches!(
            developers.verify(&signup, BROWSER, "x", t(1)),
            Verified::Ended(Ended::TooManyTries)
        ));
        assert!(matches!(
            developers.verify(&signup, BROWSER, &code, t(1)),
            Verified::Unknown
        ));
        let (late, code) = sign_up(&developers, "b@x.example", "long enough");
        assert!(developers.signup_email(&late, BROWSER, t(600)).is_none());
        assert!(matches!(
            developers.verify(&late, BROWSER, &code, t(600)),
            Verified::Ended(Ended::Expired)
        ));
    }

    #[test]
    fn the_sixth_failure_in_fifteen_minutes_is_refused_even_with_the_right_password() {
        let developers = Developers::default();
        let (signup, code) = sign_up(&developers, "a@x.example", "long enough");
        developers.verify(&signup, BROWSER, &code, t(0));
        for _ in 0..5 {
            assert!(matches!(
                developers.sign_in("a@x.example", &s("wrong password"), t(10)),
                SignIn::Wrong
            ));
        }
        assert!(matches!(
            developers.sign_in("a@x.example", &s("long enough"), t(10)),
            SignIn::Limited { retry_after: 900 }
        ));
        assert!(matches!(
            developers.sign_in("a@x.example", &s("long enough"), t(910)),
            SignIn::Ok(_)
        ));
    }

    #[test]
    fn what_is_not_an_email_is_limited_too_under_a_short_key() {
        let developers = Developers::default();
        let long = "x".repeat(10_000);
        for _ in 0..5 {
            assert!(matches!(
                developers.sign_in(&long, &s("any password"), t(0)),
                SignIn::Wrong
            ));
        }
        assert!(matches!(
            developers.sign_in(&long, &s("any password"), t(0)),
            SignIn::Limited { .. }
        ));
    }

    #[test]
    fn accounts_survive_a_save_and_restore_without_their_passwords_in_clear() {
        let developers = Developers::default();
        let (signup, code) = sign_up(&developers, "a@x.example", "long enough");
        developers.verify(&signup, BROWSER, &code, t(0));
        let saved = developers.snapshot();
        assert!(!saved.to_string().contains("long enough"));
        let restored = Developers::restore(&saved).unwrap();
        assert!(matches!(
            restored.sign_in("a@x.example", &s("long enough"), t(1)),
            SignIn::Ok(_)
        ));
        assert!(Developers::restore(&serde_json::Value::Null).is_ok());
        assert!(Developers::restore(&serde_json::json!({"accounts": 3})).is_err());
    }
}
