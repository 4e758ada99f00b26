//! Where developer accounts are kept (docs/developer-accounts.md): in this replica's memory
//! (`crate::developers::Developers`, saved with `--state-dir`), or in hosted mode in the database
//! every replica shares (`db::developers`, docs/hosted.md#developer-accounts). The portal's pages,
//! the outbox and reset ask here, so that they work the same either way; an owner's changes to
//! an app (edit, rotate, delete) go through here too, since in hosted mode they are the
//! database's. Password hashing and checking run off the async runtime
//! (`portal::account::password_work`) and outside any transaction. A database that does not
//! answer is `Unavailable` (the pages answer 503), its cause in the server log.

use std::sync::Arc;

use crate::clock::UnixTime;
use crate::developers::rate_limit::Attempt;
use crate::developers::sessions::NewSession;
use crate::developers::{
    Developer, DeveloperEmail, Developers, SignIn, SignUp, SignedIn, Verified, prepare_sign_up,
    sign_in_key,
};
use crate::http::database_wait::{self, Unavailable};
use crate::http::portal::account::password_work;
use crate::ids::DeveloperId;
use crate::oauth::apps::{App, AppChangeError, AppEdit};
use crate::oauth::secret::Secret;
use crate::state::AppState;

/// The developer accounts of the state, when they are on.
pub struct Accounts<'a> {
    state: &'a AppState,
    memory: &'a Arc<Developers>,
}

