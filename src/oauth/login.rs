//! Member verification (docs/oauth.md#member-verification), the pages between the authorization request and the consent:
//! create an account (first name, last name, member ID, postal code, email) or sign in with a
//! linked email, then a 6-digit code "sent" to the sandbox outbox. Each attempt is a transaction
//! with its own anti-CSRF token; wrong codes and wrong member details are counted, and 5 of either
//! or 10 minutes end the attempt. A parent or guardian on file may create an account for a minor
//! member and sign in for them (docs/oauth.md#personal-representatives).
//!
//! The rules of each step are methods of `Attempt` that change only the attempt and say what the
//! step produced (an email to send, a link to make), so that they run the same wherever the
//! attempt is kept: `Logins` keeps this replica's attempts, links and outbox in memory and runs a
//! step under its lock; hosted mode keeps them in the database and runs it under the attempt's
//! row lock (docs/hosted.md#member-sign-in).

use crate::clock::UnixTime;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, RwLock};

use serde::Serialize;
use subtle::ConstantTimeEq;

use super::authorize::AuthorizeRequest;
use super::random::{hex128, six_digits};
use crate::data::Members;
use crate::ids::ClientId;

pub const MAX_CODE_TRIES: u32 = 5;
pub const MAX_DETAIL_TRIES: u32 = 5;
pub const CODE_LIFETIME_SECS: i64 = 600;
/// A sign-in attempt left open this long is dropped.
pub const ATTEMPT_LIFETIME_SECS: i64 = 3600;
/// The newest this many verification emails of a plan are kept.
pub const OUTBOX_LIMIT: usize = 1000;
const MAX_EMAIL_LEN: usize = 254;

/// Who an account signs in as: the member, or a personal representative (a RelatedPerson id)
/// acting for the member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub member_id: String,
    pub representative: Option<String>,
}

impl Account {
    pub fn member(member_id: impl Into<String>) -> Self {
        Account {
            member_id: member_id.into(),
            representative: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Start,
    Code {
        account: Account,
        email: String,
        code: String,
        sent_at: UnixTime,
        tries: u32,
        /// A new account: link the email to the member once the code proves it.
        link: bool,
    },
    Consent {
        account: Account,
        /// When the email code proved who signed in: the id_token's `auth_time`.
        authenticated_at: UnixTime,
    },
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: String,
    pub csrf: String,
    pub request: AuthorizeRequest,
    /// The original authorization query, to offer "start again" when the attempt ends.
    pub restart_query: String,
    pub created_at: UnixTime,
    pub stage: Stage,
    pub detail_failures: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OutboxMessage {
    pub to: String,
    pub code: String,
    pub sent_at: String,
    #[serde(skip)]
    pub member_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    /// No such attempt (never started, finished, or dropped).
    Unknown,
    /// The attempt is over; the message says why.
    Ended(String),
    /// The form's anti-CSRF token is missing or wrong.
    Csrf,
    /// The step cannot be taken now (e.g. entering a code before one was sent).
    WrongStep,
    /// Try again on the same page with this message.
    Retry(String),
    /// The store that keeps the attempt (hosted mode's database) did not answer: nothing
    /// changed, and the same step can be taken again shortly.
    Unavailable,
}

/// Create-account form fields.
#[derive(Debug, Clone, Default)]
pub struct AccountDetails {
    pub given: String,
    pub family: String,
    pub member_id: String,
    pub postal_code: String,
    pub email: String,
}

/// The personal representative's create-account form: their own names, then the member's
/// details from the member ID card, and their own email.
#[derive(Debug, Clone, Default)]
pub struct RepresentativeDetails {
    pub given: String,
    pub family: String,
    pub member: AccountDetails,
}

#[derive(Debug, Default)]
pub struct Logins {
    /// What every attempt id of this plan starts with (`{plan}.` for plans other than the
    /// default), so that the shared sign-in URLs find the plan (docs/plans.md#urls).
    attempt_prefix: String,
    attempts: Mutex<HashMap<String, Attempt>>,
    email_links: RwLock<HashMap<String, Account>>,
    outbox: Mutex<Vec<OutboxMessage>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn already_linked() -> LoginError {
    LoginError::Retry(
        "This email is already linked to another account. Each email can belong to one account \
         only: use a different email, or sign in with that account."
            .to_owned(),
    )
}

pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = email.len() <= MAX_EMAIL_LEN
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"'(),;:\\[]".contains(c))
        && !domain.contains('@');
    ok.then_some(email)
}

/// What a right code proved: who signed in with which email, and whether the email is to be
/// linked to the account (a new account's) before the attempt goes on to the consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub email: String,
    pub account: Account,
    pub link: bool,
}

/// Whether a verified new account's email is to be linked, given the account it is linked to
/// now, if any: `true` to link it, `false` when it is already this account's. Linked to another
/// account meanwhile (by another attempt), the attempt ends.
pub fn link_needed(existing: Option<&Account>, account: &Account) -> Result<bool, LoginError> {
    match existing {
        Some(other) if other != account => Err(LoginError::Ended(
            "this email was linked to another account meanwhile".to_owned(),
        )),
        Some(_) => Ok(false),
        None => Ok(true),
    }
}

impl Attempt {
    /// Whether the attempt has been open too long on the sandbox clock (it is then dropped).
    pub fn timed_out(&self, now: UnixTime) -> bool {
        now.since(self.created_at) >= ATTEMPT_LIFETIME_SECS
    }

