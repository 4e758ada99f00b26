//! The request log (`GET /sandbox/api/requests`, docs/sandbox-tools.md#request-log): a bounded ring buffer of the requests
//! the sandbox answered, newest last, with secrets redacted from the query before it is stored.
//! It also remembers the `next` links the FHIR API handed out, so that following one is
//! recognised whatever the paging format. What a request was (its endpoint, the grant type, the
//! `next` link it offered) is told by the router and the handlers through `Notes`, never guessed
//! from paths and bodies.
//!
//! In hosted mode (docs/hosted.md#the-request-log) the log is the database's: `share` turns this
//! one into a buffer, where each answered request (with the instant it was answered) and each
//! offered `next` link waits, bounded, for the replica's background flush.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use time::OffsetDateTime;

use super::endpoint::Endpoint;
use crate::ids::{ClientId, TokenTag};

pub const DEFAULT_CAPACITY: usize = 1000;
/// Remembered `next` links: bounded so that a long soak does not grow memory.
const MAX_NEXT_LINKS: usize = 1000;
const REDACTED: &str = "[redacted]";

/// What the router and the handlers tell the log about one request while it is answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notes {
    /// The endpoint that answered (from the route's tag); `None` before routing.
    pub endpoint: Option<Endpoint>,
    /// The token endpoint's `grant_type`.
    pub grant_type: Option<String>,
    /// The `next` link a searchset Bundle offered (absolute URL).
    pub offered_next: Option<String>,
    /// The request was a `next` link an earlier searchset offered.
    pub followed_next: bool,
    /// The injected fault that delayed or answered it.
    pub fault: Option<u64>,
    /// The app, when only the route knows it (a sign-in page's attempt).
    pub client_id: Option<ClientId>,
    /// How the client authenticated at the token, introspection or revocation endpoint.
    pub client_auth: Option<&'static str>,
    /// The `expires_in` of the access token a token response issued.
    pub expires_in: Option<i64>,
    /// The access token a token response issued.
    pub issued_token: Option<TokenTag>,
    /// The injected id_token flaw the token response carried (`wrong_key`, …).
    pub id_token_flaw: Option<&'static str>,
    /// The plan the request concerned, when not the default plan (docs/plans.md).
    pub plan: Option<String>,
}

/// One answered request as the control API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LoggedRequest {
    /// Increases by one per logged request and is never reused, not even after a reset.
    pub seq: u64,
    /// RFC 3339, from the sandbox clock, to the millisecond.
    pub time: String,
    #[serde(skip)]
    pub at_ms: i64,
    pub method: String,
    pub path: String,
    /// The query with secrets redacted; for `POST …/_search` the form body's parameters follow.
    pub query: String,
    pub client_id: Option<String>,
    pub status: u16,
    pub duration_ms: u64,
    /// The token endpoint's `grant_type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// How the client authenticated (RFC 7591 names: `client_secret_basic`,
    /// `client_secret_post`, `none`), at the endpoints that authenticate clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_auth: Option<&'static str>,
    /// The `Retry-After` the response carried, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
    /// The id of the injected fault that delayed or answered this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<u64>,
    /// The request was a `next` link of an earlier searchset Bundle.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub followed_next: bool,
    /// The response offered a `next` link.
    #[serde(skip)]
    pub offered_next: bool,
    /// The client went away before the response was sent (status 499).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub client_gone: bool,
    /// The `expires_in` of the access token this token response issued, for the report.
    #[serde(skip)]
    pub expires_in: Option<i64>,
    /// The endpoint that answered, for the report.
    #[serde(skip)]
    pub endpoint: Option<Endpoint>,
    /// The access token this token response issued, for the report.
    #[serde(skip)]
    pub issued_token: Option<TokenTag>,
    /// The bearer token this request carried, for the report.
    #[serde(skip)]
    pub bearer_token: Option<TokenTag>,
    /// The injected id_token flaw this token response carried (`wrong_key`, `expired`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_flaw: Option<&'static str>,
    /// The plan the request concerned, when not the default plan (docs/plans.md): under its
    /// URLs, or at a shared endpoint with its code or token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<LoggedRequest>,
    next_seq: u64,
    next_links: VecDeque<String>,
    next_link_set: HashSet<String>,
    /// Hosted mode: what waits for the database.
    outgoing: Option<Outgoing>,
}

/// A request this replica answered, waiting for the database (hosted mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// When it was answered: this replica's wall clock in microseconds since the Unix epoch,
    /// strictly increasing on this replica (the database lists every replica's requests in this
    /// order). Not the sandbox clock: a clock reset would move that backwards.
    pub answered_us: i64,
    pub entry: LoggedRequest,
}

/// A `next` link a searchset offered, waiting for the database (hosted mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedLink {
    /// As `Answered::answered_us`: a request answered after it may follow it.
    pub offered_us: i64,
    /// `shared_link_key` of the link.
    pub key: String,
}

