//! The member sign-in pages (docs/oauth.md#member-verification): plain HTML forms, driveable by `curl`. Each handler reads
//! the form, takes the step where the plan's sign-ins are kept (`http::sign_ins`: memory, or
//! hosted mode's database), and maps the outcome to the next page, a redirect, or the same page
//! with a message.

use crate::clock::UnixTime;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::authorize::found;
use crate::http::pages::PlanBrand;
use crate::http::pages::{error_page, render};
use crate::http::request_context::Now;
use crate::http::sign_ins::SignIns;
use crate::http::{form, routes};
use crate::oauth::authorize::{error_redirect, redirect_with};
use crate::oauth::login::{
    AccountDetails, Attempt, LoginError, OutboxMessage, RepresentativeDetails, Stage,
};
use crate::oauth::{ErrorCode, consent, scopes};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "sign_in_start.html")]
struct StartPage<'a> {
    brand: PlanBrand,
    attempt: &'a str,
    app_name: &'a str,
}

#[derive(Template, Default)]
#[template(path = "create_account.html")]
struct CreatePage<'a> {
    brand: PlanBrand,
    attempt: &'a str,
    csrf: &'a str,
    error: Option<String>,
    first_name: &'a str,
    last_name: &'a str,
    member_id: &'a str,
    postal_code: &'a str,
    email: &'a str,
}

#[derive(Template, Default)]
#[template(path = "create_representative.html")]
struct RepresentativePage<'a> {
    brand: PlanBrand,
    attempt: &'a str,
    csrf: &'a str,
    error: Option<String>,
    your_first_name: &'a str,
    your_last_name: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    member_id: &'a str,
    postal_code: &'a str,
    email: &'a str,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    brand: PlanBrand,
    attempt: &'a str,
    csrf: &'a str,
    error: Option<String>,
    email: &'a str,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage<'a> {
    brand: PlanBrand,
    attempt: &'a str,
    csrf: &'a str,
    error: Option<String>,
    email: &'a str,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    brand: PlanBrand,
    attempt: &'a str,
    csrf: &'a str,
    app_name: &'a str,
    member_name: &'a str,
    /// "Keiko Nakamura (mother)", when a personal representative signs in for the member.
    representative: Option<String>,
    /// What the member may untick, in groups (docs/oauth.md#consent).
    groups: Vec<consent::Group>,
    /// The other scopes (openid, offline_access, …), in words and as asked.
    scopes: Vec<(String, String)>,
}

#[derive(Debug, Default, Deserialize)]
struct CreateForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    member_id: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    email: String,
}

#[derive(Debug, Default, Deserialize)]
struct RepresentativeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    your_first_name: String,
    #[serde(default)]
    your_last_name: String,
    #[serde(flatten)]
    member: CreateForm,
}

#[derive(Debug, Default, Deserialize)]
struct EmailForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
}

#[derive(Debug, Default, Deserialize)]
struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
}

/// The consent form: `share` repeats, one per ticked choice, which `serde_urlencoded` cannot
/// read; `choices` says the form offered choices (a scripted client that posts only the
/// decision shares everything asked).
#[derive(Debug, Default)]
struct ConsentForm {
    csrf_token: String,
    decision: String,
    choices: bool,
    share: Vec<String>,
}

impl ConsentForm {
    fn parse(body: &[u8]) -> ConsentForm {
        let mut f = ConsentForm::default();
        for (name, value) in url::form_urlencoded::parse(body) {
            match name.as_ref() {
                "csrf_token" => f.csrf_token = value.into_owned(),
                "decision" => f.decision = value.into_owned(),
                "choices" => f.choices = true,
                "share" => f.share.push(value.into_owned()),
                _ => {}
            }
        }
        f
    }
}

/// The page for an attempt that cannot go on; a step that cannot be taken now (or a message
/// for a page the member is not on) sends the member to where the attempt is.
async fn failure(state: &AppState, now: UnixTime, attempt: &str, error: LoginError) -> Response {
    match error {
        LoginError::WrongStep | LoginError::Retry(_) => {
            match SignIns::of(state).get(attempt, now).await {
                Ok(current) => Redirect::to(&stage_path(&current)).into_response(),
                Err(e) => refused(e),
            }
        }
        other => refused(other),
    }
}

