//! `/sandbox/api/**`: members and their representatives, outbox, headless authorize, the clock, grant expiry and reset;
//! faults, the request log and the report come from `contract`.
//! Errors are JSON `{"error","error_description"}` like the OAuth endpoints'.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::plan_param::{PlanParam, plan_named};
use crate::db::Database;
use crate::db::keys::KeyChange;
use crate::http::request_context::Now;
use crate::http::routes::control as routes;
use crate::oauth::authorize::{AuthorizeDecision, AuthorizeParams, redirect_with};
use crate::oauth::{ErrorCode, OAuthError, consent};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(routes::MEMBERS, get(members))
        .route(routes::PLANS, get(plans))
        .route(routes::REPRESENTATIVES, get(representatives))
        .route(routes::EXPIRE_GRANTS, post(expire_grants))
        .route(routes::OUTBOX, get(outbox))
        .route(routes::AUTHORIZE, post(authorize))
        .route(routes::CLOCK, get(clock))
        .route(routes::CLOCK_ADVANCE, post(advance_clock))
        .route(routes::CLOCK_RESET, post(reset_clock))
        .route(routes::RESET, post(reset))
        .route(routes::KEYS, get(keys))
        .route(routes::KEYS_ROTATE, post(rotate_keys))
        .route(routes::KEYS_DROP_PREVIOUS, post(drop_previous_key))
        .merge(super::contract::router())
        .merge(super::data_changes::router())
}

pub(super) fn bad_request(description: impl Into<String>) -> Response {
    OAuthError::new(ErrorCode::InvalidRequest, description).into_response()
}

pub(super) fn json_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Response> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| bad_request(format!("the body must be a JSON object: {e}")))
}

async fn members(PlanParam(state): PlanParam) -> Response {
    Json(state.members.all()).into_response()
}

/// Every plan of the network (docs/sandbox-tools.md#plans): its URLs, its behaviour profile and
/// its members.
async fn plans(State(state): State<AppState>) -> Response {
    let list: Vec<serde_json::Value> = state
        .plans()
        .iter()
        .map(|plan| {
            let url = |path: &str| plan.plan_url(path);
            json!({
                "id": plan.plan.id,
                "aliases": plan.plan.aliases,
                "name": plan.plan.name,
                "default": plan.plan.is_default(),
                "issuer": plan.issuer(),
                "fhir_base": plan.fhir_base(),
                "authorize": plan.authorize_url(),
                "smart_configuration": url(crate::http::routes::SMART_CONFIGURATION),
                "directory": url(crate::http::routes::DIRECTORY_BASE),
                "formulary": url(crate::http::routes::FORMULARY_BASE),
                "logo": format!("{}{}", state.public_url, crate::http::routes::brand_logo_path(&plan.plan.id)),
                "access_token_lifetime": plan.oauth.config.access_token_ttl,
                "profile": plan.plan.profile,
                "members": plan.members.all(),
            })
        })
        .collect();
    Json(list).into_response()
}

/// Who may sign in for whom (docs/oauth.md#personal-representatives): each parent or guardian on
/// file with the member they act for, and whether the member is a minor on the sandbox clock.
async fn representatives(PlanParam(state): PlanParam) -> Response {
    let today = state.clock.now_unix().utc_date();
    let list: Vec<serde_json::Value> = state
        .members
        .all()
        .iter()
        .flat_map(|member| {
            member.representatives.iter().map(move |r| {
                json!({
                    "related_person_id": r.related_person_id,
                    "given": r.given,
                    "family": r.family,
                    "relationship": r.relationship,
                    "relationship_display": r.relationship_display,
                    "member_id": member.member_id,
                    "patient_id": member.patient_id,
                    "member_is_minor": member.is_minor_on(today),
                })
            })
        })
        .collect();
    Json(list).into_response()
}

/// Every plan's verification emails (in hosted mode every replica's); each names its plan.
async fn outbox(State(state): State<AppState>) -> Response {
    let (Ok(outbox), Ok(developer_emails)) = (
        crate::http::sign_ins::outbox(&state).await,
        crate::http::developer_accounts::outbox(&state).await,
    ) else {
        return OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "the outbox could not be read: the database does not answer (the server log says why)",
        )
        .into_response();
    };
    let mut messages: Vec<serde_json::Value> = outbox
        .into_iter()
        .map(|(plan, message)| {
            let mut value = serde_json::to_value(message).unwrap_or_default();
            value["plan"] = json!(plan);
            value
        })
        .collect();
    // Developer accounts' sign-up codes (docs/developer-accounts.md#signing-up), after the members'.
    messages.extend(developer_emails.into_iter().map(|message| {
        let mut value = serde_json::to_value(message).unwrap_or_default();
        value["kind"] = json!("developer");
        value
    }));
    Json(messages).into_response()
}

