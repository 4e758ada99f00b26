//! The layer in front of every route: it reads the sandbox clock once (`now`, for every expiry
//! and timestamp of the request), works out who is calling once (`Caller`), hands both to the
//! extractors and handlers through the request's extensions with a `LogNotes` they fill in, and
//! once the response is ready appends the request to the request log
//! (docs/sandbox-tools.md#request-log), then sends the response in the encoding the client
//! accepts (`compress`, docs/fhir-api.md#compression).
//!
//! Only requests that reached a tagged endpoint are logged (`endpoint::tagged`): the sandbox's
//! own tools, `/healthz` and the stylesheet are the test harness, not the client, and their
//! routes carry no tag. This is the pattern of crates.io's request log: handlers add what they
//! know, the layer writes one entry.

use crate::clock::UnixTime;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use crate::compression::SegmentCache;
use crate::http::MAX_BODY_BYTES;
use crate::http::caller::{self, Caller};
use crate::http::compress;
use crate::ids::{ClientId, TokenTag};
use crate::sandbox::endpoint::Endpoint;
use crate::sandbox::interaction::Interaction;
use crate::sandbox::request_log::{LoggedRequest, Notes, log_millis, log_time, redact_query};
use crate::state::AppState;

/// What every extractor and handler of one request shares.
#[derive(Clone)]
pub struct RequestContext {
    /// The request's one reading of the sandbox clock.
    pub now: OffsetDateTime,
    /// Real time, from the same reading: what a client's own timestamps (a client assertion's
    /// `exp`) are compared with.
    pub real_now: OffsetDateTime,
    pub caller: Arc<Caller>,
    pub notes: LogNotes,
    /// The form body, when the request had one (read once, for the caller and the faults).
    pub form: Option<Bytes>,
}

impl RequestContext {
    pub fn now_unix(&self) -> UnixTime {
        self.now.into()
    }

    pub fn real_now_unix(&self) -> UnixTime {
        self.real_now.into()
    }
}

impl FromRequestParts<AppState> for RequestContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(context) = parts.extensions.get::<RequestContext>() {
            return Ok(context.clone());
        }
        // Only a router built without the layer gets here: work it out now, the same way.
        let reading = state.clock.read();
        let now = reading.sandbox;
        let query = parts.uri.query().unwrap_or_default();
        let caller = caller::identify(state, &parts.headers, query, None, now.into()).await;
        Ok(RequestContext {
            now,
            real_now: reading.real,
            caller: Arc::new(caller),
            notes: LogNotes::default(),
            form: None,
        })
    }
}

/// The request's one reading of the sandbox clock, as Unix seconds: what expiries compare with.
pub struct Now(pub UnixTime);

impl FromRequestParts<AppState> for Now {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(context) = RequestContext::from_request_parts(parts, state).await;
        Ok(Now(context.now_unix()))
    }
}

/// What handlers tell the request log about the request they answer.
#[derive(Clone, Default)]
pub struct LogNotes(Arc<Mutex<Notes>>);

impl LogNotes {
    fn lock(&self) -> MutexGuard<'_, Notes> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn endpoint(&self, endpoint: Endpoint) {
        self.lock().endpoint = Some(endpoint);
    }

    pub fn grant_type(&self, grant_type: Option<&str>) {
        self.lock().grant_type = grant_type.filter(|g| !g.is_empty()).map(str::to_owned);
    }

    pub fn offered_next(&self, url: Option<String>) {
        self.lock().offered_next = url;
    }

    pub fn expires_in(&self, seconds: i64) {
        self.lock().expires_in = Some(seconds);
    }

    /// The access token a token response issued, and the id_token flaw it carried.
    pub fn issued(&self, access_token: &str, id_token_flaw: Option<&'static str>) {
        let mut notes = self.lock();
        notes.issued_token = Some(TokenTag::of(access_token));
        notes.id_token_flaw = id_token_flaw;
    }

    pub fn client_auth(&self, method: &'static str) {
        self.lock().client_auth = Some(method);
    }

    pub fn followed_next(&self) {
        self.lock().followed_next = true;
    }

    /// The plan the request concerns, when it is not the default plan.
    pub fn plan(&self, plan: &str) {
        self.lock().plan = Some(plan.to_owned());
    }

    pub fn fault(&self, id: u64) {
        self.lock().fault = Some(id);
    }

    /// The app, when only the handler's route knows it (a sign-in page's attempt).
    pub fn client_id(&self, client_id: ClientId) {
        self.lock().client_id = Some(client_id);
    }

    pub fn client(&self) -> Option<ClientId> {
        self.lock().client_id.clone()
    }

    fn take(&self) -> Notes {
        std::mem::take(&mut *self.lock())
    }
}

