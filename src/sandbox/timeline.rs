//! A client's sessions as a timeline (the `/sandbox/timeline` page,
//! docs/sandbox-tools.md#timeline): its requests in the log, oldest first within a session and
//! the newest session first, each one a step with its kind (discovery, authorize, a sign-in
//! page, the code exchange, a refresh, a FHIR read or search, …), its status and its marks (an
//! injected fault, a flawed id_token, a client that went away, `Retry-After`, a `next` link
//! followed, and each report check it broke), with the sandbox clock's moves between them.
//! Plain values in, a view model out: the page only lays it out.

use std::collections::HashMap;

use super::clock_moves::ClockMove;
use super::endpoint::{Endpoint, SignInPage};
use super::interaction::Interaction;
use super::report::{CheckStatus, counts_for, report};
use super::request_log::LoggedRequest;

/// Longer queries are cut on the page (the whole one is in the row's tooltip and the JSON log).
const QUERY_SHOWN: usize = 96;

/// What part of a SMART session a step belongs to, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Discovery, authorize, the code exchange and the other OAuth endpoints.
    OAuth,
    /// The member's sign-in and consent pages.
    SignIn,
    Fhir,
    /// A refresh-token grant.
    Refresh,
    /// Pages and unknown paths.
    Other,
}

impl Phase {
    /// The CSS class suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OAuth => "oauth",
            Self::SignIn => "sign-in",
            Self::Fhir => "fhir",
            Self::Refresh => "refresh",
            Self::Other => "other",
        }
    }
}

/// A status's colour: success, redirect, the client's error, the server's (or a client gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Redirect,
    ClientError,
    Failed,
}

impl Outcome {
    fn of(status: u16, client_gone: bool) -> Self {
        match status {
            _ if client_gone || status >= 500 => Self::Failed,
            400..=499 => Self::ClientError,
            300..=399 => Self::Redirect,
            _ => Self::Ok,
        }
    }

    /// The CSS class suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Redirect => "redirect",
            Self::ClientError => "client-error",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// An injected fault delayed or answered the request.
    Fault,
    /// The token response carried an id_token with an injected flaw.
    Flaw,
    /// The client went away before the answer (499).
    Gone,
    RetryAfter,
    /// The request was a `next` link an earlier searchset offered.
    NextLink,
    /// A report check names the request among the ones that broke it.
    Check,
    /// No client was named: a public document, counted for every client.
    Anonymous,
}

impl MarkKind {
    /// The CSS class suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fault => "fault",
            Self::Flaw => "flaw",
            Self::Gone => "gone",
            Self::RetryAfter => "retry-after",
            Self::NextLink => "next",
            Self::Check => "check",
            Self::Anonymous => "anonymous",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub kind: MarkKind,
    pub text: String,
}

impl Mark {
    /// The report check this mark names, for a link to its explanation.
    pub fn check(&self) -> Option<&str> {
        (self.kind == MarkKind::Check).then_some(self.text.as_str())
    }
}

/// One logged request of the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub seq: u64,
    /// The log's time (RFC 3339, sandbox clock).
    pub time: String,
    /// The time of day, to the millisecond.
    pub clock: String,
    pub label: String,
    pub phase: Phase,
    pub method: String,
    pub path: String,
    /// The logged query, secrets already redacted.
    pub query: String,
    pub status: u16,
    pub outcome: Outcome,
    /// How the client authenticated, how long the issued token lives.
    pub detail: Option<String>,
    pub marks: Vec<Mark>,
}

impl Step {
    /// The query as the page shows it: cut after `QUERY_SHOWN` characters.
    pub fn short_query(&self) -> String {
        if self.query.chars().count() <= QUERY_SHOWN {
            return self.query.clone();
        }
        let mut cut: String = self.query.chars().take(QUERY_SHOWN).collect();
        cut.push('…');
        cut
    }

