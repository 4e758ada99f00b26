//! `POST /oauth2/token` (RFC 6749 §3.2, docs/oauth.md#token-endpoint), `POST /oauth2/introspect` (RFC 7662) and
//! `POST /oauth2/revoke` (RFC 7009). Bodies are read as forms here so that any malformed input
//! is answered with an RFC 6749 §5.2 error, never a framework rejection.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::jwks_fetch;
use crate::http::caller::{Caller, Credential};
use crate::http::request_context::RequestContext;
use crate::http::{form, routes};
use crate::ids::PlanId;
use crate::oauth::OAuthError;
use crate::oauth::client_assertion;
use crate::oauth::error::{ErrorCode, invalid_client, invalid_request};
use crate::oauth::grant_book::GrantBook;
use crate::oauth::id_token_flaw::{IdTokenFlaw, flawed};
use crate::oauth::scopes::GrantedScopes;
use crate::oauth::secret::{ExposeOption, Secret};
use crate::oauth::server::User;
use crate::oauth::token_exchange::{
    AssertionCheck, ClientCredentials, TokenRequest, authenticate, client_credentials, exchange,
    token_client,
};
use crate::oauth::token_store::{Grants, TokenLookup};
use crate::state::AppState;

fn read_form<T: for<'de> Deserialize<'de>>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    form::parse(body).map_err(invalid_request)
}

/// Tells the request log when a request carries two client authentication methods, which
/// `client_credentials` refuses (RFC 6749 §2.3): the report names such requests.
fn note_both_methods(context: &RequestContext, request: &TokenRequest) {
    let body_secret = request
        .client_secret
        .as_ref()
        .is_some_and(|s| !s.is_empty());
    let assertion = request
        .client_assertion
        .as_ref()
        .is_some_and(|a| !a.is_empty());
    let basic = matches!(context.caller.credential, Credential::Basic(_));
    let both = match (basic, body_secret, assertion) {
        (true, true, _) => Some("client_secret_basic+client_secret_post"),
        (true, false, true) => Some("client_secret_basic+private_key_jwt"),
        (false, true, true) => Some("client_secret_post+private_key_jwt"),
        _ => None,
    };
    if let Some(methods) = both {
        context.notes.client_auth(methods);
    }
    // A client that names itself only in its assertion is the assertion's `iss`, for the log,
    // as a body `client_id` is, before anything is verified.
    if context.caller.client_id.is_none() && assertion {
        let issuer = request
            .client_assertion
            .as_ref()
            .and_then(|a| client_assertion::claimed_client(a.expose()).ok());
        if let Some(issuer) = issuer {
            context.notes.client_id(issuer.into());
        }
    }
}

/// The HTTP Basic credentials the request-context layer decoded (RFC 6749 §2.3.1), if any.
fn basic_credentials(caller: &Caller) -> Result<Option<(String, Secret)>, OAuthError> {
    match &caller.credential {
        Credential::None => Ok(None),
        Credential::Basic(Some(basic)) => Ok(Some((basic.client_id.clone(), basic.secret.clone()))),
        Credential::Basic(None) => Err(OAuthError {
            basic_auth: true,
            ..invalid_client("malformed HTTP Basic credentials")
        }),
        Credential::Bearer(_) | Credential::Unsupported => Err(invalid_request(
            "the token endpoint accepts HTTP Basic client authentication only",
        )),
    }
}

