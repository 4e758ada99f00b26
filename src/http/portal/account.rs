//! What every developer-account page shares (docs/developer-accounts.md#sessions,
//! docs/developer-accounts.md#csrf): the session cookie (`HttpOnly; SameSite=Lax; Path=/portal`,
//! `Secure` when the public URL is https) and the developer it signs in; the two kinds of
//! anti-CSRF token (a signed-in form carries its session's; the sign-up and sign-in forms, before
//! any session, a token that must also be in their own cookie); and running password hashing off
//! the async runtime, two at a time.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::clock::UnixTime;
use crate::developers::sessions::NewSession;
use crate::developers::{SignedIn, sessions};
use crate::http::database_wait::Unavailable;
use crate::http::developer_accounts::Accounts;
use crate::http::form;
use crate::http::pages::error_page;
use crate::http::routes;
use crate::oauth::secret::Secret;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "payer_sandbox_session";
pub const FORM_COOKIE: &str = "payer_sandbox_form";

/// Argon2 work at once: each takes a core and 19 MiB, so more would only queue in the kernel
/// and grow memory under a burst of sign-ins.
static HASHING: Semaphore = Semaphore::const_new(2);

/// Runs password work (hashing, verifying: tens of milliseconds of CPU) on the blocking pool,
/// so that it never stalls the requests sharing the runtime's threads. `None` if it could not
/// run (the runtime is shutting down).
pub async fn password_work<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let _permit = HASHING.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// The value of cookie `name` in the request (RFC 6265 §5.4: `name=value` pairs split by `;`,
/// in one or more `Cookie` headers).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// A cookie for the portal's pages: `HttpOnly` (no script reads it; the pages run none anyway),
/// `SameSite=Lax` (a cross-site form post does not carry it), `Secure` when the sandbox is
/// served over https.
fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) -> Option<HeaderValue> {
    let mut cookie = format!(
        "{name}={value}; Path={}; HttpOnly; SameSite=Lax",
        routes::PORTAL_COOKIE_PATH
    );
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if state.public_url.starts_with("https://") {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).ok()
}

/// `response` with the cookie set.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// The session cookie for a new session: it ends with the session.
pub fn session_cookie(state: &AppState, id: &Secret) -> Option<HeaderValue> {
    set_cookie(
        state,
        SESSION_COOKIE,
        id.expose(),
        Some(sessions::LIFETIME_SECS),
    )
}

/// Tells the browser to forget its session cookie.
pub fn clear_session_cookie(state: &AppState) -> Option<HeaderValue> {
    set_cookie(state, SESSION_COOKIE, "", Some(0))
}

/// The developer accounts, when on (their routes exist only then).
pub fn accounts(state: &AppState) -> Result<Accounts<'_>, Response> {
    Accounts::of(state).ok_or_else(not_found)
}

/// The page every missing, or someone else's, app or sign-up gets: the two look alike.
pub fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page in your developer account.",
        None,
    )
}

/// The signed-in developer of the request's session cookie, if its session lives.
pub async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    now: UnixTime,
) -> Result<Option<SignedIn>, Unavailable> {
    let (Some(accounts), Some(id)) = (Accounts::of(state), cookie(headers, SESSION_COOKIE)) else {
        return Ok(None);
    };
    accounts.signed_in(&id, now).await
}

/// The signed-in developer, or the answer for a request without one: the sign-in page (303,
/// and the browser forgets a cookie whose session ended), or 503 when the sessions cannot be
/// read.
pub async fn require(
    state: &AppState,
    headers: &HeaderMap,
    now: UnixTime,
) -> Result<SignedIn, Response> {
    accounts(state)?;
    match signed_in(state, headers, now).await {
        Ok(Some(signed_in)) => Ok(signed_in),
        Ok(None) => {
            let redirect = Redirect::to(routes::PORTAL_SIGNIN).into_response();
            Err(match cookie(headers, SESSION_COOKIE) {
                Some(_) => with_cookie(redirect, clear_session_cookie(state)),
                None => redirect,
            })
        }
        Err(Unavailable) => Err(unavailable()),
    }
}

fn form_expired() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Form expired",
        "The form was not sent from this portal's page (its security token is missing or wrong). Reload the page and try again.",
        None,
    )
}

/// A signed-in form's token must be its session's (compared in constant time).
pub fn check_session_csrf(signed_in: &SignedIn, presented: &str) -> Result<(), Response> {
    let expected = signed_in.session.csrf.expose().as_bytes();
    if bool::from(expected.ct_eq(presented.as_bytes())) {
        Ok(())
    } else {
        Err(form_expired())
    }
}

