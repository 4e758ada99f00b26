//! The authorization request (RFC 6749 §4.1.1, SMART App Launch standalone launch, RFC 7636):
//! checks in the order RFC 6749 §4.1.2.1 requires. A bad or unknown client or redirect URI must
//! never redirect (an error page instead); every later error redirects with `error`,
//! `error_description` and the exact `state`.

use serde::Deserialize;
use url::Url;

use super::apps::App;
use super::error::ErrorCode;
use super::pkce;
use super::scopes::GrantedScopes;
use crate::plans::profile::ScopeSyntax;

/// Longest `state` or `nonce` echoed back; longer values are refused rather than truncated.
const MAX_ECHOED: usize = 2048;

/// The authorization request's parameters, as GET query or POST form (both are SMART-required).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub aud: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    /// OpenID Connect Core §3.1.2.1: `none`, `login`, `consent`, `select_account`.
    pub prompt: Option<String>,
    pub max_age: Option<String>,
}

/// A request that passed every check: what the sign-in pages and the code carry forward.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub app_name: String,
    pub redirect_uri: String,
    /// Whether the request named the redirect (the token request must then repeat it).
    pub redirect_uri_sent: bool,
    pub scopes: GrantedScopes,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeDecision<T> {
    Proceed(T),
    /// Never redirect: the client or its redirect URI cannot be trusted.
    ErrorPage {
        title: String,
        detail: String,
    },
    /// RFC 6749 §4.1.2.1 error redirect.
    Redirect {
        redirect_uri: String,
        error: ErrorCode,
        description: String,
        state: Option<String>,
    },
}

/// What the server's configuration says about authorization requests.
#[derive(Debug, Clone)]
pub struct AuthorizePolicy<'a> {
    pub strict: bool,
    pub fhir_base: &'a str,
    pub default_scope: &'a str,
    /// `aud` required (`--strict`, or the plan's profile: docs/plans.md#behaviour-profiles).
    pub require_aud: bool,
    /// PKCE required of confidential apps too.
    pub require_pkce: bool,
    pub require_launch_patient: bool,
    pub scope_syntax: ScopeSyntax,
}

pub fn decide(
    params: &AuthorizeParams,
    app: Option<&App>,
    policy: &AuthorizePolicy<'_>,
) -> AuthorizeDecision<AuthorizeRequest> {
    let page = |title: &str, detail: String| AuthorizeDecision::ErrorPage {
        title: title.to_owned(),
        detail,
    };
    let Some(client_id) = params.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return page(
            "Missing client_id",
            "The request does not say which app is asking.".to_owned(),
        );
    };
    let Some(app) = app else {
        return page(
            "Unknown app",
            format!(
                "No app is registered with client_id {client_id:?}. Register it in the developer portal."
            ),
        );
    };
    let redirect_uri = match params.redirect_uri.as_deref().filter(|r| !r.is_empty()) {
        Some(uri) if app.accepts_redirect(uri) => uri.to_owned(),
        Some(uri) => {
            return page(
                "Redirect URI not registered",
                format!(
                    "{uri:?} is not a redirect URI registered for {:?}. Redirect URIs must match a \
                     registered one exactly.",
                    app.name
                ),
            );
        }
        None if app.redirect_uris.len() == 1 && !app.builtin => app.redirect_uris[0].clone(),
        None => {
            return page(
                "Missing redirect_uri",
                "The request has no redirect_uri and the app has more than one registered."
                    .to_owned(),
            );
        }
    };
    if Url::parse(&redirect_uri).is_err() {
        return page(
            "Invalid redirect URI",
            format!("{redirect_uri:?} is not a URL."),
        );
    }

    let state = params.state.clone();
    let fail = |error: ErrorCode, description: &str| AuthorizeDecision::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description: description.to_owned(),
        state: state.clone(),
    };
    if state.as_deref().is_some_and(|s| s.len() > MAX_ECHOED)
        || params
            .nonce
            .as_deref()
            .is_some_and(|n| n.len() > MAX_ECHOED)
    {
        return fail(ErrorCode::InvalidRequest, "state or nonce is too long");
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None if !policy.strict => {}
        None => return fail(ErrorCode::InvalidRequest, "response_type is required"),
        Some(_) => {
            return fail(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            );
        }
    }
    match params.aud.as_deref() {
        Some(aud) if aud.trim_end_matches('/') != policy.fhir_base.trim_end_matches('/') => {
            return fail(
                ErrorCode::InvalidRequest,
                &format!(
                    "aud must be this server's FHIR base URL, {}",
                    policy.fhir_base
                ),
            );
        }
        None if policy.require_aud => {
            return fail(
                ErrorCode::InvalidRequest,
                "aud (the FHIR base URL) is required",
            );
        }
        _ => {}
    }
    let code_challenge = match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    ) {
        (Some(challenge), Some("S256")) if pkce::is_valid_challenge(challenge) => {
            Some(challenge.to_owned())
        }
        (Some(_), Some("S256")) => {
            return fail(
                ErrorCode::InvalidRequest,
                "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
            );
        }
        (Some(_), Some("plain") | None) => {
            return fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method plain is not supported: use S256",
            );
        }
        (Some(_), Some(_)) => {
            return fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256",
            );
        }
        (None, Some(_)) => {
            return fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method was sent without code_challenge",
            );
        }
        (None, None) if app.public => {
            return fail(
                ErrorCode::InvalidRequest,
                "public apps must use PKCE (code_challenge with code_challenge_method=S256)",
            );
        }
        (None, None) if policy.require_pkce => {
            return fail(
                ErrorCode::InvalidRequest,
                "PKCE (code_challenge, S256) is required",
            );
        }
        (None, None) => None,
    };
    let requested = params
        .scope
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(policy.default_scope);
    if let Some(refused) = requested
        .split_whitespace()
        .find(|scope| resource_permissions(scope).is_some_and(|p| !policy.scope_syntax.accepts(p)))
    {
        let accepted = match policy.scope_syntax {
            ScopeSyntax::V1 => "SMART v1 scopes only (e.g. patient/*.read)",
            _ => "SMART v2 scopes only (e.g. patient/*.rs)",
        };
        return fail(
            ErrorCode::InvalidScope,
            &format!("{refused:?}: this plan accepts {accepted}"),
        );
    }
    if policy.require_launch_patient && !requested.split_whitespace().any(|s| s == "launch/patient")
    {
        return fail(
            ErrorCode::InvalidScope,
            "this plan requires the launch/patient scope on every authorization request",
        );
    }
    let scopes = GrantedScopes::grant(requested, app.scopes.as_deref());
    if !scopes.has_resource_access() {
        return fail(
            ErrorCode::InvalidScope,
            "no grantable resource scope was requested (e.g. patient/*.read)",
        );
    }
    if let Err((error, description)) = check_prompt(params) {
        return fail(error, &description);
    }
    AuthorizeDecision::Proceed(AuthorizeRequest {
        client_id: client_id.to_owned(),
        app_name: app.name.clone(),
        redirect_uri,
        redirect_uri_sent: params
            .redirect_uri
            .as_deref()
            .is_some_and(|r| !r.is_empty()),
        scopes,
        state,
        code_challenge,
        nonce: params.nonce.clone(),
    })
}

