//! Where a plan's member sign-in is kept (docs/oauth.md#member-verification): the attempts, the
//! email links and the outbox live in this replica's memory (`oauth::login::Logins`), or in
//! hosted mode in the database every replica shares (`db::signin`,
//! docs/hosted.md#member-sign-in). The sign-in pages, the request log's note of the app, the
//! outbox and reset ask here, so that they work the same either way. A database that does not
//! answer is `LoginError::Unavailable` (the pages answer 503), its cause in the server log.

use std::time::Duration;

use crate::clock::UnixTime;
use crate::db::signin::Step;
use crate::http::database_wait;
use crate::ids::{ClientId, PlanId};
use crate::oauth::authorize::AuthorizeRequest;
use crate::oauth::login::{
    Account, AccountDetails, Attempt, LoginError, OutboxMessage, RepresentativeDetails,
};
use crate::state::AppState;

/// The longest the request log waits to learn a sign-in page's app: the page's own step comes
/// next, so a database that does not answer holds the page up once, not twice.
const ATTRIBUTION_WAIT: Duration = Duration::from_millis(300);

pub use crate::http::database_wait::Unavailable;

/// A plan's sign-ins: the state's plan, in memory or in the shared database.
pub struct SignIns<'a> {
    state: &'a AppState,
}