#[derive(Debug, Deserialize)]
struct HeadlessAuthorize {
    client_id: Option<String>,
    member_id: Option<String>,
    scope: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    aud: Option<String>,
    /// A personal representative's RelatedPerson id: they sign in for the (minor) member.
    representative: Option<String>,
    /// What the member unticks on the consent page: resource types, or granular scopes.
    #[serde(default)]
    decline: Vec<String>,
    /// The plan the member signs in to (docs/plans.md): its id or an alias; the default plan
    /// when absent. `?plan=` works too.
    plan: Option<String>,
}

/// A code exactly as if the member had approved in the browser (same checks, TTL, binding).
async fn authorize(PlanParam(state): PlanParam, Now(now): Now, body: Bytes) -> Response {
    let request: HeadlessAuthorize = match json_body(&body) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let state = match request.plan.as_deref() {
        Some(name) => match plan_named(&state, name) {
            Ok(plan) => plan,
            Err(response) => return response,
        },
        None => state,
    };
    let Some(member) = request
        .member_id
        .as_deref()
        .and_then(|m| state.members.by_member_id(m))
    else {
        return bad_request("member_id must name a test member (GET /sandbox/api/members)");
    };
    let representative = match request.representative.as_deref() {
        None => None,
        Some(id) => {
            let id = id.strip_prefix("RelatedPerson/").unwrap_or(id);
            let Some(representative) = member.representative(id) else {
                return bad_request(format!(
                    "representative must name a parent or guardian of {} on file (their representatives in GET /sandbox/api/members)",
                    member.display_name()
                ));
            };
            if !member.is_minor_on(now.utc_date()) {
                return bad_request(format!(
                    "{} is 18 or older on the sandbox clock: a parent or guardian can no longer sign in for them",
                    member.display_name()
                ));
            }
            Some(representative)
        }
    };
    let app = request
        .client_id
        .as_deref()
        .and_then(|c| state.oauth.apps.get(c));
    let redirect_sent = request.redirect_uri.is_some();
    let redirect_uri = request.redirect_uri.clone().or_else(|| {
        app.as_ref()
            .and_then(|a| a.default_redirect().map(str::to_owned))
    });
    let params = AuthorizeParams {
        client_id: request.client_id,
        redirect_uri,
        response_type: Some("code".to_owned()),
        scope: request.scope,
        state: request.state,
        aud: request.aud.or_else(|| Some(state.fhir_base().to_owned())),
        code_challenge: request.code_challenge,
        code_challenge_method: request.code_challenge_method,
        nonce: request.nonce,
        // Headless authorize is the sign-in itself: no prompt to honour.
        prompt: None,
        max_age: None,
    };
    match state.oauth.decide(&params) {
        AuthorizeDecision::Proceed(mut authorized) => {
            // Headless: the token request need not repeat a redirect the caller never sent.
            authorized.redirect_uri_sent = redirect_sent;
            if !request.decline.is_empty() {
                authorized.scopes = consent::without(&authorized.scopes, &request.decline);
                if !authorized.scopes.has_resource_access() {
                    return OAuthError::new(
                        ErrorCode::InvalidScope,
                        "decline leaves no resource scope: the member would share nothing",
                    )
                    .into_response();
                }
            }
            // Headless authorize stands for the whole sign-in: the member authenticated now.
            let code = state
                .oauth
                .issue_code(&authorized, member, representative, now, now);
            if !state.share_code(&code).await {
                return OAuthError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the code could not be stored: the database does not answer (the server log says why)",
                )
                .into_response();
            }
            let mut query = vec![("code", code.as_str())];
            if let Some(s) = authorized.state.as_deref() {
                query.push(("state", s));
            }
            let redirect_url = redirect_with(&authorized.redirect_uri, &query);
            Json(json!({"code": code, "redirect_url": redirect_url})).into_response()
        }
        AuthorizeDecision::ErrorPage { title, detail } => {
            let code = if title.contains("app") || title.contains("client") {
                ErrorCode::InvalidClient
            } else {
                ErrorCode::InvalidRequest
            };
            let mut response = OAuthError::new(code, format!("{title}: {detail}")).into_response();
            *response.status_mut() = StatusCode::BAD_REQUEST;
            response
        }
        AuthorizeDecision::Redirect {
            error, description, ..
        } => OAuthError::new(error, description).into_response(),
    }
}

fn clock_json(state: &AppState) -> Response {
    Json(json!({
        // Read after the control call moved the clock: this answer shows the new time.
        "now": crate::http::form::rfc3339(state.clock.now_unix()),
        "offset_seconds": state.clock.offset(),
    }))
    .into_response()
}