/// The permissions of a SMART resource scope (`read` of `patient/*.read`, `rs` of
/// `user/Observation.rs?category=…`), or `None` for other scopes (`openid`, `launch/patient`).
fn resource_permissions(scope: &str) -> Option<&str> {
    let (context, rest) = scope.split_once('/')?;
    if !matches!(context, "patient" | "user" | "system") {
        return None;
    }
    let rest = rest.split('?').next().unwrap_or(rest);
    rest.rsplit_once('.').map(|(_, permissions)| permissions)
}

/// `prompt` and `max_age` (OpenID Connect Core §3.1.2.1, docs/oauth.md#prompt-and-max_age). The
/// sandbox keeps no sign-in session: every authorization shows the sign-in and consent pages, so
/// `login`, `consent`, `select_account` and any `max_age` are already honoured, and `none` can
/// never be, which §3.1.2.6 answers with `login_required`.
fn check_prompt(params: &AuthorizeParams) -> Result<(), (ErrorCode, String)> {
    if let Some(max_age) = params.max_age.as_deref() {
        if max_age.trim().parse::<u64>().is_err() {
            return Err((
                ErrorCode::InvalidRequest,
                format!("max_age must be a number of seconds, not {max_age:?}"),
            ));
        }
    }
    let values: Vec<&str> = params
        .prompt
        .as_deref()
        .unwrap_or("")
        .split_ascii_whitespace()
        .collect();
    if let Some(unknown) = values
        .iter()
        .find(|v| !matches!(**v, "none" | "login" | "consent" | "select_account"))
    {
        return Err((
            ErrorCode::InvalidRequest,
            format!("prompt value {unknown:?} is not one of none, login, consent, select_account"),
        ));
    }
    if values.contains(&"none") {
        if values.len() > 1 {
            return Err((
                ErrorCode::InvalidRequest,
                "prompt=none cannot be combined with other prompt values".to_owned(),
            ));
        }
        return Err((
            ErrorCode::LoginRequired,
            "prompt=none, but no member is signed in: payer-sandbox keeps no sign-in session, so \
             the member must sign in (send the request without prompt=none)"
                .to_owned(),
        ));
    }
    Ok(())
}