/// The token for a sign-up or sign-in form, before any session: the one in the browser's form
/// cookie while it is still good (ours and under an hour old), else a new one with the cookie to
/// set.
pub fn form_token(
    state: &AppState,
    headers: &HeaderMap,
    now: UnixTime,
) -> (String, Option<HeaderValue>) {
    match cookie(headers, FORM_COOKIE).filter(|token| state.csrf.check(token, now)) {
        Some(token) => (token, None),
        None => {
            let token = state.csrf.issue(now);
            let cookie = set_cookie(state, FORM_COOKIE, &token, None);
            (token, cookie)
        }
    }
}

/// A sign-up or sign-in form's token: issued by this server, unexpired, and the same as the
/// form cookie's. A cross-site post carries no `SameSite=Lax` cookie, so it fails here even
/// with a token its author fetched for themselves: no one can sign a victim in to their account.
pub fn check_form_token(
    state: &AppState,
    headers: &HeaderMap,
    presented: &str,
    now: UnixTime,
) -> Result<(), Response> {
    let in_cookie = cookie(headers, FORM_COOKIE).unwrap_or_default();
    let same = bool::from(in_cookie.as_bytes().ct_eq(presented.as_bytes()));
    if same && !presented.is_empty() && state.csrf.check(presented, now) {
        Ok(())
    } else {
        Err(form_expired())
    }
}

/// What the sign-up and sign-in pages show first: a signed-in browser goes to `/portal` (303);
/// any other gets the form's token, and the cookie to set when it is new.
pub async fn before_a_session(
    state: &AppState,
    headers: &HeaderMap,
    now: UnixTime,
) -> Result<(String, Option<HeaderValue>), Response> {
    match signed_in(state, headers, now).await {
        Ok(Some(_)) => Err(Redirect::to(routes::PORTAL).into_response()),
        Ok(None) => Ok(form_token(state, headers, now)),
        Err(Unavailable) => Err(unavailable()),
    }
}

/// A sign-up or sign-in form, posted before any session: the accounts, and the form, its token
/// checked against the form cookie (`check_form_token`).
pub fn posted_before_a_session<'a, F: DeserializeOwned>(
    state: &'a AppState,
    headers: &HeaderMap,
    body: &[u8],
    now: UnixTime,
    token: impl Fn(&F) -> &str,
) -> Result<(Accounts<'a>, F), Response> {
    let accounts = accounts(state)?;
    let f: F = form::parse(body)
        .map_err(|e| error_page(StatusCode::BAD_REQUEST, "Malformed form", &e, None))?;
    check_form_token(state, headers, token(&f), now)?;
    Ok((accounts, f))
}

/// A signed-in developer's form: the accounts, the developer, and the form, its token checked
/// against the session's (`check_session_csrf`).
pub async fn posted_signed_in<'a, F: DeserializeOwned>(
    state: &'a AppState,
    headers: &HeaderMap,
    body: &[u8],
    now: UnixTime,
    token: impl Fn(&F) -> &str,
) -> Result<(Accounts<'a>, SignedIn, F), Response> {
    let accounts = accounts(state)?;
    let signed_in = require(state, headers, now).await?;
    let f: F = form::parse(body)
        .map_err(|e| error_page(StatusCode::BAD_REQUEST, "Malformed form", &e, None))?;
    check_session_csrf(&signed_in, token(&f))?;
    Ok((accounts, signed_in, f))
}

/// Signs the browser in to a session just started: the session the browser had before, if
/// any, ends on the server too (a signed-in browser never leaves one behind that its cookie no
/// longer names), and the answer is 303 to `/portal` with the new session's cookie.
pub async fn enter_session(
    state: &AppState,
    accounts: &Accounts<'_>,
    headers: &HeaderMap,
    session: &NewSession,
) -> Response {
    end_session(accounts, headers).await;
    with_cookie(
        Redirect::to(routes::PORTAL).into_response(),
        session_cookie(state, &session.id),
    )
}

/// Ends the session the browser's cookie names, if any. A database that does not answer leaves
/// it to end by itself (12 hours): the browser is told to forget it either way.
pub async fn end_session(accounts: &Accounts<'_>, headers: &HeaderMap) {
    if let Some(id) = cookie(headers, SESSION_COOKIE) {
        // Logged by the accounts when it fails; the answer stays the same.
        let _ = accounts.sign_out(&id).await;
    }
}

/// Work that did not run (the server is stopping).
pub fn unavailable() -> Response {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "The server could not do that just now. Try again in a moment.",
        None,
    )
}