    /// `Ended` once the attempt has timed out (the keeper then drops it).
    pub fn still_open(&self, now: UnixTime) -> Result<(), LoginError> {
        if self.timed_out(now) {
            return Err(LoginError::Ended(
                "the sign-in attempt timed out".to_owned(),
            ));
        }
        Ok(())
    }

    /// What every form post checks first: its anti-CSRF token, then that the attempt is open.
    pub fn check(&self, csrf: &str, now: UnixTime) -> Result<(), LoginError> {
        if !bool::from(self.csrf.as_bytes().ct_eq(csrf.as_bytes())) {
            return Err(LoginError::Csrf);
        }
        self.still_open(now)
    }

    /// Create an account: the details must match a member, and the email must not be linked to
    /// another account (`linked`: the account the email is linked to now). On success the stage
    /// is the code's, and the email to send is returned.
    pub fn create_account(
        &mut self,
        details: &AccountDetails,
        members: &Members,
        linked: Option<&Account>,
        now: UnixTime,
        sent_at: String,
    ) -> Result<OutboxMessage, LoginError> {
        let member = members
            .by_member_id(&details.member_id)
            .filter(|m| m.matches(&details.given, &details.family, &details.postal_code));
        let Some(member) = member else {
            self.detail_failures += 1;
            if self.detail_failures >= MAX_DETAIL_TRIES {
                return Err(LoginError::Ended(format!(
                    "{MAX_DETAIL_TRIES} tries did not match a member"
                )));
            }
            return Err(LoginError::Retry(
                "We could not find a member with those details. Check your name, member ID \
                 and postal code exactly as they appear on your member ID card."
                    .to_owned(),
            ));
        };
        let Some(email) = normalize_email(&details.email) else {
            return Err(LoginError::Retry("Enter a valid email address.".to_owned()));
        };
        let account = Account::member(member.member_id.as_str());
        if linked.is_some_and(|l| *l != account) {
            return Err(already_linked());
        }
        Ok(self.send_code(account, email, true, now, sent_at))
    }

    /// Create an account as a personal representative: the member's details must match a
    /// member under 18 on `now`'s date, and the representative's names a parent or guardian on
    /// file for them. On success the email to send to the representative is returned.
    pub fn create_representative(
        &mut self,
        details: &RepresentativeDetails,
        members: &Members,
        linked: Option<&Account>,
        now: UnixTime,
        sent_at: String,
    ) -> Result<OutboxMessage, LoginError> {
        let m = &details.member;
        let member = members
            .by_member_id(&m.member_id)
            .filter(|member| member.matches(&m.given, &m.family, &m.postal_code));
        let representative = member.and_then(|member| {
            member
                .representatives
                .iter()
                .find(|r| r.matches(&details.given, &details.family))
                .map(|r| (member, r))
        });
        let Some((member, representative)) = representative else {
            self.detail_failures += 1;
            if self.detail_failures >= MAX_DETAIL_TRIES {
                return Err(LoginError::Ended(format!(
                    "{MAX_DETAIL_TRIES} tries did not match a member and a parent or guardian on file"
                )));
            }
            return Err(LoginError::Retry(
                "We could not find that member with you on file as their parent or guardian. \
                 Check your name and the member's name, member ID and postal code exactly as \
                 they appear on the member ID card."
                    .to_owned(),
            ));
        };
        if !member.is_minor_on(now.utc_date()) {
            return Err(LoginError::Retry(format!(
                "{} is 18 or older: a parent or guardian can no longer sign in for them. \
                 They can create an account of their own.",
                member.display_name()
            )));
        }
        let Some(email) = normalize_email(&m.email) else {
            return Err(LoginError::Retry("Enter a valid email address.".to_owned()));
        };
        let account = Account {
            member_id: member.member_id.to_string(),
            representative: Some(representative.related_person_id.clone()),
        };
        if linked.is_some_and(|l| *l != account) {
            return Err(already_linked());
        }
        Ok(self.send_code(account, email, true, now, sent_at))
    }