/// `redirect_uri` with the response parameters appended to its query (RFC 6749 §4.1.2).
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in params {
                    query.append_pair(k, v);
                }
            }
            url.to_string()
        }
        // decide() only proceeds with parseable URIs; keep the registered string untouched otherwise.
        Err(_) => redirect_uri.to_owned(),
    }
}

/// The error redirect of RFC 6749 §4.1.2.1.
pub fn error_redirect(
    redirect_uri: &str,
    error: ErrorCode,
    description: &str,
    state: Option<&str>,
) -> String {
    let mut params = vec![
        ("error", error.as_str()),
        ("error_description", description),
    ];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect_with(redirect_uri, &params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::apps::builtin_apps;

    const POLICY: AuthorizePolicy<'static> = AuthorizePolicy {
        strict: false,
        fhir_base: "http://sandbox.test/r4",
        default_scope: "user/*.read",
        require_aud: false,
        require_pkce: false,
        require_launch_patient: false,
        scope_syntax: ScopeSyntax::Both,
    };

    fn params(extra: &[(&str, &str)]) -> AuthorizeParams {
        let mut query = vec![
            ("client_id", "sandbox-app"),
            ("redirect_uri", "http://localhost/cb"),
            ("state", "s 1"),
        ];
        query.extend_from_slice(extra);
        serde_urlencoded::from_str(&serde_urlencoded::to_string(query).unwrap()).unwrap()
    }

    fn error_of(d: AuthorizeDecision<AuthorizeRequest>) -> (ErrorCode, Option<String>) {
        match d {
            AuthorizeDecision::Redirect { error, state, .. } => (error, state),
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    #[test]
    fn minimal_1up_request_proceeds_with_default_scope() {
        let [app, _] = builtin_apps();
        match decide(&params(&[]), Some(&app), &POLICY) {
            AuthorizeDecision::Proceed(r) => {
                assert_eq!(r.scopes.to_string(), "user/*.read");
                assert_eq!(r.state.as_deref(), Some("s 1"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_client_or_redirect_never_redirects() {
        let [app, _] = builtin_apps();
        assert!(matches!(
            decide(&params(&[]), None, &POLICY),
            AuthorizeDecision::ErrorPage { .. }
        ));
        let mut p = params(&[]);
        p.redirect_uri = Some("https://evil.example/cb".into());
        assert!(matches!(
            decide(&p, Some(&app), &POLICY),
            AuthorizeDecision::ErrorPage { .. }
        ));
    }

    #[test]
    fn later_errors_redirect_with_state() {
        let [app, public] = builtin_apps();
        let (e, s) = error_of(decide(
            &params(&[("response_type", "token")]),
            Some(&app),
            &POLICY,
        ));
        assert_eq!(
            (e, s.as_deref()),
            (ErrorCode::UnsupportedResponseType, Some("s 1"))
        );
        let plain = params(&[
            ("code_challenge", "abc"),
            ("code_challenge_method", "plain"),
        ]);
        assert_eq!(
            error_of(decide(&plain, Some(&app), &POLICY)).0,
            ErrorCode::InvalidRequest
        );
        let mut p = params(&[]);
        p.client_id = Some("sandbox-public-app".into());
        assert_eq!(
            error_of(decide(&p, Some(&public), &POLICY)).0,
            ErrorCode::InvalidRequest
        );
        let aud = params(&[("aud", "http://other/r4")]);
        assert_eq!(
            error_of(decide(&aud, Some(&app), &POLICY)).0,
            ErrorCode::InvalidRequest
        );
        let scope = params(&[("scope", "openid nonsense")]);
        assert_eq!(
            error_of(decide(&scope, Some(&app), &POLICY)).0,
            ErrorCode::InvalidScope
        );
    }

    #[test]
    fn aud_ignores_trailing_slash_and_strict_requires_everything() {
        let [app, _] = builtin_apps();
        let ok = params(&[("aud", "http://sandbox.test/r4/")]);
        assert!(matches!(
            decide(&ok, Some(&app), &POLICY),
            AuthorizeDecision::Proceed(_)
        ));
        let strict = AuthorizePolicy {
            strict: true,
            require_aud: true,
            require_pkce: true,
            ..POLICY
        };
        assert!(matches!(
            decide(&ok, Some(&app), &strict),
            AuthorizeDecision::Redirect { .. }
        ));
    }

    #[test]
    fn error_redirect_keeps_existing_query() {
        let url = error_redirect(
            "https://a.example/cb?x=1",
            ErrorCode::AccessDenied,
            "no",
            Some("a&b"),
        );
        assert_eq!(
            url,
            "https://a.example/cb?x=1&error=access_denied&error_description=no&state=a%26b"
        );
    }
}