    /// Broke a report check, or met an error or a fault: what the eye should find first.
    pub fn is_problem(&self) -> bool {
        self.marks.iter().any(|m| {
            matches!(
                m.kind,
                MarkKind::Check | MarkKind::Fault | MarkKind::Flaw | MarkKind::Gone
            )
        }) || self.status >= 400
    }
}

/// A move of the sandbox clock between two of the client's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockStep {
    /// The sandbox clock's time after the move.
    pub time: String,
    pub clock: String,
    pub seconds: i64,
    /// `moved forward 3601 s (1 h 1 s)`, `back to the wall clock: … earlier`.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Step(Step),
    Clock(ClockStep),
}

/// From an authorization (or a code exchange without one, as headless tests do) up to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// 1 for the oldest session the log still holds.
    pub number: usize,
    /// The day (sandbox clock) of its first request.
    pub date: String,
    pub start: String,
    pub end: String,
    pub requests: usize,
    /// Requests with an error status, a fault or a broken check.
    pub problems: usize,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedCheck {
    pub name: &'static str,
    pub expectation: &'static str,
    pub detail: String,
    /// The `seq` of each request that broke it (empty for a check about the whole session,
    /// such as never refreshing).
    pub offending: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub client_id: String,
    pub requests: usize,
    /// How many checks the report has, and the ones not met.
    pub checks: usize,
    pub failed: Vec<FailedCheck>,
    /// Newest first.
    pub sessions: Vec<Session>,
}

/// A client with requests in the log, for choosing whose timeline to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSummary {
    pub client_id: String,
    /// Its own requests (anonymous discovery not counted).
    pub requests: usize,
    /// The time of its newest request.
    pub last: String,
}

/// The clients with requests in `entries` (oldest first), the most recently active first.
pub fn clients(entries: &[LoggedRequest]) -> Vec<ClientSummary> {
    let mut found: Vec<ClientSummary> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for e in entries.iter().rev() {
        let Some(client_id) = e.client_id.as_deref() else {
            continue;
        };
        match at.get(client_id) {
            Some(&i) => found[i].requests += 1,
            None => {
                at.insert(client_id, found.len());
                found.push(ClientSummary {
                    client_id: client_id.to_owned(),
                    requests: 1,
                    last: e.time.clone(),
                });
            }
        }
    }
    found
}

/// `client_id`'s timeline from the request log (`entries`, oldest first) and the clock's moves
/// (oldest first). The report over the same entries names the requests that broke its checks.
pub fn timeline(entries: &[LoggedRequest], moves: &[ClockMove], client_id: &str) -> Timeline {
    // An anonymous request (discovery) counts for every client in the report; the timeline
    // shows it to the client whose request came next, the one that most likely sent it, so
    // that one app's discovery does not crowd every other app's picture.
    let mut next_named: Vec<Option<&str>> = vec![None; entries.len()];
    let mut named = None;
    for (i, e) in entries.iter().enumerate().rev() {
        next_named[i] = named;
        named = e.client_id.as_deref().or(named);
    }
    let steps: Vec<&LoggedRequest> = entries
        .iter()
        .zip(next_named)
        .filter(|(e, next)| {
            counts_for(e, client_id) && (e.client_id.is_some() || *next == Some(client_id))
        })
        .map(|(e, _)| e)
        .collect();
    let found = report(entries, Some(client_id));
    let failed: Vec<FailedCheck> = found
        .checks
        .iter()
        .filter(|(_, c)| c.status == CheckStatus::NotMet)
        .map(|(name, c)| FailedCheck {
            name,
            expectation: c.expectation,
            detail: c.detail.clone(),
            offending: c.offending.clone(),
        })
        .collect();
    let mut broke: HashMap<u64, Vec<&'static str>> = HashMap::new();
    for check in &failed {
        for seq in &check.offending {
            broke.entry(*seq).or_default().push(check.name);
        }
    }
    let mut sessions: Vec<Session> = split_sessions(&steps)
        .into_iter()
        .enumerate()
        .map(|(i, requests)| Session {
            number: i + 1,
            date: requests
                .first()
                .and_then(|e| e.time.get(..10))
                .unwrap_or_default()
                .to_owned(),
            start: requests
                .first()
                .map(|e| time_of_day(&e.time))
                .unwrap_or_default(),
            end: requests
                .last()
                .map(|e| time_of_day(&e.time))
                .unwrap_or_default(),
            requests: requests.len(),
            problems: 0,
            rows: requests
                .iter()
                .map(|e| Row::Step(step(e, broke.get(&e.seq).map(Vec::as_slice))))
                .collect(),
        })
        .collect();
    interleave(&mut sessions, moves);
    for session in &mut sessions {
        session.problems = session
            .rows
            .iter()
            .filter(|r| matches!(r, Row::Step(s) if s.is_problem()))
            .count();
    }
    sessions.reverse();
    Timeline {
        client_id: client_id.to_owned(),
        requests: steps.len(),
        checks: found.checks.len(),
        failed,
        sessions,
    }
}