async fn clock(State(state): State<AppState>) -> Response {
    clock_json(&state)
}

#[derive(Debug, Deserialize)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(State(state): State<AppState>, body: Bytes) -> Response {
    let advance: Advance = match json_body(&body) {
        Ok(a) => a,
        Err(response) => return response,
    };
    // Going back would make an expired code or token valid again mid-test, and
    // `reset` already restores the wall clock, so the clock only moves forward here.
    let Ok(seconds) = u64::try_from(advance.seconds) else {
        return bad_request(
            "seconds must be zero or more: the clock only moves forward; \
             use POST /sandbox/api/clock/reset to go back to the wall clock",
        );
    };
    match super::advance_clock(&state, seconds).await {
        Ok(()) => clock_json(&state),
        Err(e) => clock_unavailable(&e),
    }
}

async fn reset_clock(State(state): State<AppState>) -> Response {
    match super::reset_clock(&state).await {
        Ok(()) => clock_json(&state),
        Err(e) => clock_unavailable(&e),
    }
}

/// Hosted mode's shared clock could not be moved (docs/hosted.md#the-sandbox-clock).
fn clock_unavailable(problem: &str) -> Response {
    tracing::error!("moving the shared sandbox clock failed: {problem}");
    OAuthError::new(
        ErrorCode::TemporarilyUnavailable,
        "the sandbox clock could not be moved: the database does not answer (the server log says why)",
    )
    .into_response()
}

async fn expire_grants(PlanParam(state): PlanParam, Path(member_id): Path<String>) -> Response {
    let Some(member) = state.members.by_member_id(&member_id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "not_found", "error_description": "no test member has that member ID"})),
        )
            .into_response();
    };
    let revoked = match &state.database {
        Some(database) => match database
            .revoke_member(&state.oauth.grants, &member.member_id)
            .await
        {
            Ok(revoked) => revoked,
            Err(e) => {
                tracing::warn!("expire-grants: {e}");
                return OAuthError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the grants could not be expired: the database does not answer (the server log says why)",
                )
                .into_response();
            }
        },
        None => state.oauth.grants.revoke_member(&member.member_id),
    };
    Json(json!({"member_id": member.member_id, "revoked": revoked})).into_response()
}

/// The signing keys (docs/sandbox-tools.md#signing-keys): which `kid` signs, which the JWKS lists.
async fn keys(PlanParam(state): PlanParam) -> Response {
    Json(state.oauth.keys.state()).into_response()
}

/// A new `kid` signs from now on; the JWKS keeps the old key beside it until it is dropped. In
/// hosted mode, on every replica before the answer (docs/hosted.md#signing-keys).
async fn rotate_keys(PlanParam(state): PlanParam) -> Response {
    if let Some(database) = &state.database {
        return shared_key_change(&state, database, KeyChange::Rotate).await;
    }
    match state.oauth.keys.rotate() {
        Ok(keys) => Json(keys).into_response(),
        Err(e) => {
            tracing::error!("rotating the signing key failed: {e}");
            OAuthError::new(
                ErrorCode::ServerError,
                "the signing key could not be rotated (the server log says why)",
            )
            .into_response()
        }
    }
}

/// Ends a rotation's overlap: the JWKS lists only the current key (on every replica in hosted
/// mode).
async fn drop_previous_key(PlanParam(state): PlanParam) -> Response {
    match &state.database {
        Some(database) => shared_key_change(&state, database, KeyChange::DropPrevious).await,
        None => Json(state.oauth.keys.drop_previous()).into_response(),
    }
}

/// A change of the plan's keys made through the database, so that every replica has it; `503`
/// when the database does not answer (nothing changed then).
async fn shared_key_change(state: &AppState, database: &Database, change: KeyChange) -> Response {
    match database
        .change_keys(&state.key_rings(), &state.plan.id, change)
        .await
    {
        Ok(()) => Json(state.oauth.keys.state()).into_response(),
        Err(e) => {
            tracing::error!("changing the shared signing keys failed: {e}");
            OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the signing keys could not be changed: the database does not answer (the server log says why)",
            )
            .into_response()
        }
    }
}

async fn reset(State(state): State<AppState>) -> Response {
    match super::reset_all(&state).await {
        Ok(()) => Json(json!({"reset": true})).into_response(),
        Err(super::ResetError::State(_)) => OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "could not save the state directory (the server log says why)",
        )
        .into_response(),
        Err(e) => {
            tracing::error!("reset: {e:?}");
            OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the reset did not finish: the database does not answer (the server log says why)",
            )
            .into_response()
        }
    }
}