/// The page for an attempt that cannot go on, or cannot be reached now.
fn refused(error: LoginError) -> Response {
    match error {
        // Not an error of the member's: their attempt is as it was, and the same form can be
        // sent again once the database answers.
        LoginError::Unavailable => error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable for a moment",
            "The sign-in could not be read or saved: the server's database does not answer. Wait a moment, then go back and send the form again.",
            None,
        ),
        LoginError::Unknown | LoginError::WrongStep | LoginError::Retry(_) => error_page(
            StatusCode::NOT_FOUND,
            "This sign-in link is no longer valid",
            "The sign-in attempt was finished, has expired, or never existed. Return to the app and connect again.",
            None,
        ),
        LoginError::Ended(reason) => error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in ended",
            &format!("This sign-in attempt has ended: {reason}."),
            None,
        ),
        LoginError::Csrf => error_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "The form was not sent from this sign-in page (its security token is missing or wrong). Go back, reload the page and try again.",
            None,
        ),
    }
}

/// Where an attempt's member should be now.
fn stage_path(attempt: &Attempt) -> String {
    let template = match attempt.stage {
        Stage::Start => routes::LOGIN,
        Stage::Code { .. } => routes::LOGIN_VERIFY,
        Stage::Consent { .. } => routes::LOGIN_CONSENT,
    };
    routes::login_path(template, &attempt.id)
}

/// An "ended" page offers to start again with the app's original request.
async fn ended(state: &AppState, now: UnixTime, attempt: &Attempt, error: LoginError) -> Response {
    match error {
        LoginError::Ended(reason) => error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in ended",
            &format!("This sign-in attempt has ended: {reason}."),
            Some(format!("{}?{}", routes::AUTHORIZE, attempt.restart_query)),
        ),
        other => failure(state, now, &attempt.id, other).await,
    }
}

/// The open attempt, or the page that says why not.
async fn open(state: &AppState, now: UnixTime, attempt: &str) -> Result<Attempt, Response> {
    SignIns::of(state).get(attempt, now).await.map_err(refused)
}

fn malformed(e: String) -> Response {
    error_page(StatusCode::BAD_REQUEST, "Malformed form", &e, None)
}

/// The open attempt and its posted form, or the page that says why not.
async fn open_with_form<F: for<'de> serde::Deserialize<'de>>(
    state: &AppState,
    now: UnixTime,
    attempt: &str,
    body: &[u8],
) -> Result<(Attempt, F), Response> {
    let a = open(state, now, attempt).await?;
    let f = form::parse(body).map_err(malformed)?;
    Ok((a, f))
}

/// A code went to the outbox (and, as docs/oauth.md#email-verification says, to the log): on to the code page.
fn code_sent(attempt: &str, email: &OutboxMessage) -> Response {
    tracing::info!(to = %email.to, code = %email.code, "verification email sent (sandbox outbox)");
    Redirect::to(&routes::login_path(routes::LOGIN_VERIFY, attempt)).into_response()
}

/// Where a step that sends a code goes next: the code page, the same form again with the
/// message (`retry`), or the page that says the attempt ended.
async fn after_sending(
    state: &AppState,
    now: UnixTime,
    a: &Attempt,
    sent: Result<OutboxMessage, LoginError>,
    retry: impl FnOnce(String) -> Response,
) -> Response {
    match sent {
        Ok(email) => code_sent(&a.id, &email),
        Err(LoginError::Retry(message)) => retry(message),
        Err(e) => ended(state, now, a, e).await,
    }
}

impl CreateForm {
    /// The member's details as the form gave them.
    fn details(&self) -> AccountDetails {
        AccountDetails {
            given: self.first_name.clone(),
            family: self.last_name.clone(),
            member_id: self.member_id.clone(),
            postal_code: self.postal_code.clone(),
            email: self.email.clone(),
        }
    }
}

pub async fn start(
    State(state): State<AppState>,
    Now(now): Now,
    Path(attempt): Path<String>,
) -> Response {
    match open(&state, now, &attempt).await {
        Ok(a) => render(
            StatusCode::OK,
            &StartPage {
                brand: PlanBrand::of(&state),
                attempt: &a.id,
                app_name: &a.request.app_name,
            },
        ),
        Err(response) => response,
    }
}

pub async fn create_form(
    State(state): State<AppState>,
    Now(now): Now,
    Path(attempt): Path<String>,
) -> Response {
    match open(&state, now, &attempt).await {
        Ok(a) => render(
            StatusCode::OK,
            &CreatePage {
                brand: PlanBrand::of(&state),
                attempt: &a.id,
                csrf: &a.csrf,
                ..Default::default()
            },
        ),
        Err(response) => response,
    }
}