/// Hosted mode's buffer: bounded, so that a database that stays away costs bounded memory.
#[derive(Debug, Default)]
struct Outgoing {
    entries: VecDeque<Answered>,
    links: VecDeque<OfferedLink>,
    last_us: i64,
    /// Entries dropped because the buffer was full (the database did not take them in time).
    dropped: u64,
}

impl Outgoing {
    /// `real` (the wall clock; `None`: no later than now), made strictly increasing: two
    /// requests answered within a microsecond, or across a step back of the wall clock, keep the
    /// order they were answered in.
    fn tick(&mut self, real: Option<OffsetDateTime>) -> i64 {
        let now = real.map_or(i64::MIN, |real| {
            i64::try_from(real.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
        });
        self.last_us = now.max(self.last_us.saturating_add(1));
        self.last_us
    }
}

/// Hosted mode: how many answered requests the buffer holds before the oldest are dropped, when
/// the log keeps fewer (a flush runs every few milliseconds, so only an unreachable database
/// fills it).
const BUFFERED_BETWEEN_FLUSHES: usize = 10_000;

#[derive(Debug)]
pub struct RequestLog {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl RequestLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    /// Hosted mode: from now on the database keeps the log (docs/hosted.md#the-request-log).
    /// Answered requests and offered links wait in a buffer for `take_outgoing`; `entries`
    /// is empty, `is_next_link` is false (the database marks followed links) and `seq` is the
    /// database's.
    pub fn share(&self) {
        let mut inner = self.lock();
        if inner.outgoing.is_none() {
            inner.outgoing = Some(Outgoing::default());
        }
    }

    pub fn is_shared(&self) -> bool {
        self.lock().outgoing.is_some()
    }

    /// Hosted mode: everything waiting for the database, oldest first; the buffer is left empty.
    pub fn take_outgoing(&self) -> (Vec<Answered>, Vec<OfferedLink>) {
        let mut inner = self.lock();
        match inner.outgoing.as_mut() {
            Some(out) => (
                out.entries.drain(..).collect(),
                out.links.drain(..).collect(),
            ),
            None => (Vec::new(), Vec::new()),
        }
    }

    /// Hosted mode: what `take_outgoing` gave and the database did not take goes back in front
    /// of what came since, within the bound (the oldest entries are dropped first).
    pub fn put_back(&self, entries: Vec<Answered>, links: Vec<OfferedLink>) {
        let capacity = self.capacity;
        let mut inner = self.lock();
        let Some(out) = inner.outgoing.as_mut() else {
            return;
        };
        for entry in entries.into_iter().rev() {
            out.entries.push_front(entry);
        }
        for link in links.into_iter().rev() {
            out.links.push_front(link);
        }
        out.bound(capacity);
    }

    /// Hosted mode: how many entries the buffer has dropped so far (it was full).
    pub fn dropped(&self) -> u64 {
        self.lock().outgoing.as_ref().map_or(0, |out| out.dropped)
    }

    /// Hosted mode: the database numbered requests up to `seq`, so a clock move from now on
    /// comes after them (`last_seq`).
    pub fn seen_seq(&self, seq: u64) {
        let mut inner = self.lock();
        inner.next_seq = inner.next_seq.max(seq);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Appends an entry (its `seq` is assigned here), dropping the oldest beyond the bound.
    /// In hosted mode the entry waits for the next flush instead (`record_answered`).
    pub fn record(&self, entry: LoggedRequest) -> u64 {
        self.record_answered(entry, None)
    }

    /// `record`, with real time (the wall clock, not the sandbox clock) when the request was
    /// answered: in hosted mode the entry waits in the buffer with it, not numbered yet (0).
    pub fn record_answered(&self, mut entry: LoggedRequest, real: Option<OffsetDateTime>) -> u64 {
        let capacity = self.capacity;
        let mut inner = self.lock();
        if let Some(out) = inner.outgoing.as_mut() {
            let answered_us = out.tick(real);
            out.entries.push_back(Answered { answered_us, entry });
            // Between two flushes the buffer may hold more than the log keeps: the database's
            // trim drops the oldest and counts their `seq`, which a drop here could not.
            out.bound(capacity.max(BUFFERED_BETWEEN_FLUSHES));
            return 0;
        }
        inner.next_seq += 1;
        entry.seq = inner.next_seq;
        inner.entries.push_back(entry);
        while inner.entries.len() > self.capacity {
            inner.entries.pop_front();
        }
        inner.next_seq
    }

    /// The `seq` of the newest request logged so far (0 before the first): what happened at the
    /// harness since then (a clock move) goes after it.
    pub fn last_seq(&self) -> u64 {
        self.lock().next_seq
    }

    /// Oldest first (empty in hosted mode: the database has them).
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.lock().entries.iter().cloned().collect()
    }