    /// Returning member or representative: the email must already be linked (`linked`). A
    /// representative's account works while the member is a minor.
    pub fn sign_in(
        &mut self,
        email: &str,
        linked: Option<&Account>,
        members: &Members,
        now: UnixTime,
        sent_at: String,
    ) -> Result<OutboxMessage, LoginError> {
        let (Some(email), Some(account)) = (normalize_email(email), linked.cloned()) else {
            return Err(LoginError::Retry(
                "No account uses this email. Create an account first.".to_owned(),
            ));
        };
        if account.representative.is_some() {
            let member = members.by_member_id(&account.member_id);
            if let Some(member) = member.filter(|m| !m.is_minor_on(now.utc_date())) {
                return Err(LoginError::Retry(format!(
                    "{} is 18 or older: a parent or guardian can no longer sign in for them.",
                    member.display_name()
                )));
            }
        }
        Ok(self.send_code(account, email, false, now, sent_at))
    }

    /// A new code for `email`: the stage waits for it; the email carrying it is returned for
    /// the outbox.
    fn send_code(
        &mut self,
        account: Account,
        email: String,
        link: bool,
        now: UnixTime,
        sent_at: String,
    ) -> OutboxMessage {
        let code = six_digits();
        let member_id = account.member_id.clone();
        self.stage = Stage::Code {
            account,
            email: email.clone(),
            code: code.clone(),
            sent_at: now,
            tries: 0,
            link,
        };
        OutboxMessage {
            to: email,
            code,
            sent_at,
            member_id,
        }
    }

    /// Checks the emailed code. A right one moves the attempt on to the consent; the keeper then
    /// links the email when `Verified::link` says so (see `link_needed`), and ends the attempt
    /// if that fails.
    pub fn verify_code(&mut self, entered: &str, now: UnixTime) -> Result<Verified, LoginError> {
        let Stage::Code {
            account,
            email,
            code,
            sent_at,
            tries,
            link,
        } = &mut self.stage
        else {
            return Err(LoginError::WrongStep);
        };
        if now.since(*sent_at) >= CODE_LIFETIME_SECS {
            return Err(LoginError::Ended(
                "the verification code expired after 10 minutes".to_owned(),
            ));
        }
        if !bool::from(code.as_bytes().ct_eq(entered.trim().as_bytes())) {
            *tries += 1;
            if *tries >= MAX_CODE_TRIES {
                return Err(LoginError::Ended(format!(
                    "{MAX_CODE_TRIES} wrong verification codes"
                )));
            }
            let left = MAX_CODE_TRIES - *tries;
            return Err(LoginError::Retry(format!(
                "That code is not right. {left} {} left.",
                if left == 1 { "try" } else { "tries" }
            )));
        }
        let verified = Verified {
            email: email.clone(),
            account: account.clone(),
            link: *link,
        };
        self.stage = Stage::Consent {
            account: verified.account.clone(),
            authenticated_at: now,
        };
        Ok(verified)
    }

    /// The member's decision is possible only at the consent: the request, the account and when
    /// it authenticated. Either way the attempt is then over (the keeper drops it).
    pub fn decision(&self) -> Result<(AuthorizeRequest, Account, UnixTime), LoginError> {
        match &self.stage {
            Stage::Consent {
                account,
                authenticated_at,
            } => Ok((self.request.clone(), account.clone(), *authenticated_at)),
            _ => Err(LoginError::WrongStep),
        }
    }
}

impl Logins {
    pub fn with_attempt_prefix(attempt_prefix: String) -> Self {
        Self {
            attempt_prefix,
            ..Self::default()
        }
    }

    /// A new attempt of this plan, not yet kept anywhere: its id (with the plan's prefix) and
    /// anti-CSRF token are fresh random values.
    pub fn new_attempt(
        &self,
        request: AuthorizeRequest,
        restart_query: String,
        now: UnixTime,
    ) -> Attempt {
        Attempt {
            id: format!("{}{}", self.attempt_prefix, hex128()),
            csrf: hex128(),
            request,
            restart_query,
            created_at: now,
            stage: Stage::Start,
            detail_failures: 0,
        }
    }