pub async fn create(
    State(state): State<AppState>,
    Now(now): Now,
    Path(attempt): Path<String>,
    body: Bytes,
) -> Response {
    let (a, f): (Attempt, CreateForm) = match open_with_form(&state, now, &attempt, &body).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let sent = SignIns::of(&state)
        .create_account(&a.id, &f.csrf_token, &f.details(), now, form::rfc3339(now))
        .await;
    after_sending(&state, now, &a, sent, |message| {
        render(
            StatusCode::BAD_REQUEST,
            &CreatePage {
                brand: PlanBrand::of(&state),
                attempt: &a.id,
                csrf: &a.csrf,
                error: Some(message),
                first_name: &f.first_name,
                last_name: &f.last_name,
                member_id: &f.member_id,
                postal_code: &f.postal_code,
                email: &f.email,
            },
        )
    })
    .await
}

pub async fn representative_form(
    State(state): State<AppState>,
    Now(now): Now,
    Path(attempt): Path<String>,
) -> Response {
    match open(&state, now, &attempt).await {
        Ok(a) => render(
            StatusCode::OK,
            &RepresentativePage {
                brand: PlanBrand::of(&state),
                attempt: &a.id,
                csrf: &a.csrf,
                ..Default::default()
            },
        ),
        Err(response) => response,
    }
}

pub async fn create_representative(
    State(state): State<AppState>,
    Now(now): Now,
    Path(attempt): Path<String>,
    body: Bytes,
) -> Response {
    let (a, f): (Attempt, RepresentativeForm) =
        match open_with_form(&state, now, &attempt, &body).await {
            Ok(opened) => opened,
            Err(response) => return response,
        };
    let m = &f.member;
    let details = RepresentativeDetails {
        given: f.your_first_name.clone(),
        family: f.your_last_name.clone(),
        member: m.details(),
    };
    let sent = SignIns::of(&state)
        .create_representative(&a.id, &f.csrf_token, &details, now, form::rfc3339(now))
        .await;
    after_sending(&state, now, &a, sent, |message| {
        render(
            StatusCode::BAD_REQUEST,
            &RepresentativePage {
                brand: PlanBrand::of(&state),
                attempt: &a.id,
                csrf: &a.csrf,
                error: Some(message),
                your_first_name: &f.your_first_name,
                your_last_name: &f.your_last_name,
                first_name: &m.first_name,
                last_name: &m.last_name,
                member_id: &m.member_id,
                postal_code: &m.postal_code,
                email: &m.email,
            },
        )
    })
    .await
}

pub async fn sign_in_form(
    State(state): State<AppState>,
    Now(now): Now,
    Path(attempt): Path<String>,
) -> Response {
    match open(&state, now, &attempt).await {
        Ok(a) => render(
            StatusCode::OK,
            &SignInPage {
                brand: PlanBrand::of(&state),
                attempt: &a.id,
                csrf: &a.csrf,
                error: None,
                email: "",
            },
        ),
        Err(response) => response,
    }
}

pub async fn sign_in(
    State(state): State<AppState>,
    Now(now): Now,
    Path(attempt): Path<String>,
    body: Bytes,
) -> Response {
    let (a, f): (Attempt, EmailForm) = match open_with_form(&state, now, &attempt, &body).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };

    let sent = SignIns::of(&state)
        .sign_in(&a.id, &f.csrf_token, &f.email, now, form::rfc3339(now))
        .await;
    after_sending(&state, now, &a, sent, |message| {
        render(
            StatusCode::BAD_REQUEST,
            &SignInPage {
                brand: PlanBrand::of(&state),
                attempt: &a.id,
                csrf: &a.csrf,
                error: Some(message),
                email: &f.email,
            },
        )
    })
    .await
}

pub async fn verify_form(
    State(state): State<AppState>,
    Now(now): Now,
    Path(attempt): Path<String>,
) -> Response {
    match open(&state, now, &attempt).await {
        Ok(a) => match &a.stage {
            Stage::Code { email, .. } => render(
                StatusCode::OK,
                &VerifyPage {
                    brand: PlanBrand::of(&state),
                    attempt: &a.id,
                    csrf: &a.csrf,
                    error: None,
                    email,
                },
            ),
            _ => Redirect::to(&stage_path(&a)).into_response(),
        },
        Err(response) => response,
    }
}