    /// Forgets the entries and the remembered links; returns how many entries. In hosted mode
    /// the database's log is cleared by the database, and what waits in the buffer was answered
    /// after that clear began (docs/hosted.md#the-request-log): nothing here to forget.
    pub fn clear(&self) -> usize {
        let mut inner = self.lock();
        if inner.outgoing.is_some() {
            return 0;
        }
        let n = inner.entries.len();
        inner.entries.clear();
        inner.next_links.clear();
        inner.next_link_set.clear();
        n
    }

    pub fn remember_next_link(&self, path: &str, query: &str) {
        self.remember_offered_link(path, query, None);
    }

    /// `remember_next_link`, with real time when the response offering it was answered: in
    /// hosted mode the link waits in the buffer with it.
    pub fn remember_offered_link(&self, path: &str, query: &str, real: Option<OffsetDateTime>) {
        let mut inner = self.lock();
        if let Some(out) = inner.outgoing.as_mut() {
            let offered_us = out.tick(real);
            out.links.push_back(OfferedLink {
                offered_us,
                key: shared_link_key(path, query),
            });
            while out.links.len() > MAX_NEXT_LINKS {
                out.links.pop_front();
            }
            return;
        }
        let key = link_key(path, query);
        if !inner.next_link_set.insert(key.clone()) {
            return;
        }
        inner.next_links.push_back(key);
        while inner.next_links.len() > MAX_NEXT_LINKS {
            if let Some(old) = inner.next_links.pop_front() {
                inner.next_link_set.remove(&old);
            }
        }
    }