    pub fn start(
        &self,
        request: AuthorizeRequest,
        restart_query: String,
        now: UnixTime,
    ) -> Attempt {
        let attempt = self.new_attempt(request, restart_query, now);
        let mut attempts = lock(&self.attempts);
        attempts.retain(|_, a| !a.timed_out(now));
        attempts.insert(attempt.id.clone(), attempt.clone());
        attempt
    }

    /// The attempt, if it is still open.
    pub fn get(&self, id: &str, now: UnixTime) -> Result<Attempt, LoginError> {
        let mut attempts = lock(&self.attempts);
        let attempt = attempts.get(id).ok_or(LoginError::Unknown)?;
        if let Err(ended) = attempt.still_open(now) {
            attempts.remove(id);
            return Err(ended);
        }
        Ok(attempt.clone())
    }

    /// The app a sign-in attempt is for, without touching the attempt (for the request log).
    pub fn attempt_client(&self, id: &str) -> Option<ClientId> {
        lock(&self.attempts)
            .get(id)
            .map(|a| a.request.client_id.as_str().into())
    }

    /// Runs `step` on the open attempt after checking its CSRF token. A step that returns
    /// `Ended` removes the attempt.
    fn with_attempt<T>(
        &self,
        id: &str,
        csrf: &str,
        now: UnixTime,
        step: impl FnOnce(&mut Attempt) -> Result<T, LoginError>,
    ) -> Result<T, LoginError> {
        let mut attempts = lock(&self.attempts);
        let attempt = attempts.get_mut(id).ok_or(LoginError::Unknown)?;
        let result = attempt.check(csrf, now).and_then(|()| step(attempt));
        if matches!(result, Err(LoginError::Ended(_))) {
            attempts.remove(id);
        }
        result
    }

    /// The email of a step that sends a code goes to the outbox.
    fn sent(&self, result: Result<OutboxMessage, LoginError>) -> Result<OutboxMessage, LoginError> {
        let message = result?;
        let mut outbox = lock(&self.outbox);
        if outbox.len() >= OUTBOX_LIMIT {
            outbox.remove(0);
        }
        outbox.push(message.clone());
        Ok(message)
    }

    /// The account `email` (as typed) is linked to, if any.
    fn linked(&self, email: &str) -> Option<Account> {
        normalize_email(email).and_then(|e| self.linked_member(&e))
    }

    /// Create an account (`Attempt::create_account`). On success a code is sent to the email.
    pub fn create_account(
        &self,
        id: &str,
        csrf: &str,
        details: &AccountDetails,
        members: &Members,
        now: UnixTime,
        sent_at: String,
    ) -> Result<OutboxMessage, LoginError> {
        let linked = self.linked(&details.email);
        self.sent(self.with_attempt(id, csrf, now, |attempt| {
            attempt.create_account(details, members, linked.as_ref(), now, sent_at)
        }))
    }

    /// Create an account as a personal representative (`Attempt::create_representative`). On
    /// success a code is sent to the representative's email.
    pub fn create_representative(
        &self,
        id: &str,
        csrf: &str,
        details: &RepresentativeDetails,
        members: &Members,
        now: UnixTime,
        sent_at: String,
    ) -> Result<OutboxMessage, LoginError> {
        let linked = self.linked(&details.member.email);
        self.sent(self.with_attempt(id, csrf, now, |attempt| {
            attempt.create_representative(details, members, linked.as_ref(), now, sent_at)
        }))
    }

    /// Returning member or representative (`Attempt::sign_in`): a code is sent to the email.
    pub fn sign_in(
        &self,
        id: &str,
        csrf: &str,
        email: &str,
        members: &Members,
        now: UnixTime,
        sent_at: String,
    ) -> Result<OutboxMessage, LoginError> {
        let linked = self.linked(email);
        self.sent(self.with_attempt(id, csrf, now, |attempt| {
            attempt.sign_in(email, linked.as_ref(), members, now, sent_at)
        }))
    }