pub async fn verify(
    State(state): State<AppState>,
    Now(now): Now,
    Path(attempt): Path<String>,
    body: Bytes,
) -> Response {
    let (a, f): (Attempt, CodeForm) = match open_with_form(&state, now, &attempt, &body).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    match SignIns::of(&state)
        .verify_code(&a.id, &f.csrf_token, &f.code, now)
        .await
    {
        Ok(_) => Redirect::to(&routes::login_path(routes::LOGIN_CONSENT, &a.id)).into_response(),
        Err(LoginError::Retry(message)) => {
            let email = match &a.stage {
                Stage::Code { email, .. } => email.as_str(),
                _ => "",
            };
            render(
                StatusCode::BAD_REQUEST,
                &VerifyPage {
                    brand: PlanBrand::of(&state),
                    attempt: &a.id,
                    csrf: &a.csrf,
                    error: Some(message),
                    email,
                },
            )
        }
        Err(e) => ended(&state, now, &a, e).await,
    }
}

pub async fn consent_form(
    State(state): State<AppState>,
    Now(now): Now,
    Path(attempt): Path<String>,
) -> Response {
    let a = match open(&state, now, &attempt).await {
        Ok(a) => a,
        Err(response) => return response,
    };
    let Stage::Consent { account, .. } = &a.stage else {
        return Redirect::to(&stage_path(&a)).into_response();
    };
    let member = state.members.by_member_id(&account.member_id);
    let member_name = member.map(|m| m.display_name()).unwrap_or_default();
    let representative = account
        .representative
        .as_deref()
        .and_then(|id| member?.representative(id))
        .map(|r| {
            format!(
                "{} ({})",
                r.display_name(),
                r.relationship_display.to_lowercase()
            )
        });
    let groups = consent::choices(&a.request.scopes);
    let scopes = a
        .request
        .scopes
        .iter()
        .filter(|s| scopes::Scope::parse(s).is_some_and(|s| s.target_type().is_none()))
        .map(|s| (scopes::describe(s), s.to_owned()))
        .collect();
    render(
        StatusCode::OK,
        &ConsentPage {
            brand: PlanBrand::of(&state),
            attempt: &a.id,
            csrf: &a.csrf,
            app_name: &a.request.app_name,
            member_name: &member_name,
            representative,
            groups,
            scopes,
        },
    )
}

pub async fn consent(
    State(state): State<AppState>,
    Now(now): Now,
    Path(attempt): Path<String>,
    body: Bytes,
) -> Response {
    let f = ConsentForm::parse(&body);
    let allow = match f.decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => return malformed("decision must be allow or deny".to_owned()),
    };

    let (mut request, account, authenticated_at) = match SignIns::of(&state)
        .decide(&attempt, &f.csrf_token, now)
        .await
    {
        Ok(decided) => decided,
        Err(e) => return failure(&state, now, &attempt, e).await,
    };
    if !allow {
        return found(&error_redirect(
            &request.redirect_uri,
            ErrorCode::AccessDenied,
            "the member denied access",
            request.state.as_deref(),
        ));
    }
    if f.choices {
        // What the page offered and the member left unticked is declined.
        let declined: Vec<String> = consent::choices(&request.scopes)
            .into_iter()
            .flat_map(|g| g.choices)
            .map(|c| c.value)
            .filter(|v| !f.share.contains(v))
            .collect();
        request.scopes = consent::without(&request.scopes, &declined);
        if !request.scopes.has_resource_access() {
            return found(&error_redirect(
                &request.redirect_uri,
                ErrorCode::AccessDenied,
                "the member chose to share no records",
                request.state.as_deref(),
            ));
        }
    }
    let Some(member) = state.members.by_member_id(&account.member_id) else {
        return refused(LoginError::Unknown);
    };
    let representative = account
        .representative
        .as_deref()
        .and_then(|id| member.representative(id));
    let code = state
        .oauth
        .issue_code(&request, member, representative, authenticated_at, now);
    if !state.share_code(&code).await {
        // RFC 6749 §4.1.2.1: the app hears that the server cannot answer now.
        return found(&error_redirect(
            &request.redirect_uri,
            ErrorCode::TemporarilyUnavailable,
            "the sandbox's database did not answer: try again shortly",
            request.state.as_deref(),
        ));
    }
    let mut params = vec![("code", code.as_str())];
    if let Some(app_state) = request.state.as_deref() {
        params.push(("state", app_state));
    }
    found(&redirect_with(&request.redirect_uri, &params))
}