    /// Whether this request follows a `next` link offered earlier. Always false in hosted mode,
    /// where the link may have been offered by another replica: the database marks the request
    /// when it numbers it (docs/hosted.md#the-request-log).
    pub fn is_next_link(&self, path: &str, query: &str) -> bool {
        self.lock().next_link_set.contains(&link_key(path, query))
    }
}

impl Outgoing {
    fn bound(&mut self, capacity: usize) {
        while self.entries.len() > capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        while self.links.len() > MAX_NEXT_LINKS {
            self.links.pop_front();
        }
    }
}

/// How many offered `next` links are remembered (hosted mode keeps as many in the database).
pub const NEXT_LINKS_REMEMBERED: usize = MAX_NEXT_LINKS;

/// The key hosted mode compares a request with the `next` links offered before it by: the path
/// and the decoded, sorted parameters, secrets redacted as the log stores them, so that the key
/// of an offered link and that of a logged request (whose query is already redacted) agree.
pub fn shared_link_key(path: &str, query: &str) -> String {
    link_key(path, &redact_query(query, true))
}

/// RFC 3339 in UTC with exactly three fractional digits (`2026-11-29T03:11:04.230Z`), as the
/// request log documents: RFC 3339's own formatter drops trailing zeros, and a client that
/// parses fixed-width timestamps should not meet `…04.23Z` or `…04Z`.
pub fn log_time(now: OffsetDateTime) -> String {
    let utc = now.to_offset(time::UtcOffset::UTC);
    utc.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// An instant on the sandbox clock in milliseconds since the Unix epoch, as `at_ms` holds it.
pub fn log_millis(now: OffsetDateTime) -> i64 {
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A link compared by path and decoded, sorted parameters, so that a client that re-encodes the
/// query (`%7C` for `|`, another parameter order) still counts as following it.
fn link_key(path: &str, query: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    let mut key = path.to_owned();
    for (k, v) in pairs {
        key.push('\n');
        key.push_str(&k);
        key.push('=');
        key.push_str(&v);
    }
    key
}

/// Parameter names whose values are secrets: codes, credentials and tokens. `code` is a FHIR
/// search parameter (a clinical code) under the FHIR base and stays visible there.
fn is_secret(name: &str, fhir: bool) -> bool {
    let name = name.to_ascii_lowercase();
    let exact = [
        "code_verifier",
        "client_secret",
        "client_assertion",
        "assertion",
        "refresh_token",
        "access_token",
        "id_token",
        "token",
        "csrf_token",
        "subject_token",
        "actor_token",
        "device_code",
    ];
    (name == "code" && !fhir)
        || exact.contains(&name.as_str())
        || ["password", "passwd", "secret", "pwd"]
            .iter()
            .any(|s| name.contains(s))
}

/// The query with every secret value replaced by `[redacted]`; everything else is kept exactly
/// as sent. `fhir`: the request went to the FHIR API, where `code` is a search parameter.
pub fn redact_query(query: &str, fhir: bool) -> String {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (raw_name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let name: String = url::form_urlencoded::parse(raw_name.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            if is_secret(&name, fhir) {
                format!("{raw_name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A logged request with nothing noted, for the sandbox's unit tests to adjust field by field
/// (one place to add a field to).
#[cfg(test)]
impl LoggedRequest {
    pub(crate) fn example(method: &str, path: &str, status: u16) -> LoggedRequest {
        LoggedRequest {
            seq: 0,
            time: String::new(),
            at_ms: 0,
            method: method.into(),
            path: path.into(),
            query: String::new(),
            client_id: None,
            status,
            duration_ms: 0,
            grant_type: None,
            client_auth: None,
            retry_after: None,
            fault: None,
            followed_next: false,
            offered_next: false,
            client_gone: false,
            expires_in: None,
            endpoint: None,
            issued_token: None,
            bearer_token: None,
            id_token_flaw: None,
            plan: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> LoggedRequest {
        LoggedRequest::example("GET", path, 200)
    }

    #[test]
    fn redacts_secrets_and_keeps_the_rest_verbatim() {
        assert_eq!(
            redact_query(
                "client_id=a&code=123&state=x%20y&client_secret=s&refresh_token=r&Password=p&user_password=q",
                false
            ),
            "client_id=a&code=[redacted]&state=x%20y&client_secret=[redacted]&refresh_token=[redacted]&Password=[redacted]&user_password=[redacted]"
        );
        assert_eq!(
            redact_query("code=http://loinc.org|1234-5&access_token=t", true),
            "code=http://loinc.org|1234-5&access_token=[redacted]"
        );
        assert_eq!(redact_query("", false), "");
        assert_eq!(redact_query("code", false), "code=[redacted]");
    }

    #[test]
    fn the_ring_buffer_keeps_the_newest() {
        let log = RequestLog::new(3);
        for i in 0..5 {
            log.record(entry(&format!("/{i}")));
        }
        let entries = log.entries();
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/2", "/3", "/4"]);
        assert_eq!(entries[2].seq, 5);
        assert_eq!(log.clear(), 3);
        assert_eq!(log.record(entry("/5")), 6, "seq survives a clear");
    }

    #[test]
    fn next_links_match_after_reencoding() {
        let log = RequestLog::new(10);
        log.remember_next_link("/r4/ExplanationOfBenefit", "patient=1&_page=2&type=a%7Cb");
        assert!(log.is_next_link("/r4/ExplanationOfBenefit", "type=a|b&_page=2&patient=1"));
        assert!(!log.is_next_link("/r4/ExplanationOfBenefit", "patient=1&_page=3&type=a|b"));
    }

    fn at_us(us: i64) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000).ok()
    }

    #[test]
    fn shared_the_log_is_a_buffer_in_the_order_answered() {
        let log = RequestLog::new(3);
        log.share();
        assert!(log.is_shared());
        assert_eq!(
            log.record_answered(entry("/a"), at_us(2_000)),
            0,
            "numbered later"
        );
        // The wall clock stepped back: still after the one before.
        log.record_answered(entry("/b"), at_us(1_000));
        log.remember_offered_link("/r4/Claim", "_offset=10&patient=1", at_us(5_000));
        log.record_answered(entry("/c"), at_us(5_000));
        assert!(log.entries().is_empty(), "the database has them");
        assert!(!log.is_next_link("/r4/Claim", "patient=1&_offset=10"));
        assert_eq!(log.clear(), 0, "the database clears them");
        let (entries, links) = log.take_outgoing();
        let order: Vec<(i64, &str)> = entries
            .iter()
            .map(|a| (a.answered_us, a.entry.path.as_str()))
            .collect();
        assert_eq!(order, [(2_000, "/a"), (2_001, "/b"), (5_001, "/c")]);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].offered_us, 5_000);
        assert_eq!(
            links[0].key,
            shared_link_key("/r4/Claim", "patient=1&_offset=10")
        );
        assert!(log.take_outgoing().0.is_empty());

        // What the database did not take goes back in front, within the bound.
        log.record_answered(entry("/d"), at_us(6_000));
        log.put_back(entries, links);
        let (entries, links) = log.take_outgoing();
        let paths: Vec<&str> = entries.iter().map(|a| a.entry.path.as_str()).collect();
        assert_eq!(paths, ["/b", "/c", "/d"], "the oldest dropped");
        assert_eq!(log.dropped(), 1);
        assert_eq!(links.len(), 1);
    }

    #[test]
    fn shared_link_keys_of_an_offer_and_of_its_logged_request_agree() {
        let offered = "patient=1&_offset=10&access_token=secret";
        let logged = redact_query("_offset=10&access_token=secret&patient=1", true);
        assert_eq!(
            shared_link_key("/r4/Claim", offered),
            shared_link_key("/r4/Claim", &logged)
        );
        assert_ne!(
            shared_link_key("/r4/Claim", offered),
            shared_link_key("/r4/Claim", "patient=1&_offset=20")
        );
    }
}
