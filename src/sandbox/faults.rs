//! Injected failures (`POST /sandbox/api/faults`, docs/sandbox-tools.md#faults): what a fault matches (a target, and
//! optionally a path prefix, a method and a client), what it does (an OAuth error, an HTTP status,
//! a `Retry-After`, a delay), and for how many more requests. The HTTP layer turns a fired fault
//! into the error format of the endpoint it hit. In hosted mode (docs/hosted.md#faults) the
//! database holds the faults and their counts; each replica keeps the set here for matching, so
//! that only a request that matches a fault pays a round trip (to claim one firing).

use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::endpoint::Endpoint;
use crate::oauth::ErrorCode;
pub use crate::oauth::id_token_flaw::IdTokenFlaw;

/// At most this many faults wait at once: a runaway test loop gets a clear error.
pub const MAX_ACTIVE: usize = 100;
const MAX_COUNT: u32 = 10_000;
const MAX_DELAY_MS: u64 = 60_000;
const MAX_RETRY_AFTER: u32 = 86_400;

/// Which requests a fault is aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Every request the sandbox logs (not the sandbox tools themselves).
    Any,
    Token,
    /// `/oauth2/authorize` and `/oauth2/authorize/{system}`, not the sign-in pages after it.
    Authorize,
    Register,
    Introspect,
    Revoke,
    Userinfo,
    /// `/.well-known/**` and `/r4/.well-known/**`.
    Discovery,
    /// `/r4` and everything under it, whichever handler serves it.
    Fhir,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Token => "token",
            Self::Authorize => "authorize",
            Self::Register => "register",
            Self::Introspect => "introspect",
            Self::Revoke => "revoke",
            Self::Userinfo => "userinfo",
            Self::Discovery => "discovery",
            Self::Fhir => "fhir",
        }
    }

    /// Whether the fault is aimed at the endpoint that answers the request.
    pub fn covers(self, endpoint: &Endpoint) -> bool {
        match self {
            Self::Any => true,
            Self::Token => *endpoint == Endpoint::Token,
            Self::Authorize => *endpoint == Endpoint::Authorize,
            Self::Register => *endpoint == Endpoint::Register,
            Self::Introspect => *endpoint == Endpoint::Introspect,
            Self::Revoke => *endpoint == Endpoint::Revoke,
            Self::Userinfo => *endpoint == Endpoint::Userinfo,
            Self::Discovery => endpoint.is_discovery() || *endpoint == Endpoint::Jwks,
            Self::Fhir => matches!(endpoint, Endpoint::Fhir(_)),
        }
    }

    /// The endpoints that answer errors in RFC 6749 form, where `error` names one.
    fn speaks_oauth(self) -> bool {
        matches!(
            self,
            Self::Token
                | Self::Authorize
                | Self::Register
                | Self::Introspect
                | Self::Revoke
                | Self::Userinfo
        )
    }
}

/// The body of `POST /sandbox/api/faults`. Unknown fields are refused so that a typo
/// (`retry-after`) is an error rather than a fault that silently does less.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub target: Target,
    /// Only requests of this plan (docs/plans.md): its id.
    pub plan: Option<String>,
    pub path: Option<String>,
    pub method: Option<String>,
    pub client_id: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub status: Option<u16>,
    pub retry_after: Option<u32>,
    pub delay_ms: Option<u64>,
    pub delay_after_ms: Option<u64>,
    pub id_token: Option<IdTokenFlaw>,
    pub count: Option<u32>,
}

/// An active fault as `GET /sandbox/api/faults` shows it (and as hosted mode stores it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fault {
    pub id: u64,
    pub target: Target,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Held after the handler answered: its effects (a redeemed code) have happened, the
    /// response is late.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_after_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<IdTokenFlaw>,
    pub count: u32,
    /// How many more matching requests it fires for.
    pub remaining: u32,
}

