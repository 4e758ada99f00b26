//! Each route is tagged, where it is registered, with the endpoint it is (`sandbox::endpoint`).
//! The tag's layer runs after routing, so it knows the route and its path parameters: it tells
//! the request log which endpoint answered (and, under the FHIR base, which interaction it was),
//! and fires a matching injected fault there: a delay, then the handler, or an answer in that
//! endpoint's own error format (docs/sandbox-tools.md#faults; in hosted mode, a firing is
//! claimed in the database, docs/hosted.md#faults). Routes without a tag (the
//! sandbox's own tools, `/healthz`, the stylesheet) are never faulted nor logged.

use std::time::Duration;

use axum::extract::{FromRequestParts, OriginalUri, RawPathParams, Request, State};
use axum::http::Method;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::MethodRouter;

use crate::http::fault_answer;
use crate::http::request_context::RequestContext;
use crate::sandbox::endpoint::{Endpoint, SignInPage};
use crate::sandbox::faults::RequestFacts;
use crate::sandbox::interaction::{FhirRoute, interaction};
use crate::state::AppState;

/// What a route is, as its registration says.
#[derive(Debug, Clone)]
pub enum Tag {
    Fixed(Endpoint),
    /// A FHIR route: the interaction follows from the method and the `type` and `operation`
    /// path parameters.
    Fhir(FhirRoute),
    /// A sign-in page: its `attempt` path parameter names the app.
    SignIn(SignInPage),
}

/// `route`, tagged.
pub fn tagged(state: &AppState, tag: Tag, route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.layer(from_fn_with_state((state.clone(), tag), at_endpoint))
}

async fn at_endpoint(
    State((state, tag)): State<(AppState, Tag)>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let params = RawPathParams::from_request_parts(&mut parts, &state)
        .await
        .ok();
    let param = |name: &str| {
        params
            .iter()
            .flat_map(|p| p.iter())
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    };
    let Ok(context) = RequestContext::from_request_parts(&mut parts, &state).await;
    let endpoint = match tag {
        Tag::Fixed(endpoint) => endpoint,
        Tag::Fhir(route) => Endpoint::Fhir(interaction(
            route,
            parts.method.as_str(),
            param("type").as_deref(),
            param("operation").as_deref(),
        )),
        Tag::SignIn(page) => {
            if let Some(attempt) = param("attempt") {
                let sign_ins = crate::http::sign_ins::SignIns::of(&state);
                if let Some(client) = sign_ins.attempt_client(&attempt).await {
                    context.notes.client_id(client);
                }
            }
            Endpoint::SignIn(page)
        }
    };
    context.notes.endpoint(endpoint.clone());
    // Under a nested router (the FHIR base) the URI has lost its prefix; faults and the
    // request log speak of the path the client sent.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let path = uri.path();
    let query = uri.query().unwrap_or_default();
    if parts.method == Method::GET
        && matches!(endpoint, Endpoint::Fhir(_))
        && state.tools.requests.is_next_link(path, query)
    {
        context.notes.followed_next();
    }
    let client_id = context
        .caller
        .client_id
        .clone()
        .or_else(|| context.notes.client());
    // The plan: the one whose URL this is; at the endpoints every plan shares, the one the
    // request's code or token belongs to.
    let shared = matches!(
        endpoint,
        Endpoint::Token
            | Endpoint::Register
            | Endpoint::Introspect
            | Endpoint::Revoke
            | Endpoint::Userinfo
    );
    let plan = match &context.caller.plan {
        Some(plan) if shared => plan.as_str(),
        _ => state.plan.id.as_str(),
    };
    if plan != crate::plans::DEFAULT_PLAN {
        context.notes.plan(plan);
    }
    // A CORS preflight is the browser's, not the app's: never faulted.
    let fault = if parts.method == Method::OPTIONS {
        None
    } else {
        let facts = RequestFacts {
            endpoint: &endpoint,
            plan,
            method: parts.method.as_str(),
            path,
            client_id: client_id.as_deref(),
        };
        match &state.database {
            // Hosted mode: a match claims its firing in the database (docs/hosted.md#faults).
            Some(database) => database.fire_fault(&state.tools.faults, &facts).await,
            None => state.tools.faults.fire(&facts),
        }
    };
    let delay_after = fault.as_ref().and_then(|f| f.delay_after_ms);
    if let Some(fault) = fault {
        context.notes.fault(fault.id);
        if let Some(ms) = fault.delay_ms {
            // Latency, not time: the sandbox clock is for expiry and is not moved by this.
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let params = context.form.as_deref().unwrap_or(query.as_bytes());
        if let Some(answer) = fault_answer::respond(&state, &fault, endpoint.error_format(), params)
        {
            return answer;
        }
        // The handler answers, and the token endpoint flaws the id_token it issues.
        if let Some(flaw) = fault.id_token {
            parts.extensions.insert(flaw);
        }
    }
    let response = next.run(Request::from_parts(parts, body)).await;
    if let Some(ms) = delay_after {
        // The handler has answered (a code is redeemed, a token issued); the answer is late.
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    response
}
