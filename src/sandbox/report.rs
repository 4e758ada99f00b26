//! `GET /sandbox/api/report` (docs/sandbox-tools.md#report): what a client did, computed from the request log, set
//! against what the CARIN Blue Button client CapabilityStatement and SMART App Launch expect of a
//! client: reads and searches per resource type, the `_include`s it used, whether it followed
//! `next` links, refreshed its token, and repeated a request after a 401, 429 or 5xx (no sooner
//! than `Retry-After`). Each expectation ends in a check that a contract test can assert on.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::endpoint::Endpoint;
use super::interaction::Interaction;
use super::request_log::LoggedRequest;
use crate::ids::TokenTag;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Met,
    NotMet,
    /// Nothing happened that the expectation is about (no 429 was answered, no `next` offered).
    NotApplicable,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub status: CheckStatus,
    pub expectation: &'static str,
    pub detail: String,
    /// The `seq` of each logged request that broke the expectation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offending: Vec<u64>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct OAuthUse {
    pub discovery: usize,
    pub authorize: usize,
    pub code_exchanges: usize,
    pub refreshes: usize,
    pub token_errors: usize,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ResourceUse {
    pub read: usize,
    pub vread: usize,
    pub search: usize,
    pub history: usize,
    pub operations: BTreeMap<String, usize>,
    pub writes: usize,
    /// Names of the search parameters used, as sent (`patient`, `_include`, `service-date`).
    pub search_params: BTreeSet<String>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct FhirUse {
    pub requests: usize,
    pub capability_statement: usize,
    pub resources: BTreeMap<String, ResourceUse>,
    pub includes: BTreeSet<String>,
    pub revincludes: BTreeSet<String>,
    pub next_links_offered: usize,
    pub next_links_followed: usize,
    pub statuses: BTreeMap<u16, usize>,
}

/// How a client dealt with one kind of error response.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Handled {
    pub received: usize,
    /// Followed later by the same request (method, path and query) from the same client.
    pub retried: usize,
    /// Repeated before the `Retry-After` the error carried had passed (on the sandbox clock).
    pub retried_too_early: usize,
    /// A later repeat succeeded (after a 401: with a token obtained after the error).
    pub recovered: usize,
    /// The `seq` of each error the client did not recover from, or repeated too early: the
    /// check's `offending` requests.
    #[serde(skip)]
    pub offending: Vec<u64>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ErrorHandling {
    pub unauthorized: Handled,
    pub throttled: Handled,
    pub unavailable: Handled,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub client_id: Option<String>,
    pub requests: usize,
    pub first: Option<String>,
    pub last: Option<String>,
    pub oauth: OAuthUse,
    pub fhir: FhirUse,
    pub error_handling: ErrorHandling,
    pub checks: BTreeMap<&'static str, Check>,
}

fn params(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Whether a logged request is one of `client_id`'s: its own, or an anonymous request for a
/// public document (discovery carries no credentials, so it counts for every client).
pub fn counts_for(e: &LoggedRequest, client_id: &str) -> bool {
    match e.client_id.as_deref() {
        Some(from) => from == client_id,
        None => e
            .endpoint
            .as_ref()
            .is_some_and(Endpoint::is_public_document),
    }
}

/// The report over `entries` (oldest first), limited to one client when `client_id` is given.
/// Discovery requests carry no credentials, so anonymous ones count for every client.
pub fn report(entries: &[LoggedRequest], client_id: Option<&str>) -> Report {
    let entries: Vec<&LoggedRequest> = entries
        .iter()
        .filter(|e| client_id.is_none_or(|c| counts_for(e, c)))
        .collect();
    let mut oauth = OAuthUse::default();
    let mut fhir = FhirUse::default();
    for e in &entries {
        tally_oauth(&mut oauth, e);
        tally_fhir(&mut fhir, e);
    }
    let error_handling = ErrorHandling {
        unauthorized: handled(&entries, |e| {
            e.status == 401 && e.endpoint.as_ref().is_some_and(Endpoint::takes_bearer)
        }),
        throttled: handled(&entries, |e| e.status == 429),
        unavailable: handled(&entries, |e| e.status >= 500 || e.client_gone),
    };
    let mut checks = checks(&oauth, &fhir, &error_handling);
    request_checks(&entries, &mut checks);
    Report {
        client_id: client_id.map(str::to_owned),
        requests: entries.len(),
        first: entries.first().map(|e| e.time.clone()),
        last: entries.last().map(|e| e.time.clone()),
        oauth,
        fhir,
        error_handling,
        checks,
    }
}

fn tally_oauth(oauth: &mut OAuthUse, e: &LoggedRequest) {
    let Some(endpoint) = &e.endpoint else {
        return;
    };
    if endpoint.is_discovery() || *endpoint == Endpoint::Fhir(Interaction::Capabilities) {
        oauth.discovery += 1;
    }
    if *endpoint == Endpoint::Authorize {
        oauth.authorize += 1;
    }
    if *endpoint == Endpoint::Token {
        if e.status >= 400 {
            oauth.token_errors += 1;
        } else {
            match e.grant_type.as_deref() {
                Some("authorization_code") => oauth.code_exchanges += 1,
                Some("refresh_token") => oauth.refreshes += 1,
                _ => {}
            }
        }
    }
}

fn tally_fhir(fhir: &mut FhirUse, e: &LoggedRequest) {
    let Some(interaction) = e.endpoint.as_ref().and_then(Endpoint::fhir_interaction) else {
        return;
    };
    fhir.requests += 1;
    *fhir.statuses.entry(e.status).or_default() += 1;
    if e.offered_next {
        fhir.next_links_offered += 1;
    }
    if e.followed_next {
        fhir.next_links_followed += 1;
    }
    if *interaction == Interaction::Capabilities {
        fhir.capability_statement += 1;
    }
    let Some(resource_type) = interaction.resource_type() else {
        return;
    };
    let usage = fhir.resources.entry(resource_type.to_owned()).or_default();
    match interaction {
        Interaction::Read(_) => usage.read += 1,
        Interaction::Vread(_) => usage.vread += 1,
        Interaction::History(_) => usage.history += 1,
        Interaction::Write(_) => usage.writes += 1,
        Interaction::Operation(_, op) => *usage.operations.entry(op.clone()).or_default() += 1,
        Interaction::Search(_) => {
            usage.search += 1;
            for (name, value) in params(&e.query) {
                match name.as_str() {
                    "_include" | "_include:iterate" => {
                        fhir.includes.insert(value);
                    }
                    "_revinclude" | "_revinclude:iterate" => {
                        fhir.revincludes.insert(value);
                    }
                    _ => {}
                }
                usage.search_params.insert(name);
            }
        }
        _ => {}
    }
}

/// The least back-off after a 5xx or a timeout that sent no `Retry-After`, on the sandbox clock.
const MIN_BACKOFF_MS: i64 = 1000;

fn same_request(a: &LoggedRequest, b: &LoggedRequest) -> bool {
    a.client_id == b.client_id && a.method == b.method && a.path == b.path && a.query == b.query
}

fn new_token(e: &LoggedRequest) -> bool {
    e.endpoint == Some(Endpoint::Token) && e.status == 200
}

fn handled(entries: &[&LoggedRequest], is_error: impl Fn(&LoggedRequest) -> bool) -> Handled {
    let mut h = Handled::default();
    for (i, error) in entries.iter().enumerate() {
        if !is_error(error) {
            continue;
        }
        h.received += 1;
        let later = &entries[i + 1..];
        let Some(retry) = later.iter().find(|e| same_request(error, e)) else {
            h.offending.push(error.seq);
            continue;
        };
        h.retried += 1;
        let waited_ms = retry.at_ms.saturating_sub(error.at_ms);
        // Without Retry-After, a server error or a timeout still asks for a back-off: a repeat
        // within a second is a tight loop.
        let wait_ms = match error.retry_after {
            Some(s) => i64::from(s) * 1000,
            None if error.status >= 500 || error.client_gone => MIN_BACKOFF_MS,
            None => 0,
        };
        let too_early = waited_ms < wait_ms;
        if too_early {
            h.retried_too_early += 1;
        }
        let recovered = later.iter().enumerate().any(|(j, e)| {
            same_request(error, e)
                && e.status < 400
                && (error.status != 401
                    || later[..j]
                        .iter()
                        .any(|t| new_token(t) && t.client_id == error.client_id))
        });
        if recovered {
            h.recovered += 1;
        }
        if too_early || !recovered {
            h.offending.push(error.seq);
        }
    }
    h
}

fn check(met: bool, expectation: &'static str, detail: String) -> Check {
    Check {
        status: if met {
            CheckStatus::Met
        } else {
            CheckStatus::NotMet
        },
        expectation,
        detail,
        offending: Vec::new(),
    }
}

/// A check over some requests (`applicable`): met when none of them is offending.
fn per_request(
    applicable: &[&LoggedRequest],
    offends: impl Fn(&LoggedRequest) -> bool,
    expectation: &'static str,
    none: &str,
) -> Check {
    if applicable.is_empty() {
        return not_applicable(expectation, none);
    }
    let offending: Vec<u64> = applicable
        .iter()
        .filter(|e| offends(e))
        .map(|e| e.seq)
        .collect();
    Check {
        status: if offending.is_empty() {
            CheckStatus::Met
        } else {
            CheckStatus::NotMet
        },
        expectation,
        detail: format!(
            "{} of {} requests break it",
            offending.len(),
            applicable.len()
        ),
        offending,
    }
}

/// The value of `name` in a logged query, when present and not empty.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The checks that look at each request's own parameters: `state` on every authorization
/// request (RFC 6749 §10.12), `nonce` when it asks for `openid` (OpenID Connect Core §3.1.2.1,
/// §15.5.2), one client authentication method per request (RFC 6749 §2.3), and no token in any
/// URL (RFC 6750 §2.3, RFC 9700 §4.3.2).
fn request_checks(entries: &[&LoggedRequest], checks: &mut BTreeMap<&'static str, Check>) {
    let authorize: Vec<&LoggedRequest> = entries
        .iter()
        .copied()
        .filter(|e| e.endpoint == Some(Endpoint::Authorize))
        .collect();
    checks.insert(
        "authorize_state",
        per_request(
            &authorize,
            |e| param(&params(&e.query), "state").is_none(),
            "Sends a state with every authorization request and checks it on return (RFC 6749 §10.12)",
            "no authorization request",
        ),
    );
    let openid: Vec<&LoggedRequest> = authorize
        .iter()
        .copied()
        .filter(|e| {
            param(&params(&e.query), "scope")
                .is_some_and(|s| s.split_ascii_whitespace().any(|s| s == "openid"))
        })
        .collect();
    checks.insert(
        "authorize_nonce",
        per_request(
            &openid,
            |e| param(&params(&e.query), "nonce").is_none(),
            "Sends a nonce with every authorization request that asks for openid, and checks it in the id_token (OpenID Connect Core §3.1.2.1)",
            "no authorization request asked for openid",
        ),
    );
    let authenticated: Vec<&LoggedRequest> = entries
        .iter()
        .copied()
        .filter(|e| e.client_auth.is_some())
        .collect();
    checks.insert(
        "one_client_auth_method",
        per_request(
            &authenticated,
            |e| e.client_auth.is_some_and(|m| m.contains('+')),
            "Authenticates with one method per request: HTTP Basic, client_secret in the body, or a client assertion, never two (RFC 6749 §2.3)",
            "no client authentication at the token, introspection or revocation endpoint",
        ),
    );
    let bearer: Vec<&LoggedRequest> = entries
        .iter()
        .copied()
        .filter(|e| e.endpoint.as_ref().is_some_and(Endpoint::takes_bearer))
        .collect();
    // Each bearer request against the newest token its client had been issued before it: when
    // that token's expires_in had passed, the client sent an expired token without refreshing.
    let mut expiry: HashMap<Option<&str>, i64> = HashMap::new();
    let mut after_a_token: Vec<(&LoggedRequest, i64)> = Vec::new();
    for e in entries {
        if e.endpoint.as_ref().is_some_and(Endpoint::takes_bearer) {
            if let Some(&expires_ms) = expiry.get(&e.client_id.as_deref()) {
                after_a_token.push((e, expires_ms));
            }
        }
        if let Some(seconds) = e.expires_in {
            let expires_ms = e.at_ms.saturating_add(seconds.saturating_mul(1000));
            expiry.insert(e.client_id.as_deref(), expires_ms);
        }
    }
    let expired: Vec<u64> = after_a_token
        .iter()
        .filter(|(e, expires_ms)| e.at_ms >= *expires_ms)
        .map(|(e, _)| e.seq)
        .collect();
    let after_a_token: Vec<&LoggedRequest> = after_a_token.iter().map(|(e, _)| *e).collect();
    checks.insert(
        "refreshes_before_expiry",
        per_request(
            &after_a_token,
            |e| expired.contains(&e.seq),
            "Gets a new access token once expires_in has passed instead of sending the expired one (SMART App Launch: refresh before the token expires)",
            "no bearer request after a token response",
        ),
    );
    checks.insert("rejects_flawed_id_token", flawed_id_token_check(entries));
    checks.insert(
        "tokens_not_in_urls",
        per_request(
            &bearer,
            |e| params(&e.query).iter().any(|(k, _)| k == "access_token"),
            "Sends the access token in the Authorization header, never in the URL (RFC 6750 §2.3)",
            "no request to a bearer-protected endpoint",
        ),
    );
}

/// A token response whose id_token carried an injected flaw should be thrown away whole: a
/// client that goes on to use its access token did not validate the id_token (OpenID Connect
/// Core §3.1.3.7). Offending: the bearer requests made with such an access token.
fn flawed_id_token_check(entries: &[&LoggedRequest]) -> Check {
    const EXPECTATION: &str = "Validates the id_token (signature by a key in the JWKS, iss, aud, nonce, exp; never alg none) and discards a token response whose id_token fails (OpenID Connect Core §3.1.3.7)";
    let flawed: HashMap<TokenTag, (u64, &'static str)> = entries
        .iter()
        .filter_map(|e| Some((e.issued_token?, (e.seq, e.id_token_flaw?))))
        .collect();
    if flawed.is_empty() {
        return not_applicable(EXPECTATION, "no token response carried a flawed id_token");
    }
    let used: Vec<&LoggedRequest> = entries
        .iter()
        .copied()
        .filter(|e| e.bearer_token.is_some_and(|t| flawed.contains_key(&t)))
        .collect();
    let mut accepted: Vec<(u64, &'static str)> = used
        .iter()
        .filter_map(|e| e.bearer_token.and_then(|t| flawed.get(&t)).copied())
        .collect();
    accepted.sort_unstable();
    accepted.dedup();
    let detail = if accepted.is_empty() {
        format!(
            "{} token response(s) carried a flawed id_token; none of their access tokens was used",
            flawed.len()
        )
    } else {
        let named: Vec<String> = accepted
            .iter()
            .map(|(seq, flaw)| format!("#{seq} ({flaw})"))
            .collect();
        format!(
            "the access token of token response {} was used after its id_token failed validation",
            named.join(", ")
        )
    };
    Check {
        status: if used.is_empty() {
            CheckStatus::Met
        } else {
            CheckStatus::NotMet
        },
        expectation: EXPECTATION,
        detail,
        offending: used.iter().map(|e| e.seq).collect(),
    }
}

fn not_applicable(expectation: &'static str, detail: &str) -> Check {
    Check {
        status: CheckStatus::NotApplicable,
        expectation,
        detail: detail.to_owned(),
        offending: Vec::new(),
    }
}

fn error_check(h: &Handled, expectation: &'static str, what: &str) -> Check {
    if h.received == 0 {
        return not_applicable(expectation, &format!("no {what} was answered"));
    }
    Check {
        offending: h.offending.clone(),
        ..check(
            h.offending.is_empty(),
            expectation,
            format!(
                "{} received, {} repeated ({} too early), {} recovered",
                h.received, h.retried, h.retried_too_early, h.recovered
            ),
        )
    }
}

/// `a, b` or `none`, for check details.
fn list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let items: Vec<&str> = items.map(String::as_str).collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

fn checks(
    oauth: &OAuthUse,
    fhir: &FhirUse,
    errors: &ErrorHandling,
) -> BTreeMap<&'static str, Check> {
    let uses = |t: &str| fhir.resources.get(t).cloned().unwrap_or_default();
    let (patient, eob, coverage) = (
        uses("Patient"),
        uses("ExplanationOfBenefit"),
        uses("Coverage"),
    );
    let eob_includes: Vec<&String> = fhir
        .includes
        .iter()
        .filter(|i| i.starts_with("ExplanationOfBenefit:"))
        .collect();
    let referenced: usize = [
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "Location",
    ]
    .iter()
    .map(|t| uses(t).read + uses(t).search)
    .sum();
    let mut checks = BTreeMap::new();
    checks.insert("discovery", check(oauth.discovery > 0,
        "Discovers the endpoints: GET /.well-known/smart-configuration (or /r4/.well-known/smart-configuration, or /r4/metadata)",
        format!("{} discovery requests", oauth.discovery)));
    checks.insert(
        "patient_read",
        check(
            patient.read + patient.search > 0,
            "Reads the member's Patient (the token response's `patient`)",
            format!("{} reads, {} searches", patient.read, patient.search),
        ),
    );
    checks.insert(
        "eob_search",
        check(
            eob.search > 0,
            "Searches ExplanationOfBenefit (CARIN BB: SHALL support search by patient)",
            format!(
                "{} searches, parameters used: {}",
                eob.search,
                list(eob.search_params.iter())
            ),
        ),
    );
    checks.insert("eob_include", check(!eob_includes.is_empty(),
        "Uses _include on ExplanationOfBenefit searches (ExplanationOfBenefit:* or a named reference) to get referenced resources with the claims",
        format!("includes used: {}", list(eob_includes.iter().copied()))));
    checks.insert(
        "coverage",
        check(
            coverage.read + coverage.search > 0,
            "Reads or searches Coverage",
            format!("{} reads, {} searches", coverage.read, coverage.search),
        ),
    );
    checks.insert("references", check(referenced > 0 || !eob_includes.is_empty(),
        "Gets the resources claims reference (Organization, Practitioner, PractitionerRole, Location) by _include or read",
        format!("{referenced} reads or searches of them, {} EOB includes", eob_includes.len())));
    checks.insert(
        "paging",
        if fhir.next_links_offered == 0 {
            not_applicable(
                "Follows a searchset Bundle's next link",
                "no response offered a next link",
            )
        } else {
            check(
                fhir.next_links_followed > 0,
                "Follows a searchset Bundle's next link",
                format!(
                    "{} responses offered a next link, {} followed",
                    fhir.next_links_offered, fhir.next_links_followed
                ),
            )
        },
    );
    checks.insert(
        "token_refresh",
        check(
            oauth.refreshes > 0,
            "Gets a new access token with its refresh token (grant_type=refresh_token)",
            format!("{} successful refreshes", oauth.refreshes),
        ),
    );
    checks.insert(
        "handles_401",
        error_check(
            &errors.unauthorized,
            "After a 401, gets a new token and repeats the request",
            "401",
        ),
    );
    checks.insert(
        "handles_429",
        error_check(
            &errors.throttled,
            "After a 429, repeats the request no sooner than Retry-After",
            "429",
        ),
    );
    checks.insert(
        "handles_5xx",
        error_check(
            &errors.unavailable,
            "After a 5xx or a timeout, repeats the request later: no sooner than Retry-After when sent, else after at least a second",
            "5xx",
        ),
    );
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(at_ms: i64, method: &str, path: &str, query: &str, status: u16) -> LoggedRequest {
        LoggedRequest {
            at_ms,
            query: query.into(),
            client_id: Some("app".into()),
            endpoint: Some(endpoint_of(method, path)),
            ..LoggedRequest::example(method, path, status)
        }
    }

    /// What the router would tag these paths with.
    fn endpoint_of(method: &str, path: &str) -> Endpoint {
        use crate::sandbox::interaction::{FhirRoute, interaction};
        if path == "/.well-known/smart-configuration" {
            return Endpoint::Discovery;
        }
        if path == "/oauth2/token" {
            return Endpoint::Token;
        }
        if path.starts_with("/oauth2/authorize") {
            return Endpoint::Authorize;
        }
        let segments: Vec<&str> = path.trim_start_matches("/r4/").split('/').collect();
        let route = match segments.len() {
            1 => FhirRoute::Type,
            2 => FhirRoute::Instance,
            _ => FhirRoute::Unrouted,
        };
        Endpoint::Fhir(interaction(route, method, segments.first().copied(), None))
    }

    #[test]
    fn a_well_behaved_client_meets_every_check() {
        let eob = "/r4/ExplanationOfBenefit";
        let mut throttled = e(3_000, "GET", eob, "patient=1", 429);
        throttled.retry_after = Some(2);
        let mut first_page = e(5_000, "GET", eob, "patient=1", 200);
        first_page.offered_next = true;
        let mut second_page = e(6_000, "GET", eob, "patient=1&_page=2", 200);
        second_page.followed_next = true;
        let mut refresh = e(8_000, "POST", "/oauth2/token", "", 200);
        refresh.grant_type = Some("refresh_token".into());
        refresh.client_auth = Some("client_secret_post");
        refresh.expires_in = Some(3600);
        refresh.issued_token = Some(TokenTag::of("good"));
        // A token response with a flawed id_token, thrown away: its access token is never used.
        let mut flawed = e(8_200, "POST", "/oauth2/token", "", 200);
        flawed.issued_token = Some(TokenTag::of("bad"));
        flawed.id_token_flaw = Some("wrong_key");
        let with_good = |at_ms, status| {
            let mut request = e(at_ms, "GET", "/r4/Patient/1", "", status);
            request.bearer_token = Some(TokenTag::of("good"));
            request
        };
        let log = vec![
            e(0, "GET", "/.well-known/smart-configuration", "", 200),
            e(
                100,
                "GET",
                "/oauth2/authorize/test",
                "client_id=app&scope=openid%20patient/*.read&state=s1&nonce=n1",
                303,
            ),
            e(
                1_000,
                "GET",
                eob,
                "patient=1&_include=ExplanationOfBenefit:*",
                200,
            ),
            e(2_000, "GET", "/r4/Patient/1", "", 200),
            e(2_500, "GET", "/r4/Coverage", "patient=1", 200),
            throttled,
            first_page,
            second_page,
            e(7_000, "GET", "/r4/Patient/1", "", 401),
            refresh,
            flawed,
            with_good(9_000, 200),
            with_good(9_500, 503),
            with_good(10_600, 200),
        ];
        let report = report(&log, Some("app"));
        for (id, check) in &report.checks {
            assert_eq!(check.status, CheckStatus::Met, "{id}: {}", check.detail);
        }
        let eob = &report.fhir.resources["ExplanationOfBenefit"];
        assert_eq!(eob.search, 4);
        assert!(eob.search_params.contains("_include"));
        assert_eq!(report.oauth.refreshes, 1);
        assert_eq!(report.error_handling.unauthorized.recovered, 1);
    }

    #[test]
    fn using_the_access_token_of_a_flawed_id_token_response_is_named() {
        let mut flawed = e(1_000, "POST", "/oauth2/token", "", 200);
        flawed.issued_token = Some(TokenTag::of("bad"));
        flawed.id_token_flaw = Some("alg_none");
        let mut good = e(2_000, "POST", "/oauth2/token", "", 200);
        good.issued_token = Some(TokenTag::of("good"));
        let with = |at_ms, token| {
            let mut request = e(at_ms, "GET", "/r4/Patient/1", "", 200);
            request.bearer_token = Some(TokenTag::of(token));
            request
        };
        let mut log = vec![flawed, good, with(3_000, "good"), with(4_000, "bad")];
        for (seq, entry) in log.iter_mut().enumerate() {
            entry.seq = seq as u64 + 1;
        }
        let check = &report(&log, Some("app")).checks["rejects_flawed_id_token"];
        assert_eq!(check.status, CheckStatus::NotMet);
        assert_eq!(check.offending, vec![4]);
        assert!(check.detail.contains("#1 (alg_none)"), "{}", check.detail);

        log.pop();
        let check = &report(&log, Some("app")).checks["rejects_flawed_id_token"];
        assert_eq!(check.status, CheckStatus::Met, "{}", check.detail);
        log.remove(0);
        let check = &report(&log, Some("app")).checks["rejects_flawed_id_token"];
        assert_eq!(check.status, CheckStatus::NotApplicable);
    }

    #[test]
    fn requests_without_state_or_nonce_or_with_a_token_in_the_url_are_named() {
        let mut log = vec![
            e(
                0,
                "GET",
                "/oauth2/authorize/test",
                "client_id=app&scope=openid&state=s",
                303,
            ),
            e(
                1,
                "POST",
                "/oauth2/authorize/test",
                "client_id=app&scope=patient/*.read",
                303,
            ),
            e(2, "GET", "/r4/Patient/1", "", 200),
            e(
                3,
                "GET",
                "/r4/Coverage",
                "patient=1&access_token=[redacted]",
                200,
            ),
        ];
        for (i, entry) in log.iter_mut().enumerate() {
            entry.seq = i as u64 + 1;
        }
        let found = report(&log, Some("app"));
        let state = &found.checks["authorize_state"];
        assert_eq!(state.status, CheckStatus::NotMet);
        assert_eq!(state.offending, [2]);
        let nonce = &found.checks["authorize_nonce"];
        assert_eq!(nonce.status, CheckStatus::NotMet);
        assert_eq!(nonce.offending, [1]);
        let in_url = &found.checks["tokens_not_in_urls"];
        assert_eq!(in_url.status, CheckStatus::NotMet);
        assert_eq!(in_url.offending, [4]);

        let quiet = report(&log[2..3], Some("app"));
        assert_eq!(
            quiet.checks["authorize_state"].status,
            CheckStatus::NotApplicable
        );
        assert_eq!(
            quiet.checks["authorize_nonce"].status,
            CheckStatus::NotApplicable
        );
        assert_eq!(quiet.checks["tokens_not_in_urls"].status, CheckStatus::Met);
    }

    #[test]
    fn a_tight_loop_after_a_5xx_or_a_timeout_is_too_early_even_without_retry_after() {
        for mut failed in [
            e(0, "GET", "/r4/Patient/1", "", 503),
            e(0, "GET", "/r4/Patient/1", "", 499),
        ] {
            failed.client_gone = failed.status == 499;
            let tight = report(
                &[failed.clone(), e(200, "GET", "/r4/Patient/1", "", 200)],
                Some("app"),
            );
            assert_eq!(tight.error_handling.unavailable.retried_too_early, 1);
            assert_eq!(tight.checks["handles_5xx"].status, CheckStatus::NotMet);
            let patient = report(
                &[failed, e(1_000, "GET", "/r4/Patient/1", "", 200)],
                Some("app"),
            );
            assert_eq!(patient.checks["handles_5xx"].status, CheckStatus::Met);
        }
    }

    #[test]
    fn an_impatient_client_is_caught_and_other_clients_are_left_out() {
        let mut throttled = e(0, "GET", "/r4/Patient/1", "", 429);
        throttled.retry_after = Some(2);
        throttled.seq = 7;
        let mut other = e(0, "GET", "/r4/Coverage", "", 200);
        other.client_id = Some("other".into());
        let log = vec![throttled, e(500, "GET", "/r4/Patient/1", "", 200), other];
        let report = report(&log, Some("app"));
        assert_eq!(report.requests, 2);
        assert_eq!(report.error_handling.throttled.retried_too_early, 1);
        assert_eq!(report.checks["handles_429"].status, CheckStatus::NotMet);
        assert_eq!(
            report.checks["handles_429"].offending,
            vec![7],
            "the 429 repeated too early"
        );
        assert_eq!(report.checks["paging"].status, CheckStatus::NotApplicable);
        assert_eq!(
            report.checks["handles_401"].status,
            CheckStatus::NotApplicable
        );
        assert_eq!(report.checks["coverage"].status, CheckStatus::NotMet);
    }
}