pub async fn layer(
    State((state, compressed)): State<(AppState, Arc<SegmentCache>)>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let wanted = compress::wanted(&request);
    let reading = state.clock.read();
    let now = reading.sandbox;
    let method = request.method().clone();
    // Another plan's shared URLs were rewritten to its routes (`plan_urls`): the log keeps
    // the one the client sent.
    let uri = request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| request.uri().clone(), |original| original.0.clone());
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let (mut request, form) = match buffer_form(request).await {
        Ok(buffered) => buffered,
        Err(response) => return compress::respond(&compressed, wanted, response).await,
    };
    let caller = Arc::new(
        caller::identify(
            &state,
            request.headers(),
            &query,
            form.as_deref(),
            now.into(),
        )
        .await,
    );
    let notes = LogNotes::default();
    request.extensions_mut().insert(RequestContext {
        now,
        real_now: reading.real,
        caller: caller.clone(),
        notes: notes.clone(),
        form: form.clone(),
    });
    // Logs the request when the response is ready, or, if the client goes away first and the
    // server drops this future, when it is dropped (status 499, `client_gone`).
    let mut pending = Pending {
        state: state.clone(),
        started,
        real: reading.real,
        now,
        method,
        path,
        query,
        form,
        caller,
        notes,
        done: false,
    };
    let response = next.run(request).await;
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    pending.record(response.status().as_u16(), retry_after, false);
    // The log records the response as the handler (or a fault) made it; the wire gets it in
    // the encoding the client asked for.
    compress::respond(&compressed, wanted, response).await
}

/// A request on its way, to be logged exactly once.
struct Pending {
    state: AppState,
    started: Instant,
    /// Real time when the request came (hosted mode orders every replica's log by real time).
    real: OffsetDateTime,
    now: OffsetDateTime,
    method: Method,
    path: String,
    query: String,
    form: Option<Bytes>,
    caller: Arc<Caller>,
    notes: LogNotes,
    done: bool,
}

/// nginx's "client closed request": no response was sent, because the client left.
const CLIENT_GONE: u16 = 499;

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done {
            self.record(CLIENT_GONE, None, true);
        }
    }
}

impl Pending {
    fn record(&mut self, status: u16, retry_after: Option<u32>, client_gone: bool) {
        self.done = true;
        let notes = self.notes.take();
        // Untagged routes (the harness) are not logged.
        let Some(endpoint) = notes.endpoint else {
            return;
        };
        let fhir = matches!(endpoint, Endpoint::Fhir(_));
        let mut logged_query = redact_query(&self.query, fhir);
        // A search's and an authorization request's parameters may come in a form body: the log
        // shows them after the URL's, so that the report sees them either way.
        if let (Endpoint::Fhir(Interaction::Search(_)) | Endpoint::Authorize, Some(form)) =
            (&endpoint, self.form.as_deref())
        {
            let body = redact_query(&String::from_utf8_lossy(form), fhir);
            logged_query = [logged_query, body]
                .into_iter()
                .filter(|q| !q.is_empty())
                .collect::<Vec<_>>()
                .join("&");
        }
        let requests = &self.state.tools.requests;
        let elapsed = self.started.elapsed();
        let answered = time::Duration::try_from(elapsed)
            .ok()
            .and_then(|elapsed| self.real.checked_add(elapsed));
        if let Some(url) = &notes.offered_next {
            if let Some(local) = url.strip_prefix(&self.state.public_url) {
                let (path, query) = local.split_once('?').unwrap_or((local, ""));
                requests.remember_offered_link(path, query, answered);
            }
        }
        let now = self.now;
        requests.record_answered(
            LoggedRequest {
                seq: 0,
                time: log_time(now),
                at_ms: log_millis(now),
                method: self.method.to_string(),
                path: std::mem::take(&mut self.path),
                query: logged_query,
                client_id: self
                    .caller
                    .client_id
                    .clone()
                    .or(notes.client_id)
                    .map(String::from),
                status,
                duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                grant_type: notes.grant_type,
                client_auth: notes.client_auth,
                retry_after,
                fault: notes.fault,
                followed_next: notes.followed_next,
                offered_next: notes.offered_next.is_some(),
                client_gone,
                expires_in: notes.expires_in,
                endpoint: Some(endpoint),
                issued_token: notes.issued_token,
                bearer_token: self.caller.bearer_tag,
                plan: notes.plan,
                id_token_flaw: notes.id_token_flaw,
            },
            answered,
        );
    }
}

/// Reads a form body so that its `client_id` can be seen, then puts it back for the handler.
/// Other bodies are left alone.
async fn buffer_form(request: Request) -> Result<(Request, Option<Bytes>), Response> {
    let is_form = request.method() == Method::POST
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
    if !is_form {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response())?;
    Ok((
        Request::from_parts(parts, Body::from(bytes.clone())),
        Some(bytes),
    ))
}