/// `database_wait::answered`, its log line saying it was the member sign-in.
async fn answered<T>(
    what: &str,
    call: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, Unavailable> {
    database_wait::answered(&format!("member sign-in: {what}"), call).await
}

/// A step on the shared attempt: the rule's answer, or `Unavailable`.
async fn step<T>(what: &str, call: impl Future<Output = Step<T>>) -> Result<T, LoginError> {
    answered(what, call)
        .await
        .unwrap_or(Err(LoginError::Unavailable))
}

impl<'a> SignIns<'a> {
    pub fn of(state: &'a AppState) -> Self {
        Self { state }
    }

    fn plan(&self) -> &PlanId {
        &self.state.plan.id
    }

    /// A new attempt for an authorization request that passed every check.
    pub async fn start(
        &self,
        request: AuthorizeRequest,
        restart_query: String,
        now: UnixTime,
    ) -> Result<Attempt, LoginError> {
        let logins = &self.state.oauth.logins;
        let Some(database) = &self.state.database else {
            return Ok(logins.start(request, restart_query, now));
        };
        let attempt = logins.new_attempt(request, restart_query, now);
        answered(
            "starting an attempt",
            database.start_sign_in(self.plan(), &attempt, now),
        )
        .await
        .map_err(|Unavailable| LoginError::Unavailable)?;
        Ok(attempt)
    }

    /// The attempt, if it is still open.
    pub async fn get(&self, id: &str, now: UnixTime) -> Result<Attempt, LoginError> {
        match &self.state.database {
            None => self.state.oauth.logins.get(id, now),
            Some(database) => {
                step(
                    "reading an attempt",
                    database.sign_in_attempt(self.plan(), id, now),
                )
                .await
            }
        }
    }

    /// The app an attempt is for (for the request log and faults), if it can be known quickly.
    pub async fn attempt_client(&self, id: &str) -> Option<ClientId> {
        match &self.state.database {
            None => self.state.oauth.logins.attempt_client(id),
            Some(database) => database_wait::answered_within(
                ATTRIBUTION_WAIT,
                "member sign-in: reading an attempt's app",
                database.sign_in_client(self.plan(), id),
            )
            .await
            .ok()
            .flatten(),
        }
    }

    pub async fn create_account(
        &self,
        id: &str,
        csrf: &str,
        details: &AccountDetails,
        now: UnixTime,
        sent_at: String,
    ) -> Result<OutboxMessage, LoginError> {
        let members = &self.state.members;
        match &self.state.database {
            None => self
                .state
                .oauth
                .logins
                .create_account(id, csrf, details, members, now, sent_at),
            Some(database) => {
                step(
                    "creating an account",
                    database.create_account(self.plan(), id, csrf, details, members, now, sent_at),
                )
                .await
            }
        }
    }

    pub async fn create_representative(
        &self,
        id: &str,
        csrf: &str,
        details: &RepresentativeDetails,
        now: UnixTime,
        sent_at: String,
    ) -> Result<OutboxMessage, LoginError> {
        let members = &self.state.members;
        match &self.state.database {
            None => self
                .state
                .oauth
                .logins
                .create_representative(id, csrf, details, members, now, sent_at),
            Some(database) => {
                step(
                    "creating a representative's account",
                    database.create_representative(
                        self.plan(),
                        id,
                        csrf,
                        details,
                        members,
                        now,
                        sent_at,
                    ),
                )
                .await
            }
        }
    }

    pub async fn sign_in(
        &self,
        id: &str,
        csrf: &str,
        email: &str,
        now: UnixTime,
        sent_at: String,
    ) -> Result<OutboxMessage, LoginError> {
        let members = &self.state.members;
        match &self.state.database {
            None => self
                .state
                .oauth
                .logins
                .sign_in(id, csrf, email, members, now, sent_at),
            Some(database) => {
                step(
                    "signing in",
                    database.sign_in(self.plan(), id, csrf, email, members, now, sent_at),
                )
                .await
            }
        }
    }

    /// Checks the emailed code; a new account's email is linked (in memory, or in the database),
    /// and saved to the state directory if there is one.
    pub async fn verify_code(
        &self,
        id: &str,
        csrf: &str,
        entered: &str,
        now: UnixTime,
    ) -> Result<Option<(String, Account)>, LoginError> {
        match &self.state.database {
            None => {
                let new_link = self
                    .state
                    .oauth
                    .logins
                    .verify_code(id, csrf, entered, now)?;
                if new_link.is_some() {
                    // The link lives in memory either way; a failed save is logged by the
                    // persister.
                    let _ = self.state.oauth.save();
                }
                Ok(new_link)
            }
            Some(database) => {
                let new_link = step(
                    "verifying a code",
                    database.verify_code(self.plan(), id, csrf, entered, now),
                )
                .await?;
                if let Some(link) = &new_link {
                    // A copy for `--state-dir`, as registered apps are kept there too; sign-in
                    // reads the database's links only.
                    self.state.oauth.logins.restore_links([link.clone()]);
                    let _ = self.state.oauth.save();
                }
                Ok(new_link)
            }
        }
    }

    /// The member's decision: the attempt is over.
    pub async fn decide(
        &self,
        id: &str,
        csrf: &str,
        now: UnixTime,
    ) -> Result<(AuthorizeRequest, Account, UnixTime), LoginError> {
        match &self.state.database {
            None => self.state.oauth.logins.decide(id, csrf, now),
            Some(database) => step("deciding", database.decide(self.plan(), id, csrf, now)).await,
        }
    }
}

/// Every plan's verification emails, oldest first per plan, the default plan's first; in hosted
/// mode every replica's.
pub async fn outbox(state: &AppState) -> Result<Vec<(PlanId, OutboxMessage)>, Unavailable> {
    let Some(database) = &state.database else {
        return Ok(state.oauth.shared().outbox());
    };
    let mut emails = answered("reading the outbox", database.outbox()).await?;
    let plans: Vec<PlanId> = state.plans().iter().map(|p| p.plan.id.clone()).collect();
    // Stable: each plan's emails stay in the order they were sent.
    emails.sort_by_key(|(plan, _)| plans.iter().position(|p| p == plan).unwrap_or(usize::MAX));
    Ok(emails)
}

/// Reset (docs/sandbox-tools.md#reset) in hosted mode: every plan's attempts, email links and
/// outbox, on every replica. (Each replica's memory goes with `OAuthServer::reset_plan`.)
pub async fn reset(state: &AppState) -> Result<(), Unavailable> {
    match &state.database {
        Some(database) => answered("reset", database.reset_sign_ins()).await,
        None => Ok(()),
    }
}
