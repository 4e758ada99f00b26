//! Who is calling, worked out once per request by the request-context layer and read by every
//! extractor and handler after it: the `Authorization` header parsed once (auth schemes are
//! case-insensitive, RFC 9110 §11.1), a bearer token looked up once in the grant store (RFC 6750
//! §2.1), HTTP Basic client credentials decoded once (RFC 6749 §2.3.1), and the client the
//! request comes from (docs/sandbox-tools.md#request-log). Each API maps a credential problem to
//! its own error format.

use crate::clock::UnixTime;
use axum::http::{HeaderMap, header};

use crate::ids::{ClientId, PlanId, TokenTag};
use crate::oauth::secret::Secret;
use crate::oauth::token_exchange::{auth_scheme, parse_basic};
use crate::oauth::token_store::{AccessGrant, TokenLookup};
use crate::state::AppState;

use std::sync::Arc;

/// The credential a request carried in its `Authorization` header.
#[derive(Debug, Clone)]
pub enum Credential {
    /// No `Authorization` header.
    None,
    /// `Basic`: the client id and secret, or `None` when they could not be decoded.
    Basic(Option<BasicCredentials>),
    /// `Bearer`: what the token is, looked up once.
    Bearer(TokenLookup),
    /// Another scheme, an empty token, or a header that is not text.
    Unsupported,
}

/// HTTP Basic client credentials; the secret cannot be logged.
#[derive(Debug, Clone)]
pub struct BasicCredentials {
    pub client_id: String,
    pub secret: Secret,
}

/// Why a bearer token does not authorize the request (RFC 6750 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerProblem {
    /// No `Authorization: Bearer` header.
    Missing,
    /// A token that is unknown, expired or revoked.
    Invalid,
    /// Hosted mode: the database, which would know the token, did not answer (a 503, not a
    /// 401: the token may well be good, and the app should retry rather than sign in again).
    Unavailable,
}

impl BearerProblem {
    /// RFC 6750 §3 challenge.
    pub fn challenge(self) -> &'static str {
        match self {
            Self::Missing => "Bearer realm=\"payer-sandbox\"",
            Self::Invalid => {
                "Bearer realm=\"payer-sandbox\", error=\"invalid_token\", error_description=\"the access token is unknown, expired or revoked\""
            }
            Self::Unavailable => "Bearer realm=\"payer-sandbox\"",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub credential: Credential,
    /// The app the request comes from: HTTP Basic, else the bearer token's app (live or not),
    /// else `client_id` in the form body or the query.
    pub client_id: Option<ClientId>,
    /// Which bearer token the request carried, for the report (never the token itself).
    pub bearer_tag: Option<TokenTag>,
    /// The plan its bearer token, code or refresh token was issued for (docs/plans.md).
    pub plan: Option<PlanId>,
}

impl Caller {
    pub fn anonymous() -> Self {
        Caller {
            credential: Credential::None,
            client_id: None,
            bearer_tag: None,
            plan: None,
        }
    }

    /// The live access grant the bearer token carries.
    pub fn grant(&self) -> Result<Arc<AccessGrant>, BearerProblem> {
        match &self.credential {
            Credential::Bearer(TokenLookup::Live(grant)) => Ok(grant.clone()),
            Credential::Bearer(TokenLookup::Unavailable) => Err(BearerProblem::Unavailable),
            Credential::Bearer(_) => Err(BearerProblem::Invalid),
            _ => Err(BearerProblem::Missing),
        }
    }
}

/// The request's credential, parsed and looked up once, and the bearer token's tag. In hosted
/// mode a bearer token this replica has not cached is looked up in the database
/// (docs/hosted.md#codes-and-tokens).
async fn credential(
    state: &AppState,
    headers: &HeaderMap,
    now: UnixTime,
) -> (Credential, Option<TokenTag>) {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return (Credential::None, None);
    };
    let Ok(value) = value.to_str() else {
        return (Credential::Unsupported, None);
    };
    let Some((scheme, rest)) = auth_scheme(value.trim()) else {
        return (Credential::Unsupported, None);
    };
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = parse_basic(value).ok();
        let basic = decoded.map(|(client_id, secret)| BasicCredentials {
            client_id,
            secret: secret.into(),
        });
        (Credential::Basic(basic), None)
    } else if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        let lookup = match &state.database {
            Some(database) => database.lookup_access(&state.oauth.grants, rest, now).await,
            None => state.oauth.grants.lookup(rest, now),
        };
        (Credential::Bearer(lookup), Some(TokenTag::of(rest)))
    } else {
        (Credential::Unsupported, None)
    }
}

/// Who is calling: the credential, then the client it names, else `client_id` in the form body
/// or the query.
pub async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    query: &str,
    form: Option<&[u8]>,
    now: UnixTime,
) -> Caller {
    let (credential, bearer_tag) = credential(state, headers, now).await;
    let from_credential = match &credential {
        Credential::Basic(Some(basic)) => Some(ClientId::new(basic.client_id.as_str())),
        Credential::Bearer(TokenLookup::Live(grant)) => Some(grant.client_id.clone()),
        Credential::Bearer(TokenLookup::Dead { client_id }) => Some(client_id.clone()),
        _ => None,
    };
    let client_id = from_credential
        .or_else(|| form.and_then(|f| param(f, "client_id")).map(ClientId::from))
        .or_else(|| param(query.as_bytes(), "client_id").map(ClientId::from));
    let grants = &state.oauth.grants;
    let bearer_plan = match &credential {
        Credential::Bearer(TokenLookup::Live(grant)) => Some(grant.plan.clone()),
        _ => None,
    };
    let code = form.and_then(|f| param(f, "code"));
    let refresh = form.and_then(|f| param(f, "refresh_token"));
    let mut plan = bearer_plan.or_else(|| {
        code.as_deref()
            .and_then(|code| grants.code_plan(code))
            .or_else(|| refresh.as_deref().and_then(|t| grants.refresh_plan(t)))
    });
    // Hosted mode: another replica may have issued the code or refresh token.
    if let (None, Some(database)) = (&plan, &state.database) {
        if code.is_some() || refresh.is_some() {
            plan = database
                .plan_of_secret(code.as_deref(), refresh.as_deref())
                .await
                .unwrap_or_default();
        }
    }
    Caller {
        credential,
        client_id,
        bearer_tag,
        plan,
    }
}

fn param(input: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(input)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}