impl Fault {
    /// The OAuth error code, already checked at creation.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.error.as_deref().and_then(ErrorCode::parse)
    }

    /// A delay-only fault lets the request through once the delay is over.
    pub fn answers(&self) -> bool {
        self.error.is_some() || self.status.is_some()
    }

    /// What the fault does, in words, for the sandbox page.
    pub fn effect(&self) -> String {
        let mut parts = Vec::new();
        if let Some(ms) = self.delay_ms {
            parts.push(format!("delay {ms} ms"));
        }
        if let Some(ms) = self.delay_after_ms {
            parts.push(format!("delay {ms} ms after the handler"));
        }
        if let Some(status) = self.status {
            parts.push(format!("status {status}"));
        }
        if let Some(error) = &self.error {
            parts.push(format!("error {error}"));
        }
        if let Some(seconds) = self.retry_after {
            parts.push(format!("Retry-After {seconds}"));
        }
        if let Some(flaw) = self.id_token {
            parts.push(format!("id_token {flaw:?}"));
        }
        parts.join(", ")
    }

    fn matches(&self, request: &RequestFacts<'_>) -> bool {
        self.target.covers(request.endpoint)
            && self.plan.as_deref().is_none_or(|p| request.plan == p)
            && self
                .path
                .as_deref()
                .is_none_or(|prefix| request.path.starts_with(prefix))
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(request.method))
            && self
                .client_id
                .as_deref()
                .is_none_or(|c| request.client_id == Some(c))
    }
}

/// What a fault is matched against.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    pub endpoint: &'a Endpoint,
    /// The plan the request concerns: its URL's, else its code's or token's.
    pub plan: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub client_id: Option<&'a str>,
}

/// Checks a spec and gives the fault it describes (`id` 0 until registered).
pub fn validate(spec: FaultSpec) -> Result<Fault, String> {
    if spec.error.is_none()
        && spec.status.is_none()
        && spec.delay_ms.is_none()
        && spec.delay_after_ms.is_none()
        && spec.id_token.is_none()
    {
        return Err(
            "a fault needs at least one of error, status, delay_ms, delay_after_ms and id_token"
                .to_owned(),
        );
    }
    if spec.id_token.is_some() {
        if spec.target != Target::Token {
            return Err("id_token is for the token target".to_owned());
        }
        if spec.error.is_some() || spec.status.is_some() {
            return Err(
                "id_token flaws a successful token response: it cannot travel with error or status"
                    .to_owned(),
            );
        }
    }
    if let Some(error) = spec.error.as_deref() {
        if ErrorCode::parse(error).is_none() {
            return Err(format!("error {error:?} is not an OAuth 2.0 error code"));
        }
        if !spec.target.speaks_oauth() {
            return Err("error is for the OAuth targets (token, authorize, register, introspect, revoke, userinfo); use status for the others".to_owned());
        }
    }
    if spec.status.is_some_and(|s| !(400..=599).contains(&s)) {
        return Err("status must be an HTTP error status, 400 to 599".to_owned());
    }
    if spec.retry_after.is_some() && spec.error.is_none() && spec.status.is_none() {
        return Err("retry_after needs an error or a status to travel with".to_owned());
    }
    if spec.retry_after.is_some_and(|s| s > MAX_RETRY_AFTER) {
        return Err(format!("retry_after is at most {MAX_RETRY_AFTER} seconds"));
    }
    if spec.delay_ms.is_some_and(|d| d > MAX_DELAY_MS)
        || spec.delay_after_ms.is_some_and(|d| d > MAX_DELAY_MS)
    {
        return Err(format!(
            "delay_ms and delay_after_ms are at most {MAX_DELAY_MS}"
        ));
    }
    if spec.delay_after_ms.is_some() && (spec.error.is_some() || spec.status.is_some()) {
        return Err(
            "delay_after_ms delays the handler's own answer: it cannot travel with error or status"
                .to_owned(),
        );
    }
    let count = spec.count.unwrap_or(1);
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(format!("count must be 1 to {MAX_COUNT}"));
    }
    if spec.path.as_deref().is_some_and(|p| !p.starts_with('/')) {
        return Err("path is a path prefix and starts with /".to_owned());
    }
    let method = match spec.method {
        Some(m) if m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic()) => {
            return Err("method must be an HTTP method such as GET".to_owned());
        }
        m => m.map(|m| m.to_ascii_uppercase()),
    };
    Ok(Fault {
        id: 0,
        target: spec.target,
        plan: spec.plan,
        path: spec.path,
        method,
        client_id: spec.client_id,
        error: spec.error,
        error_description: spec.error_description,
        status: spec.status,
        retry_after: spec.retry_after,
        delay_ms: spec.delay_ms,
        delay_after_ms: spec.delay_after_ms,
        id_token: spec.id_token,
        count,
        remaining: count,
    })
}