    /// Checks the emailed code. Returns `Some((email, account))` when a new link was made (the
    /// caller persists it), `None` for a returning member.
    pub fn verify_code(
        &self,
        id: &str,
        csrf: &str,
        entered: &str,
        now: UnixTime,
    ) -> Result<Option<(String, Account)>, LoginError> {
        self.with_attempt(id, csrf, now, |attempt| {
            let verified = attempt.verify_code(entered, now)?;
            if !verified.link {
                return Ok(None);
            }
            let mut links = self.email_links.write().unwrap_or_else(|p| p.into_inner());
            if !link_needed(links.get(verified.email.as_str()), &verified.account)? {
                return Ok(None);
            }
            links.insert(verified.email.clone(), verified.account.clone());
            Ok(Some((verified.email, verified.account)))
        })
    }

    /// The member's decision. Either way the attempt is over; `Ok` carries the request, the
    /// account and when it authenticated, for the code (Allow) or the denial redirect (Deny).
    pub fn decide(
        &self,
        id: &str,
        csrf: &str,
        now: UnixTime,
    ) -> Result<(AuthorizeRequest, Account, UnixTime), LoginError> {
        // Checked and dropped under one lock: a form posted twice decides once.
        let mut attempts = lock(&self.attempts);
        let attempt = attempts.get(id).ok_or(LoginError::Unknown)?;
        let result = attempt.check(csrf, now).and_then(|()| attempt.decision());
        if result.is_ok() || matches!(result, Err(LoginError::Ended(_))) {
            attempts.remove(id);
        }
        result
    }

    pub fn linked_member(&self, email: &str) -> Option<Account> {
        self.email_links
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(email)
            .cloned()
    }

    pub fn email_links(&self) -> HashMap<String, Account> {
        self.email_links
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn restore_links(&self, links: impl IntoIterator<Item = (String, Account)>) {
        self.email_links
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .extend(links);
    }

    pub fn outbox(&self) -> Vec<OutboxMessage> {
        lock(&self.outbox).clone()
    }

    /// Reset (docs/sandbox-tools.md#reset): attempts, outbox and email links are forgotten.
    pub fn clear(&self) {
        lock(&self.attempts).clear();
        lock(&self.outbox).clear();
        self.email_links
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An instant, in seconds, for the tests' made-up timelines.
    fn t(seconds: i64) -> UnixTime {
        UnixTime::from_seconds(seconds)
    }
    use crate::oauth::scopes::GrantedScopes;
    use serde_json::json;

    fn members() -> Members {
        let patient = |id: &str, given: &str, mb: &str| {
            json!({"resourceType":"Patient","id":id,
                "identifier":[{"type":{"coding":[{"code":"MB"}]},"value":mb}],
                "name":[{"family":"Argonaut","given":[given]}],"address":[{"postalCode":"02114"}]})
        };
        Members::derive(&[patient("p1", "Jason", "M1"), patient("p2", "Jessie", "M2")]).0
    }

    fn request() -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: "c".into(),
            app_name: "App".into(),
            redirect_uri: "http://localhost/cb".into(),
            redirect_uri_sent: true,
            scopes: GrantedScopes::grant("patient/*.read", None),
            state: None,
            code_challenge: None,
            nonce: None,
        }
    }

    fn details(given: &str, member_id: &str, email: &str) -> AccountDetails {
        AccountDetails {
            given: given.into(),
            family: "argonaut".into(),
            member_id: member_id.into(),
            postal_code: "02114".into(),
            email: email.into(),
        }
    }

    #[test]
    fn create_verify_consent() {
        let logins = Logins::default();
        let m = members();
        let a = logins.start(request(), String::new(), t(0));
        assert_eq!(
            logins.create_account(
                &a.id,
                "bad",
                &details("Jason", "M1", "j@x.example"),
                &m,
                t(1),
                "t".into()
            ),
            Err(LoginError::Csrf)
        );
        let mail = logins
            .create_account(
                &a.id,
                &a.csrf,
                &details(" jason ", "M1", "J@X.example"),
                &m,
                t(1),
                "t".into(),
            )
            .unwrap();
        assert_eq!(mail.to, "j@x.example");
        assert!(matches!(
            logins.verify_code(&a.id, &a.csrf, "abcdef", t(2)),
            Err(LoginError::Retry(_))
        ));
        let link = logins
            .verify_code(&a.id, &a.csrf, &mail.code, t(3))
            .unwrap();
        assert_eq!(link, Some(("j@x.example".into(), Account::member("M1"))));
        let (_, account, authenticated_at) = logins.decide(&a.id, &a.csrf, t(4)).unwrap();
        assert_eq!(account, Account::member("M1"));
        assert_eq!(authenticated_at, t(3), "when the code was verified");
        assert_eq!(logins.get(&a.id, t(5)).unwrap_err(), LoginError::Unknown);
    }