fn is_code_exchange(e: &LoggedRequest) -> bool {
    e.endpoint == Some(Endpoint::Token) && e.grant_type.as_deref() == Some("authorization_code")
}

/// A new session starts with an authorization request, or a code exchange, once the current
/// one has obtained a token: a retried authorization or a failed exchange stays in its session.
/// Anonymous discovery just before it belongs to the new one (a client discovers, then
/// authorizes).
fn split_sessions<'a>(steps: &[&'a LoggedRequest]) -> Vec<Vec<&'a LoggedRequest>> {
    let mut sessions = Vec::new();
    let mut current: Vec<&LoggedRequest> = Vec::new();
    let mut has_token = false;
    for e in steps {
        if has_token && (e.endpoint == Some(Endpoint::Authorize) || is_code_exchange(e)) {
            let mut carried = Vec::new();
            while current.last().is_some_and(|p| p.client_id.is_none()) {
                carried.extend(current.pop());
            }
            carried.reverse();
            if !current.is_empty() {
                sessions.push(std::mem::take(&mut current));
            }
            current = carried;
            has_token = false;
        }
        if is_code_exchange(e) && e.status < 400 {
            has_token = true;
        }
        current.push(e);
    }
    if !current.is_empty() {
        sessions.push(current);
    }
    sessions
}

/// Puts each clock move after the client's request it followed, when a later request of the
/// client came after it: the moves that happened during the client's sessions.
fn interleave(sessions: &mut [Session], moves: &[ClockMove]) {
    let seqs: Vec<u64> = sessions
        .iter()
        .flat_map(|s| s.rows.iter())
        .filter_map(|r| match r {
            Row::Step(s) => Some(s.seq),
            Row::Clock(_) => None,
        })
        .collect();
    let (Some(&first), Some(&last)) = (seqs.first(), seqs.last()) else {
        return;
    };
    let mut moves: Vec<&ClockMove> = moves
        .iter()
        .filter(|m| m.after_seq >= first && m.after_seq < last)
        .collect();
    moves.sort_by_key(|m| m.after_seq);
    let mut moves = moves.into_iter().peekable();
    // The client's requests in order: the n-th step's successor is `seqs[n + 1]`.
    let mut n = 0;
    for session in sessions.iter_mut() {
        let rows = std::mem::take(&mut session.rows);
        for row in rows {
            session.rows.push(row);
            let next = seqs.get(n + 1).copied().unwrap_or(u64::MAX);
            n += 1;
            while let Some(m) = moves.next_if(|m| m.after_seq < next) {
                session.rows.push(Row::Clock(clock_step(m)));
            }
        }
    }
}

fn clock_step(m: &ClockMove) -> ClockStep {
    // The page puts a "clock" badge before it.
    let text = if m.to_wall_clock {
        format!(
            "back to the wall clock: {} earlier",
            duration(m.seconds.saturating_abs())
        )
    } else {
        format!("moved forward {}", duration(m.seconds))
    };
    ClockStep {
        time: m.time.clone(),
        clock: time_of_day(&m.time),
        seconds: m.seconds,
        text,
    }
}

