//! `GET`/`POST /oauth2/userinfo` (OpenID Connect Core §5.3): the signed-in user's claims for a
//! token that was granted `openid`: the member's, or their personal representative's.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::caller::BearerProblem;
use crate::http::request_context::RequestContext;
use crate::state::AppState;

pub async fn userinfo(State(state): State<AppState>, context: RequestContext) -> Response {
    let grant = match context.caller.grant() {
        Ok(grant) => grant,
        Err(BearerProblem::Unavailable) => {
            return challenge(
                StatusCode::SERVICE_UNAVAILABLE,
                BearerProblem::Unavailable.challenge(),
                "temporarily_unavailable",
            );
        }
        Err(problem) => {
            return challenge(
                StatusCode::UNAUTHORIZED,
                problem.challenge(),
                "invalid_token",
            );
        }
    };
    if !grant.scopes.contains("openid") {
        return challenge(
            StatusCode::FORBIDDEN,
            "Bearer realm=\"payer-sandbox\", error=\"insufficient_scope\", scope=\"openid\"",
            "insufficient_scope",
        );
    }
    // The plan that issued the token names the user (docs/plans.md).
    let state = state.for_plan(&grant.plan);
    let user = grant.user();
    let mut claims = json!({
        "sub": user.subject(),
        "fhirUser": state.oauth.fhir_user(&user),
        "patient": grant.patient_id,
    });
    let member = state.members.by_patient_id(&grant.patient_id);
    match user.representative {
        // A personal representative's own name: the member's record is the launch context.
        Some(id) => {
            if let Some(r) = member.and_then(|m| m.representative(id)) {
                claims["name"] = json!(r.display_name());
                claims["given_name"] = json!(r.given);
                claims["family_name"] = json!(r.family);
            }
        }
        None => {
            if let Some(member) = member {
                claims["name"] = json!(member.display_name());
                claims["given_name"] = json!(member.given);
                claims["family_name"] = json!(member.family);
                if let Some(birth_date) = &member.birth_date {
                    claims["birthdate"] = json!(birth_date);
                }
            }
        }
    }
    Json(claims).into_response()
}

fn challenge(status: StatusCode, www_authenticate: &'static str, error: &str) -> Response {
    let mut response = (status, Json(json!({"error": error}))).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(www_authenticate),
    );
    response
}