    #[test]
    fn email_of_another_member_is_refused() {
        let logins = Logins::default();
        let m = members();
        logins.restore_links([("j@x.example".to_owned(), Account::member("M1"))]);
        let a = logins.start(request(), String::new(), t(0));
        let err = logins.create_account(
            &a.id,
            &a.csrf,
            &details("Jessie", "M2", "j@x.example"),
            &m,
            t(1),
            "t".into(),
        );
        assert!(matches!(err, Err(LoginError::Retry(msg)) if msg.contains("already linked")));
    }

    #[test]
    fn five_wrong_codes_or_ten_minutes_end_the_attempt() {
        let logins = Logins::default();
        let m = members();
        let a = logins.start(request(), String::new(), t(0));
        logins
            .create_account(
                &a.id,
                &a.csrf,
                &details("Jason", "M1", "j@x.example"),
                &m,
                t(0),
                "t".into(),
            )
            .unwrap();
        for _ in 0..4 {
            assert!(matches!(
                logins.verify_code(&a.id, &a.csrf, "x", t(1)),
                Err(LoginError::Retry(_))
            ));
        }
        assert!(matches!(
            logins.verify_code(&a.id, &a.csrf, "x", t(1)),
            Err(LoginError::Ended(_))
        ));
        let b = logins.start(request(), String::new(), t(0));
        let mail = logins
            .create_account(
                &b.id,
                &b.csrf,
                &details("Jason", "M1", "j@x.example"),
                &m,
                t(0),
                "t".into(),
            )
            .unwrap();
        assert!(matches!(
            logins.verify_code(&b.id, &b.csrf, &mail.code, t(600)),
            Err(LoginError::Ended(_))
        ));
    }

    #[test]
    fn member_detail_guesses_are_limited() {
        let logins = Logins::default();
        let m = members();
        let a = logins.start(request(), String::new(), t(0));
        for _ in 0..4 {
            let r = logins.create_account(
                &a.id,
                &a.csrf,
                &details("Jason", "M9", "j@x.example"),
                &m,
                t(0),
                "t".into(),
            );
            assert!(matches!(r, Err(LoginError::Retry(_))));
        }
        let r = logins.create_account(
            &a.id,
            &a.csrf,
            &details("Jason", "M9", "j@x.example"),
            &m,
            t(0),
            "t".into(),
        );
        assert!(matches!(r, Err(LoginError::Ended(_))));
    }

    #[test]
    fn a_consent_decides_once() {
        let logins = Logins::default();
        let m = members();
        let a = logins.start(request(), String::new(), t(0));
        let mail = logins
            .create_account(
                &a.id,
                &a.csrf,
                &details("Jason", "M1", "j@x.example"),
                &m,
                t(0),
                "t".into(),
            )
            .unwrap();
        logins
            .verify_code(&a.id, &a.csrf, &mail.code, t(1))
            .unwrap();
        assert!(logins.decide(&a.id, &a.csrf, t(2)).is_ok());
        assert_eq!(
            logins.decide(&a.id, &a.csrf, t(2)).unwrap_err(),
            LoginError::Unknown
        );
    }

    #[test]
    fn an_email_is_linked_once_and_to_one_account() {
        let jason = Account::member("M1");
        assert_eq!(link_needed(None, &jason), Ok(true));
        assert_eq!(link_needed(Some(&jason), &jason), Ok(false));
        assert!(matches!(
            link_needed(Some(&Account::member("M2")), &jason),
            Err(LoginError::Ended(_))
        ));
    }

    #[test]
    fn email_normalisation() {
        assert_eq!(normalize_email(" A@B.example "), Some("a@b.example".into()));
        assert_eq!(normalize_email("nope"), None);
        assert_eq!(normalize_email("a@b"), None);
        assert_eq!(normalize_email("<script>@x.example"), None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn normalised_emails_are_lowercase_single_at_and_safe(input in "\\PC{0,60}") {
            if let Some(email) = normalize_email(&input) {
                prop_assert_eq!(email.matches('@').count(), 1);
                prop_assert_eq!(email.to_lowercase(), email.clone());
                prop_assert!(!email.contains(['<', '>', '"', '\'']));
                prop_assert!(email.len() <= MAX_EMAIL_LEN);
            }
        }
    }
}