/// `database_wait::answered`, its log line saying it was the developer accounts.
async fn answered<T>(
    what: &str,
    call: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, Unavailable> {
    database_wait::answered(&format!("developer accounts: {what}"), call).await
}

/// Password work that did not run (the server is stopping) answers like a database that did
/// not: try again.
async fn password<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Unavailable> {
    password_work(work).await.ok_or(Unavailable)
}

impl<'a> Accounts<'a> {
    /// `None` when accounts are off.
    pub fn of(state: &'a AppState) -> Option<Self> {
        state
            .developers
            .as_ref()
            .map(|memory| Accounts { state, memory })
    }

    /// Opens a sign-up in `browser` (its form token) and sends a code to the outbox
    /// (docs/developer-accounts.md#signing-up).
    pub async fn sign_up(
        &self,
        browser: String,
        email: String,
        password: Secret,
        confirm: Secret,
        now: UnixTime,
        sent_at: String,
    ) -> Result<SignUp, Unavailable> {
        let Some(database) = &self.state.database else {
            let developers = self.memory.clone();
            return self::password(move || {
                developers.sign_up(&browser, &email, &password, &confirm, now, sent_at)
            })
            .await;
        };
        let prepared = self::password(move || prepare_sign_up(&email, &password, &confirm)).await?;
        let (email, hashed) = match prepared {
            Ok(prepared) => prepared,
            Err(problem) => return Ok(SignUp::Invalid(problem)),
        };
        answered(
            "opening a sign-up",
            database.open_developer_sign_up(&browser, email, hashed, now, sent_at),
        )
        .await
    }

    /// The email a sign-up waits to prove, to the browser that opened it, while its code works.
    pub async fn signup_email(
        &self,
        signup: &str,
        browser: &str,
        now: UnixTime,
    ) -> Result<Option<String>, Unavailable> {
        match &self.state.database {
            None => Ok(self.memory.signup_email(signup, browser, now)),
            Some(database) => {
                answered(
                    "reading a sign-up",
                    database.developer_signup_email(signup, browser, now),
                )
                .await
            }
        }
    }

    /// Checks a sign-up's code; `Created` is an account that is saved (with `--state-dir`, or in
    /// the database) and may be signed in. An account the state directory could not take is
    /// forgotten and answered `Ok(None)`.
    pub async fn verify(
        &self,
        signup: &str,
        browser: &str,
        code: &str,
        now: UnixTime,
    ) -> Result<Option<Verified>, Unavailable> {
        let Some(database) = &self.state.database else {
            let verified = self.memory.verify(signup, browser, code, now);
            if let Verified::Created(developer) = &verified {
                // Acknowledged only once saved, as a registered app is
                // (docs/developer-accounts.md#persistence).
                if self.state.oauth.save().is_err() {
                    self.memory.forget(&developer.id);
                    return Ok(None);
                }
            }
            return Ok(Some(verified));
        };
        answered(
            "checking a sign-up's code",
            database.verify_developer(signup, browser, code, now),
        )
        .await
        .map(Some)
    }

    /// Signs in with an email and password, within the failure limit
    /// (docs/developer-accounts.md#signing-in); a success starts a session.
    pub async fn sign_in(
        &self,
        email: String,
        password: Secret,
        now: UnixTime,
    ) -> Result<SignIn, Unavailable> {
        let Some(database) = &self.state.database else {
            let developers = self.memory.clone();
            return self::password(move || developers.sign_in(&email, &password, now)).await;
        };
        let key = sign_in_key(&email);
        let attempt = answered(
            "counting a sign-in",
            database.developer_sign_in_attempt(&key, now),
        )
        .await?;
        if let Attempt::Limited { retry_after } = attempt {
            return Ok(SignIn::Limited { retry_after });
        }
        let developer = answered("reading an account", database.developer_by_email(&key)).await?;
        // An email without an account takes as long as one with (the answer must not tell).
        let (developer, right) = self::password(move || match developer {
            Some(developer) => {
                let right = developer.password_is(&password);
                (Some(developer), right)
            }
            None => {
                crate::developers::password::verify_nothing(&password);
                (None, false)
            }
        })
        .await?;
        let Some(developer) = developer.filter(|_| right) else {
            return Ok(SignIn::Wrong);
        };
        let session = answered(
            "starting a session",
            database.start_developer_session(&developer, Some(&key), now),
        )
        .await?;
        Ok(SignIn::Ok(Box::new(session)))
    }

    /// The developer a session cookie's id signs in, while the session lives.
    pub async fn signed_in(
        &self,
        session_id: &str,
        now: UnixTime,
    ) -> Result<Option<SignedIn>, Unavailable> {
        match &self.state.database {
            None => Ok(self.memory.signed_in(session_id, now)),
            Some(database) => {
                answered(
                    "reading a session",
                    database.developer_session(session_id, now),
                )
                .await
            }
        }
    }

    /// Signs out: the session id stops working, on every replica.
    pub async fn sign_out(&self, session_id: &str) -> Result<(), Unavailable> {
        match &self.state.database {
            None => {
                self.memory.sign_out(session_id);
                Ok(())
            }
            Some(database) => {
                answered(
                    "ending a session",
                    database.end_developer_session(session_id),
                )
                .await
            }
        }
    }

    /// Starts a session for a developer who has just proved their email.
    pub async fn start_session(
        &self,
        developer: &Developer,
        now: UnixTime,
    ) -> Result<NewSession, Unavailable> {
        match &self.state.database {
            None => Ok(self.memory.start_session(developer, now)),
            Some(database) => {
                answered(
                    "starting a session",
                    database.start_developer_session(developer, None, now),
                )
                .await
            }
        }
    }

    /// The owner renames an app or changes its redirect URIs (docs/developer-accounts.md#apps).
    /// A database that does not answer is `Unsaved`.
    pub async fn edit_app(
        &self,
        client_id: &str,
        owner: &DeveloperId,
        edit: AppEdit,
    ) -> Result<App, AppChangeError> {
        let oauth = &self.state.oauth;
        let Some(database) = &self.state.database else {
            return oauth.edit_app(client_id, owner, edit);
        };
        let strict = oauth.config.strict;
        changed(
            answered(
                "editing an app",
                database.change_app(client_id, |app| app.edit(owner, edit, strict), &oauth.apps),
            )
            .await,
        )
    }

    /// The owner rotates an app's client secret
    /// (docs/developer-accounts.md#rotating-a-client-secret).
    pub async fn rotate_secret(
        &self,
        client_id: &str,
        owner: &DeveloperId,
        now: UnixTime,
    ) -> Result<App, AppChangeError> {
        let oauth = &self.state.oauth;
        let Some(database) = &self.state.database else {
            return oauth.rotate_secret(client_id, owner, now);
        };
        changed(
            answered(
                "rotating a client secret",
                database.change_app(client_id, |app| app.rotate_secret(owner, now), &oauth.apps),
            )
            .await,
        )
    }

    /// The owner deletes an app (docs/developer-accounts.md#deleting-an-app): once answered, it
    /// and every code and token issued to it are gone on every replica.
    pub async fn delete_app(
        &self,
        client_id: &str,
        owner: &DeveloperId,
    ) -> Result<App, AppChangeError> {
        let oauth = &self.state.oauth;
        let Some(database) = &self.state.database else {
            return oauth.delete_app(client_id, owner);
        };
        changed(
            answered(
                "deleting an app",
                database.delete_app(client_id, owner, &oauth.apps, &oauth.grants),
            )
            .await,
        )
    }
}

/// A change the database made (or refused), or `Unsaved` when it did not answer.
fn changed(
    answer: Result<Result<App, AppChangeError>, Unavailable>,
) -> Result<App, AppChangeError> {
    answer.unwrap_or(Err(AppChangeError::Unsaved))
}

/// Developer verification emails, oldest first; in hosted mode every replica's. Empty when
/// accounts are off.
pub async fn outbox(state: &AppState) -> Result<Vec<DeveloperEmail>, Unavailable> {
    match (&state.developers, &state.database) {
        (None, _) => Ok(Vec::new()),
        (Some(memory), None) => Ok(memory.outbox()),
        (Some(_), Some(database)) => {
            answered("reading the outbox", database.developer_outbox()).await
        }
    }
}

/// Reset (docs/sandbox-tools.md#reset): sign-ups waiting for a code, counted sign-in failures
/// and the developer emails of the outbox go; in hosted mode on every replica.
pub async fn reset(state: &AppState) -> Result<(), Unavailable> {
    match (&state.developers, &state.database) {
        (None, _) => Ok(()),
        (Some(memory), None) => {
            memory.clear();
            Ok(())
        }
        (Some(_), Some(database)) => answered("reset", database.reset_developers()).await,
    }
}