/// Why one more fault is refused when `MAX_ACTIVE` wait.
pub fn too_many() -> String {
    format!("{MAX_ACTIVE} faults are already waiting; DELETE /sandbox/api/faults first")
}

#[derive(Debug, Default)]
struct Active {
    next_id: u64,
    faults: Vec<Fault>,
    /// Hosted mode: the database's version of the set loaded here (0 before the first load).
    loaded: i64,
}

/// The active faults, oldest first. The first one that matches a request fires for it.
#[derive(Debug, Default)]
pub struct Faults {
    active: Mutex<Active>,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, Active> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(&self, spec: FaultSpec) -> Result<Fault, String> {
        let mut fault = validate(spec)?;
        let mut active = self.lock();
        if active.faults.len() >= MAX_ACTIVE {
            return Err(too_many());
        }
        active.next_id += 1;
        fault.id = active.next_id;
        active.faults.push(fault.clone());
        Ok(fault)
    }

    pub fn active(&self) -> Vec<Fault> {
        self.lock().faults.clone()
    }

    /// Removes every fault; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut active = self.lock();
        let n = active.faults.len();
        active.faults.clear();
        n
    }

    pub fn remove(&self, id: u64) -> bool {
        let mut active = self.lock();
        let before = active.faults.len();
        active.faults.retain(|f| f.id != id);
        active.faults.len() != before
    }

    /// Hosted mode: the faults that match this request, oldest first, none fired. The database
    /// decides which one fires (the oldest it can claim a firing of).
    pub fn matching(&self, request: &RequestFacts<'_>) -> Vec<Fault> {
        let active = self.lock();
        active
            .faults
            .iter()
            .filter(|f| f.matches(request))
            .cloned()
            .collect()
    }

    /// Hosted mode: the database's whole set, as of `version`, replaces this one, unless a newer
    /// version is already here (two loads can finish out of order). Whether it was taken.
    pub fn load(&self, version: i64, faults: Vec<Fault>) -> bool {
        let mut active = self.lock();
        if version <= active.loaded {
            return false;
        }
        active.loaded = version;
        active.faults = faults;
        true
    }

    /// Hosted mode: a firing was claimed in the database, which says how many are left; at zero
    /// the fault goes here at once (the other replicas learn it from the database).
    pub fn claimed(&self, id: u64, remaining: u32) {
        let mut active = self.lock();
        if remaining == 0 {
            active.faults.retain(|f| f.id != id);
        } else if let Some(fault) = active.faults.iter_mut().find(|f| f.id == id) {
            fault.remaining = remaining;
        }
    }

    /// The fault that fires for this request, if any: its count goes down under the lock, so
    /// concurrent requests never fire a fault more than `count` times.
    pub fn fire(&self, request: &RequestFacts<'_>) -> Option<Fault> {
        let mut active = self.lock();
        let index = active.faults.iter().position(|f| f.matches(request))?;
        let fault = &mut active.faults[index];
        fault.remaining -= 1;
        let fired = fault.clone();
        if fired.remaining == 0 {
            active.faults.remove(index);
        }
        Some(fired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::endpoint::SignInPage;
    use crate::sandbox::interaction::Interaction;

    fn spec(json: serde_json::Value) -> FaultSpec {
        serde_json::from_value(json).unwrap()
    }

    fn facts<'a>(method: &'a str, path: &'a str, client_id: Option<&'a str>) -> RequestFacts<'a> {
        RequestFacts {
            plan: "test",
            endpoint: &FHIR,
            method,
            path,
            client_id,
        }
    }

    const FHIR: Endpoint = Endpoint::Fhir(Interaction::Other);

    #[test]
    fn targets_cover_their_endpoints() {
        assert!(Target::Fhir.covers(&FHIR));
        assert!(Target::Fhir.covers(&Endpoint::Fhir(Interaction::Discovery)));
        assert!(!Target::Fhir.covers(&Endpoint::Token));
        assert!(Target::Authorize.covers(&Endpoint::Authorize));
        assert!(!Target::Authorize.covers(&Endpoint::SignIn(SignInPage::Start)));
        assert!(Target::Discovery.covers(&Endpoint::Fhir(Interaction::Discovery)));
        assert!(Target::Discovery.covers(&Endpoint::Jwks));
        assert!(!Target::Discovery.covers(&FHIR));
        assert!(Target::Token.covers(&Endpoint::Token));
        assert!(Target::Any.covers(&Endpoint::Unrouted));
    }

    #[test]
    fn hosted_mode_matches_here_and_takes_the_databases_set_and_counts() {
        let faults = Faults::default();
        let mut older =
            validate(spec(serde_json::json!({"target": "fhir", "status": 503}))).unwrap();
        older.id = 7;
        let mut newer = validate(spec(
            serde_json::json!({"target": "any", "status": 429, "count": 3}),
        ))
        .unwrap();
        newer.id = 9;
        assert!(faults.load(2, vec![older.clone(), newer.clone()]));
        assert!(
            !faults.load(1, Vec::new()),
            "an older set never replaces a newer one"
        );
        assert!(!faults.load(2, Vec::new()), "nor the same version twice");
        let r = facts("GET", "/r4/Patient/1", None);
        let ids: Vec<u64> = faults.matching(&r).iter().map(|f| f.id).collect();
        assert_eq!(ids, [7, 9], "oldest first, none fired");
        assert_eq!(faults.active().len(), 2);
        faults.claimed(9, 1);
        assert_eq!(faults.active()[1].remaining, 1);
        faults.claimed(7, 0);
        let ids: Vec<u64> = faults.active().iter().map(|f| f.id).collect();
        assert_eq!(ids, [9], "spent: gone at once");
        assert!(faults.load(3, Vec::new()));
        assert!(faults.matching(&r).is_empty());
    }

    #[test]
    fn fires_exactly_count_times() {
        let faults = Faults::default();
        faults
            .add(spec(
                serde_json::json!({"target": "fhir", "status": 503, "count": 2}),
            ))
            .unwrap();
        let r = facts("GET", "/r4/Patient/1", None);
        assert!(faults.fire(&r).is_some());
        assert_eq!(faults.active()[0].remaining, 1);
        assert!(faults.fire(&r).is_some());
        assert!(faults.fire(&r).is_none());
        assert!(faults.active().is_empty());
    }

    #[test]
    fn path_method_and_client_narrow_the_match() {
        let faults = Faults::default();
        faults
            .add(spec(serde_json::json!({"target": "fhir", "status": 429,
                "path": "/r4/ExplanationOfBenefit", "method": "get", "client_id": "a"})))
            .unwrap();
        assert!(
            faults
                .fire(&facts("GET", "/r4/Patient/1", Some("a")))
                .is_none()
        );
        assert!(
            faults
                .fire(&facts("POST", "/r4/ExplanationOfBenefit", Some("a")))
                .is_none()
        );
        assert!(
            faults
                .fire(&facts("GET", "/r4/ExplanationOfBenefit", Some("b")))
                .is_none()
        );
        assert!(
            faults
                .fire(&facts("GET", "/r4/ExplanationOfBenefit", None))
                .is_none()
        );
        assert!(
            faults
                .fire(&facts("GET", "/r4/ExplanationOfBenefit", Some("a")))
                .is_some()
        );
    }

    #[test]
    fn bad_specs_are_refused() {
        for bad in [
            serde_json::json!({"target": "fhir"}),
            serde_json::json!({"target": "fhir", "error": "invalid_grant"}),
            serde_json::json!({"target": "token", "error": "nope"}),
            serde_json::json!({"target": "token", "status": 200}),
            serde_json::json!({"target": "token", "delay_ms": 1, "retry_after": 1}),
            serde_json::json!({"target": "token", "status": 503, "count": 0}),
            serde_json::json!({"target": "token", "status": 503, "path": "oauth2"}),
            serde_json::json!({"target": "any", "delay_ms": 600_000}),
        ] {
            assert!(validate(spec(bad.clone())).is_err(), "{bad}");
        }
        assert!(
            serde_json::from_value::<FaultSpec>(
                serde_json::json!({"target": "fhir", "status": 429, "retry-after": 2})
            )
            .is_err()
        );
        assert!(serde_json::from_value::<FaultSpec>(serde_json::json!({"target": "x"})).is_err());
    }
}