/// `3601 s (1 h 1 s)`: seconds, as a test wrote them, and readable.
fn duration(seconds: i64) -> String {
    if seconds < 60 {
        return format!("{seconds} s");
    }
    let parts: Vec<String> = [(86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")]
        .iter()
        .scan(seconds, |left, (unit, name)| {
            let n = *left / unit;
            *left %= unit;
            Some((n, name))
        })
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n} {name}"))
        .collect();
    format!("{seconds} s ({})", parts.join(" "))
}

/// `03:11:04.235` from `2026-11-29T03:11:04.235Z`.
fn time_of_day(time: &str) -> String {
    time.get(11..23).unwrap_or(time).to_owned()
}

/// What a request was, in words, and its phase.
fn describe(e: &LoggedRequest) -> (String, Phase) {
    let post = e.method.eq_ignore_ascii_case("POST");
    let fixed = |label: &str, phase| (label.to_owned(), phase);
    let Some(endpoint) = &e.endpoint else {
        return fixed("Request", Phase::Other);
    };
    match endpoint {
        Endpoint::Discovery | Endpoint::Fhir(Interaction::Discovery) => {
            fixed("Discovery", Phase::OAuth)
        }
        Endpoint::Jwks => fixed("JWKS", Phase::OAuth),
        Endpoint::Authorize => fixed("Authorize", Phase::OAuth),
        Endpoint::SignIn(page) => match page {
            SignInPage::Start => fixed("Sign-in page", Phase::SignIn),
            SignInPage::CreateAccount => fixed("Sign-in: create account", Phase::SignIn),
            SignInPage::CreateRepresentative => {
                fixed("Sign-in: parent or guardian account", Phase::SignIn)
            }
            SignInPage::SignIn => fixed("Sign-in: email", Phase::SignIn),
            SignInPage::Verify => fixed("Sign-in: verification code", Phase::SignIn),
            // The consent form redirects back to the app: with a code, or with access_denied.
            SignInPage::Consent if post && (300..400).contains(&e.status) => {
                fixed("Consent: back to the app", Phase::SignIn)
            }
            SignInPage::Consent => fixed("Consent", Phase::SignIn),
        },
        Endpoint::Token => match e.grant_type.as_deref() {
            Some("authorization_code") => fixed("Token: code exchange", Phase::OAuth),
            Some("refresh_token") => fixed("Token: refresh", Phase::Refresh),
            Some(other) => (format!("Token: {other}"), Phase::OAuth),
            None => fixed("Token", Phase::OAuth),
        },
        Endpoint::Register => fixed("Registration", Phase::OAuth),
        Endpoint::Introspect => fixed("Introspection", Phase::OAuth),
        Endpoint::Revoke => fixed("Revocation", Phase::OAuth),
        Endpoint::Userinfo => fixed("Userinfo", Phase::OAuth),
        Endpoint::Fhir(interaction) => {
            let label = match interaction {
                Interaction::Capabilities => "FHIR capabilities".to_owned(),
                Interaction::Read(t) => format!("FHIR read: {t}"),
                Interaction::Vread(t) => format!("FHIR vread: {t}"),
                Interaction::History(t) => format!("FHIR history: {t}"),
                Interaction::Search(t) => format!("FHIR search: {t}"),
                Interaction::Operation(t, op) => format!("FHIR {op}: {t}"),
                Interaction::Write(t) => format!("FHIR write: {t}"),
                Interaction::Discovery | Interaction::Other => "FHIR".to_owned(),
            };
            (label, Phase::Fhir)
        }
        Endpoint::Page => fixed("Page", Phase::Other),
        Endpoint::Unrouted => fixed("Unknown path", Phase::Other),
    }
}

fn step(e: &LoggedRequest, broke: Option<&[&'static str]>) -> Step {
    let (label, phase) = describe(e);
    let mut detail = Vec::new();
    if let Some(auth) = e.client_auth {
        detail.push(format!("client auth {auth}"));
    }
    if let Some(seconds) = e.expires_in {
        detail.push(format!("access token for {}", duration(seconds)));
    }
    let mut marks = Vec::new();
    let mut mark = |kind, text: String| marks.push(Mark { kind, text });
    if e.client_id.is_none() {
        mark(MarkKind::Anonymous, "no client named".to_owned());
    }
    if let Some(id) = e.fault {
        mark(MarkKind::Fault, format!("fault {id}"));
    }
    if let Some(flaw) = e.id_token_flaw {
        mark(MarkKind::Flaw, format!("flawed id_token: {flaw}"));
    }
    if e.client_gone {
        mark(MarkKind::Gone, "client went away".to_owned());
    }
    if let Some(seconds) = e.retry_after {
        mark(MarkKind::RetryAfter, format!("Retry-After {seconds} s"));
    }
    if e.followed_next {
        mark(MarkKind::NextLink, "next page".to_owned());
    }
    for name in broke.unwrap_or_default() {
        mark(MarkKind::Check, (*name).to_owned());
    }
    Step {
        seq: e.seq,
        time: e.time.clone(),
        clock: time_of_day(&e.time),
        label,
        phase,
        method: e.method.clone(),
        path: e.path.clone(),
        query: e.query.clone(),
        status: e.status,
        outcome: Outcome::of(e.status, e.client_gone),
        detail: (!detail.is_empty()).then(|| detail.join(", ")),
        marks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TokenTag;

    /// A request at `second` seconds past 2026-11-29T03:11:00Z.
    fn e(
        seq: u64,
        second: u32,
        client: Option<&str>,
        endpoint: Endpoint,
        status: u16,
    ) -> LoggedRequest {
        LoggedRequest {
            seq,
            time: format!("2026-11-29T03:11:{second:02}.000Z"),
            at_ms: 1_795_921_860_000 + i64::from(second) * 1000,
            client_id: client.map(str::to_owned),
            endpoint: Some(endpoint),
            ..LoggedRequest::example("GET", "/p", status)
        }
    }

    fn token(seq: u64, second: u32, grant: &str, status: u16) -> LoggedRequest {
        let mut t = e(seq, second, Some("app"), Endpoint::Token, status);
        t.method = "POST".into();
        t.grant_type = Some(grant.into());
        t.client_auth = Some("client_secret_post");
        if status == 200 {
            t.expires_in = Some(3600);
            t.issued_token = Some(TokenTag::of(&format!("t{seq}")));
        }
        t
    }

    /// An authorization request with a state, as a careful client sends it.
    fn authorize(seq: u64, second: u32) -> LoggedRequest {
        let mut a = e(seq, second, Some("app"), Endpoint::Authorize, 303);
        a.query = "client_id=app&state=s".into();
        a
    }

    fn read(seq: u64, second: u32, status: u16) -> LoggedRequest {
        e(
            seq,
            second,
            Some("app"),
            Endpoint::Fhir(Interaction::Read("Patient".into())),
            status,
        )
    }

    fn labels(session: &Session) -> Vec<String> {
        session
            .rows
            .iter()
            .map(|r| match r {
                Row::Step(s) => format!("{} {}", s.label, s.status),
                Row::Clock(c) => c.text.clone(),
            })
            .collect()
    }

    fn moved(after_seq: u64, seconds: i64) -> ClockMove {
        ClockMove {
            after_seq,
            time: "2026-11-29T04:11:05.000Z".into(),
            at_ms: 0,
            seconds,
            to_wall_clock: seconds < 0,
        }
    }

    #[test]
    fn a_clients_requests_and_the_anonymous_discovery_before_them_make_its_timeline() {
        let mut consent = e(
            5,
            5,
            Some("app"),
            Endpoint::SignIn(SignInPage::Consent),
            302,
        );
        consent.method = "POST".into();
        let log = vec![
            e(1, 1, None, Endpoint::Discovery, 200),
            authorize(2, 2),
            // The other app's discovery, before its authorization request.
            e(3, 3, None, Endpoint::Discovery, 200),
            e(4, 4, Some("other"), Endpoint::Authorize, 303),
            consent,
            // An anonymous request that is no public document is no client's.
            e(6, 6, None, Endpoint::Unrouted, 404),
            token(7, 7, "authorization_code", 200),
            read(8, 8, 200),
        ];
        let t = timeline(&log, &[], "app");
        assert_eq!(t.requests, 5);
        assert_eq!(t.sessions.len(), 1);
        assert_eq!(
            labels(&t.sessions[0]),
            [
                "Discovery 200",
                "Authorize 303",
                "Consent: back to the app 302",
                "Token: code exchange 200",
                "FHIR read: Patient 200"
            ]
        );
        let Row::Step(discovery) = &t.sessions[0].rows[0] else {
            panic!("a step")
        };
        assert_eq!(discovery.marks[0].kind, MarkKind::Anonymous);
        assert_eq!(discovery.clock, "03:11:01.000");
        assert_eq!(discovery.phase, Phase::OAuth);
        let Row::Step(exchange) = &t.sessions[0].rows[3] else {
            panic!("a step")
        };
        assert_eq!(
            exchange.detail.as_deref(),
            Some("client auth client_secret_post, access token for 3600 s (1 h)")
        );
        assert_eq!(t.sessions[0].date, "2026-11-29");
        assert_eq!(
            (t.sessions[0].start.as_str(), t.sessions[0].end.as_str()),
            ("03:11:01.000", "03:11:08.000")
        );

        let names: Vec<String> = clients(&log).into_iter().map(|c| c.client_id).collect();
        assert_eq!(names, ["app", "other"], "the most recently active first");
        assert_eq!(
            clients(&log)[0].requests,
            4,
            "anonymous requests are no one's"
        );
    }

    #[test]
    fn a_new_authorization_after_a_token_starts_a_session_newest_first() {
        let log = vec![
            authorize(1, 1),
            // A failed exchange, retried: still the first session.
            token(2, 2, "authorization_code", 503),
            token(3, 3, "authorization_code", 200),
            read(4, 4, 200),
            e(5, 5, None, Endpoint::Discovery, 200),
            authorize(6, 6),
            token(7, 7, "authorization_code", 200),
            // A headless login: a code exchange without an authorization request.
            token(8, 8, "authorization_code", 200),
            token(9, 9, "refresh_token", 200),
        ];
        let t = timeline(&log, &[], "app");
        let sessions: Vec<(usize, Vec<String>)> =
            t.sessions.iter().map(|s| (s.number, labels(s))).collect();
        assert_eq!(
            sessions,
            [
                (
                    3,
                    vec![
                        "Token: code exchange 200".to_owned(),
                        "Token: refresh 200".to_owned()
                    ]
                ),
                (
                    2,
                    vec![
                        "Discovery 200".to_owned(),
                        "Authorize 303".to_owned(),
                        "Token: code exchange 200".to_owned()
                    ]
                ),
                (
                    1,
                    vec![
                        "Authorize 303".to_owned(),
                        "Token: code exchange 503".to_owned(),
                        "Token: code exchange 200".to_owned(),
                        "FHIR read: Patient 200".to_owned()
                    ]
                ),
            ]
        );
        assert_eq!(t.sessions[2].problems, 1, "the 503");
        let Row::Step(refresh) = &t.sessions[0].rows[1] else {
            panic!("a step")
        };
        assert_eq!(refresh.phase, Phase::Refresh);
    }

    #[test]
    fn clock_moves_go_between_the_requests_they_came_between() {
        let log = vec![
            token(1, 1, "authorization_code", 200),
            read(2, 2, 200),
            // Another client's request: a move after it still comes before our next one.
            e(3, 3, Some("other"), Endpoint::Authorize, 303),
            read(4, 4, 401),
            token(5, 5, "refresh_token", 200),
            read(6, 6, 200),
        ];
        let moves = [
            // Before the client's first request, and after its last: not its business.
            moved(0, 10),
            moved(3, 3601),
            moved(5, -3601),
            moved(6, 60),
        ];
        let t = timeline(&log, &moves, "app");
        assert_eq!(
            labels(&t.sessions[0]),
            [
                "Token: code exchange 200",
                "FHIR read: Patient 200",
                "moved forward 3601 s (1 h 1 s)",
                "FHIR read: Patient 401",
                "Token: refresh 200",
                "back to the wall clock: 3601 s (1 h 1 s) earlier",
                "FHIR read: Patient 200",
            ]
        );
        let Row::Clock(forward) = &t.sessions[0].rows[2] else {
            panic!("a clock move")
        };
        assert_eq!(forward.clock, "04:11:05.000");
        assert_eq!(forward.seconds, 3601);
    }

    #[test]
    fn the_requests_that_broke_a_check_carry_its_name() {
        let mut in_url = read(3, 3, 200);
        in_url.query = "access_token=[redacted]".into();
        // Made with the access token of the response whose id_token was flawed.
        in_url.bearer_token = Some(TokenTag::of("t2"));
        let mut faulted = read(4, 4, 503);
        faulted.fault = Some(7);
        faulted.retry_after = Some(2);
        let mut flawed = token(2, 2, "authorization_code", 200);
        flawed.id_token_flaw = Some("wrong_key");
        let mut gone = read(5, 5, 499);
        gone.client_gone = true;
        let log = vec![
            e(1, 1, Some("app"), Endpoint::Authorize, 303),
            flawed,
            in_url,
            faulted,
            gone,
        ];
        let t = timeline(&log, &[], "app");
        let failed: Vec<&str> = t.failed.iter().map(|c| c.name).collect();
        for name in [
            "authorize_state",
            "tokens_not_in_urls",
            "handles_5xx",
            "token_refresh",
        ] {
            assert!(failed.contains(&name), "{name} in {failed:?}");
        }
        let state = t.failed.iter().find(|c| c.name == "authorize_state");
        assert_eq!(state.map(|c| c.offending.clone()), Some(vec![1]));
        let marks = |i: usize| -> Vec<(MarkKind, String)> {
            match &t.sessions[0].rows[i] {
                Row::Step(s) => s.marks.iter().map(|m| (m.kind, m.text.clone())).collect(),
                Row::Clock(_) => Vec::new(),
            }
        };
        assert_eq!(marks(0), [(MarkKind::Check, "authorize_state".to_owned())]);
        assert!(marks(1).contains(&(MarkKind::Flaw, "flawed id_token: wrong_key".to_owned())));
        assert!(marks(2).contains(&(MarkKind::Check, "tokens_not_in_urls".to_owned())));
        assert!(marks(2).contains(&(MarkKind::Check, "rejects_flawed_id_token".to_owned())));
        assert_eq!(
            marks(3)[..2],
            [
                (MarkKind::Fault, "fault 7".to_owned()),
                (MarkKind::RetryAfter, "Retry-After 2 s".to_owned())
            ]
        );
        assert!(marks(4).contains(&(MarkKind::Gone, "client went away".to_owned())));
        let Row::Step(gone) = &t.sessions[0].rows[4] else {
            panic!("a step")
        };
        assert_eq!(gone.outcome, Outcome::Failed);
        assert_eq!(t.sessions[0].problems, 5);
    }

    #[test]
    fn long_queries_are_cut_and_unknown_clients_have_no_sessions() {
        let mut search = read(1, 1, 200);
        search.query = "x".repeat(200);
        let t = timeline(&[search], &[], "app");
        let Row::Step(s) = &t.sessions[0].rows[0] else {
            panic!("a step")
        };
        assert_eq!(s.short_query().chars().count(), QUERY_SHOWN + 1);
        assert!(s.short_query().ends_with('…'));
        assert!(timeline(&[], &[], "app").sessions.is_empty());
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(90_061), "90061 s (1 d 1 h 1 min 1 s)");
    }
}