/// What a `private_key_jwt` assertion is checked with: the token endpoint's URL as `aud`, real
/// time (the sandbox clock without its advance: the client signs by its own clock), and, for an
/// app that registered a `jwks_uri`, the keys fetched from it now.
async fn assertion_check(
    state: &AppState,
    context: &RequestContext,
    creds: &ClientCredentials,
) -> Result<AssertionCheck, OAuthError> {
    let mut check = AssertionCheck {
        fetched_jwks: None,
        audience: format!("{}{}", state.public_url, routes::TOKEN),
        now: context.real_now_unix(),
    };
    if creds.assertion.is_some() {
        let uri = state
            .oauth
            .apps
            .get(&creds.client_id)
            .and_then(|app| app.jwks_uri);
        if let Some(uri) = uri {
            let jwks = jwks_fetch::fetch(&uri)
                .await
                .map_err(|e| invalid_client(format!("the app's jwks_uri {uri}: {e}")))?;
            check.fetched_jwks = Some(jwks);
        }
    }
    Ok(check)
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The token request's body, read once: a form (RFC 6749 §4.1.3), or JSON, which only a plan
/// whose profile takes it accepts (docs/plans.md#behaviour-profiles, `token-request-body`).
enum TokenBody {
    Form(TokenRequest),
    Json(Result<TokenRequest, OAuthError>),
}

impl TokenBody {
    fn read(headers: &HeaderMap, body: &[u8]) -> Result<TokenBody, OAuthError> {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
        if json {
            return Ok(TokenBody::Json(serde_json::from_slice(body).map_err(|e| {
                invalid_request(format!("the JSON body cannot be read: {e}"))
            })));
        }
        read_form(headers, body).map(TokenBody::Form)
    }

    fn request(&self) -> Option<&TokenRequest> {
        match self {
            TokenBody::Form(request) | TokenBody::Json(Ok(request)) => Some(request),
            TokenBody::Json(Err(_)) => None,
        }
    }

    /// The request, if the plan takes a body of this kind.
    fn accepted_by(self, state: &AppState) -> Result<TokenRequest, OAuthError> {
        let accepts = state.plan.profile.token_request_body;
        match self {
            TokenBody::Form(request) if accepts.form() => Ok(request),
            TokenBody::Form(_) => Err(invalid_request(
                "this plan's token endpoint takes a JSON body (application/json)",
            )),
            TokenBody::Json(request) if accepts.json() => request,
            TokenBody::Json(_) => Err(invalid_request(
                "the body must be application/x-www-form-urlencoded",
            )),
        }
    }
}

/// The plan a token request concerns: the one its code or refresh token was issued for, else
/// the default plan (whose answers an unknown code gets, as before there were plans).
fn plan_of(state: &AppState, request: Option<&TokenRequest>) -> AppState {
    let grants = &state.oauth.grants;
    let plan = request.and_then(|request| {
        request
            .code
            .as_ref()
            .and_then(|code| grants.code_plan(code.expose()))
            .or_else(|| {
                request
                    .refresh_token
                    .as_ref()
                    .and_then(|token| grants.refresh_plan(token.expose()))
            })
    });
    match plan {
        Some(plan) => state.for_plan(&plan),
        None => state.clone(),
    }
}

/// 503 `temporarily_unavailable`: hosted mode's database did not answer (the cause is in the
/// server log).
fn database_unavailable(e: &sqlx::Error) -> OAuthError {
    tracing::warn!("the database did not answer a token request: {e}");
    OAuthError::new(
        ErrorCode::TemporarilyUnavailable,
        "the sandbox's database did not answer: try again shortly",
    )
}

pub async fn token(
    State(state): State<AppState>,
    context: RequestContext,
    flaw: Option<Extension<IdTokenFlaw>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = context.now_unix();
    let body = TokenBody::read(&headers, &body);
    let named = body.as_ref().ok().and_then(TokenBody::request);
    // Hosted mode: the code or refresh token the request names, loaded from the database and
    // locked until what this request did with it is written (docs/hosted.md#codes-and-tokens).
    let mut open = match &state.database {
        Some(database) => {
            let code = named.and_then(|r| r.code.exposed());
            let refresh = named.and_then(|r| r.refresh_token.exposed());
            match database.open_book(code, refresh).await {
                Ok(open) => Some(open),
                Err(e) => return database_unavailable(&e).into_response(),
            }
        }
        None => None,
    };
    // The request-context layer found a form's plan already; a JSON body's is found here.
    let plan = context
        .caller
        .plan
        .clone()
        .or_else(|| open.as_ref().and_then(|open| open.book.plan()));
    let state = match &plan {
        Some(plan) => state.for_plan(plan),
        None => plan_of(&state, named),
    };
    let mut memory: &Grants = &state.oauth.grants;
    let result: Result<_, OAuthError> = async {
        let book: &mut dyn GrantBook = match open.as_mut() {
            Some(open) => &mut open.book,
            None => &mut memory,
        };
        let request = body?.accepted_by(&state)?;
        context.notes.grant_type(request.grant_type.as_deref());
        note_both_methods(&context, &request);
        let creds = token_client(
            &state.oauth,
            book,
            &request,
            basic_credentials(&context.caller)?,
            now,
        )?;
        context.notes.client_auth(creds.method());
        let auth = state.plan.profile.client_auth;
        if !auth.accepts(creds.method()) {
            return Err(OAuthError {
                basic_auth: creds.basic,
                ..invalid_client(format!(
                    "{} is not accepted by this plan's token endpoint: use {}",
                    creds.method(),
                    auth.methods()[0]
                ))
            });
        }
        // A public app refreshing with the refresh token alone (as SMART client-js does), or an
        // app naming itself only in its client assertion, is known from what this step read:
        // tell the request log.
        if context.caller.client_id.is_none() {
            context.notes.client_id(creds.client_id.clone());
        }
        let check = assertion_check(&state, &context, &creds).await?;
        exchange(&state.oauth, book, &request, &creds, &check, now).map_err(|e| OAuthError {
            basic_auth: creds.basic,
            ..e
        })
    }
    .await;
    // What the request did is written, an error's included (a code is used up by a failed
    // redemption too), before anything is answered: an issued token is never lost.
    if let (Some(database), Some(open)) = (&state.database, open) {
        if let Err(e) = database.commit_book(open, &state.oauth.grants).await {
            return database_unavailable(&e).into_response();
        }
    }
    match result {
        Ok(mut response) => {
            context.notes.expires_in(response.expires_in);
            // An injected id_token fault (docs/sandbox-tools.md#faults): well-formed, one flaw.
            let mut put_in = None;
            if let (Some(Extension(flaw)), Some(id_token)) = (flaw, response.id_token.as_ref()) {
                match flawed(&state.oauth.keys, id_token.expose(), flaw, now) {
                    Ok(bad) => {
                        response.id_token = Some(bad.into());
                        put_in = Some(flaw.as_str());
                    }
                    Err(e) => tracing::error!("flawing an id_token failed: {e}"),
                }
            }
            context.notes.issued(response.access_token.expose(), put_in);
            no_store(Json(response).into_response())
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
struct TokenForm {
    token: Option<Secret>,
    #[allow(dead_code)] // accepted and ignored: RFC 7662 §2.1, RFC 7009 §2.1
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    client_assertion_type: Option<String>,
    client_assertion: Option<Secret>,
}

async fn authenticated_token(
    state: &AppState,
    context: &RequestContext,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Secret, ClientCredentials), OAuthError> {
    let f: TokenForm = read_form(headers, body)?;
    let as_request = TokenRequest {
        client_id: f.client_id,
        client_secret: f.client_secret,
        client_assertion_type: f.client_assertion_type,
        client_assertion: f.client_assertion,
        ..Default::default()
    };
    note_both_methods(context, &as_request);
    let creds = client_credentials(&as_request, basic_credentials(&context.caller)?)?;
    context.notes.client_auth(creds.method());
    let check = assertion_check(state, context, &creds).await?;
    authenticate(&state.oauth, &creds, &check)?;
    let token = f
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid_request("token is required"))?;
    Ok((token, creds))
}

pub async fn introspect(
    State(state): State<AppState>,
    context: RequestContext,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (token, _) = match authenticated_token(&state, &context, &headers, &body).await {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let now = context.now_unix();
    let grants = &state.oauth.grants;
    // SMART App Launch, token introspection: `scope`, `client_id`, `exp` always, the launch
    // context (`patient`), and `iss`, `sub` and `fhirUser` only when an id_token was issued, that
    // is when `openid` was granted.
    // Each token is named by the plan that issued it (docs/plans.md).
    let identity =
        |body: &mut serde_json::Value, plan: &PlanId, scopes: &GrantedScopes, user: &User<'_>| {
            if scopes.contains("openid") {
                let issuer = state.for_plan(plan);
                body["iss"] = json!(issuer.oauth.config.issuer);
                body["sub"] = json!(user.subject());
                body["fhirUser"] = json!(issuer.oauth.fhir_user(user));
            }
        };
    let access = match &state.database {
        Some(database) => match database.lookup_access(grants, token.expose(), now).await {
            TokenLookup::Live(grant) => Some(grant),
            TokenLookup::Unavailable => {
                return OAuthError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the sandbox's database did not answer: try again shortly",
                )
                .into_response();
            }
            _ => None,
        },
        None => grants.access(token.expose(), now),
    };
    let refresh = match (&access, &state.database) {
        (Some(_), _) => None,
        (None, Some(database)) => match database.live_refresh(token.expose(), now).await {
            Ok(grant) => grant,
            Err(e) => return database_unavailable(&e).into_response(),
        },
        (None, None) => grants.refresh(token.expose(), now),
    };
    let body = if let Some(g) = access {
        let mut body = json!({"active": true, "token_type": "Bearer", "scope": g.scopes.to_string(),
            "client_id": g.client_id, "patient": g.patient_id,
            "iat": g.issued_at, "exp": g.expires_at});
        identity(&mut body, &g.plan, &g.scopes, &g.user());
        body
    } else if let Some(g) = refresh {
        let mut body = json!({"active": true, "token_type": "refresh_token", "scope": g.scopes.to_string(),
            "client_id": g.client_id, "patient": g.patient_id,
            "iat": g.issued_at, "exp": g.expires_at});
        identity(&mut body, &g.plan, &g.scopes, &g.user());
        body
    } else {
        json!({"active": false})
    };
    no_store(Json(body).into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    context: RequestContext,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match authenticated_token(&state, &context, &headers, &body).await {
        Ok((token, creds)) => {
            let grants = &state.oauth.grants;
            match &state.database {
                Some(database) => {
                    // Answered once every live replica refuses the token (docs/hosted.md).
                    if let Err(e) = database
                        .revoke_token(grants, token.expose(), &creds.client_id)
                        .await
                    {
                        return database_unavailable(&e).into_response();
                    }
                }
                None => grants.revoke_token(token.expose(), &creds.client_id),
            }
            no_store(StatusCode::OK.into_response())
        }
        Err(e) => e.into_response(),
    }
}
