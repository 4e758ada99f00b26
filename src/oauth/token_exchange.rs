//! The token endpoint's grants (RFC 6749 §4.1.3 and §6, docs/oauth.md#token-endpoint): client authentication by
//! body secret (1upHealth's shape) or HTTP Basic, the authorization-code exchange with PKCE
//! (RFC 7636 §4.6) and redirect binding, and refresh with rotation for public apps.

use crate::clock::UnixTime;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::apps::App;
use super::client_assertion;
use super::error::{ErrorCode, OAuthError, invalid_client, invalid_grant, invalid_request};
use super::grant_book::GrantBook;
use super::pkce;
use super::scopes::GrantedScopes;
use super::secret::{ExposeOption, Secret};
use super::server::OAuthServer;
use super::token_store::{AccessGrant, Redeem, RefreshGrant, RefreshRedeem, family_of};
use crate::ids::ClientId;
use crate::plans::profile::{PatientIn, RefreshPolicy};

/// The token request form. Unknown fields are ignored, as RFC 6749 §3.2 requires.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<Secret>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<Secret>,
    pub refresh_token: Option<Secret>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// RFC 7523 §2.2: `private_key_jwt`.
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<Secret>,
}

/// How the client presented itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: ClientId,
    pub secret: Option<Secret>,
    pub basic: bool,
    /// A `private_key_jwt` client assertion, not yet verified.
    pub assertion: Option<Secret>,
}

impl ClientCredentials {
    /// The method, as RFC 7591 §2 names it (`token_endpoint_auth_method`).
    pub fn method(&self) -> &'static str {
        match (self.basic, &self.secret, &self.assertion) {
            (_, _, Some(_)) => "private_key_jwt",
            (true, _, None) => "client_secret_basic",
            (false, Some(_), None) => "client_secret_post",
            (false, None, None) => "none",
        }
    }
}

/// What a `private_key_jwt` assertion is checked with: the keys fetched from the app's
/// `jwks_uri` (the HTTP layer fetches them; `None` for keys registered by value), the token
/// endpoint's URL, and real time (docs/apps.md#asymmetric-client-authentication).
#[derive(Debug, Clone)]
pub struct AssertionCheck {
    pub fetched_jwks: Option<serde_json::Value>,
    pub audience: String,
    pub now: UnixTime,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: Secret,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    /// The member's Patient id; absent on plans that give it only in the id_token
    /// (docs/plans.md#behaviour-profiles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    /// Absent when the app gets refresh tokens only with `offline_access` and did not ask
    /// (docs/apps.md#refresh-tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
}

/// Splits an `Authorization` value into its scheme and the credentials after it, at the first
/// whitespace. The scheme is returned as sent: compare it with `eq_ignore_ascii_case`, because
/// schemes are case-insensitive (RFC 9110 §11.1) and clients do send `BASIC` or `bearer`.
pub fn auth_scheme(header: &str) -> Option<(&str, &str)> {
    let (scheme, credentials) = header.split_once(|c: char| c.is_ascii_whitespace())?;
    Some((scheme, credentials.trim()))
}

/// Parses `Authorization: Basic` (RFC 6749 §2.3.1: the id and secret are form-urlencoded first).
/// The scheme may be in any case.
pub fn parse_basic(header: &str) -> Result<(String, String), OAuthError> {
    let bad = || OAuthError {
        basic_auth: true,
        ..invalid_client("malformed HTTP Basic credentials")
    };
    let encoded = auth_scheme(header)
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, credentials)| credentials)
        .ok_or_else(bad)?;
    let decoded = STANDARD.decode(encoded).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> Result<String, OAuthError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={s}")).map_err(|_| bad())?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    };
    Ok((unescape(id)?, unescape(secret)?))
}

/// Combines Basic, body and assertion credentials; more than one method is refused.
pub fn client_credentials(
    form: &TokenRequest,
    basic: Option<(String, Secret)>,
) -> Result<ClientCredentials, OAuthError> {
    let assertion = form.client_assertion.as_ref().filter(|a| !a.is_empty());
    if assertion.is_some() || form.client_assertion_type.is_some() {
        return assertion_credentials(form, assertion, basic.is_some());
    }
    match basic {
        Some((id, secret)) => {
            if form.client_secret.as_ref().is_some_and(|s| !s.is_empty()) {
                return Err(invalid_request(
                    "the client authenticated twice, with HTTP Basic and with client_secret in the \
                     body: RFC 6749 §2.3 allows one authentication method per request",
                ));
            }
            if form.client_id.as_deref().is_some_and(|body| body != id) {
                return Err(invalid_request(
                    "client_id in the body differs from HTTP Basic",
                ));
            }
            Ok(ClientCredentials {
                client_id: id.into(),
                secret: Some(secret),
                basic: true,
                assertion: None,
            })
        }
        None => {
            let client_id = form
                .client_id
                .clone()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| invalid_client("client authentication is required: client_id and client_secret in the body, or HTTP Basic"))?;
            Ok(ClientCredentials {
                client_id: client_id.into(),
                secret: form.client_secret.clone(),
                basic: false,
                assertion: None,
            })
        }
    }
}

/// `client_assertion_type` + `client_assertion` (RFC 7523 §2.2), alone: the client is the
/// assertion's `iss` (verified later against that app's keys).
fn assertion_credentials(
    form: &TokenRequest,
    assertion: Option<&Secret>,
    basic: bool,
) -> Result<ClientCredentials, OAuthError> {
    let secret = form.client_secret.as_ref().is_some_and(|s| !s.is_empty());
    if basic || secret {
        return Err(invalid_request(
            "the client authenticated twice, with a client_assertion and with a client secret: \
             RFC 6749 §2.3 allows one authentication method per request",
        ));
    }
    if form.client_assertion_type.as_deref() != Some(client_assertion::ASSERTION_TYPE) {
        return Err(invalid_client(format!(
            "client_assertion_type must be {}",
            client_assertion::ASSERTION_TYPE
        )));
    }
    let assertion = assertion.ok_or_else(|| invalid_client("client_assertion is empty"))?;
    let issuer =
        client_assertion::claimed_client(assertion.expose()).map_err(|e| invalid_client(&e))?;
    if form
        .client_id
        .as_deref()
        .is_some_and(|c| !c.is_empty() && c != issuer)
    {
        return Err(invalid_client(
            "client_id differs from the client_assertion's iss",
        ));
    }
    Ok(ClientCredentials {
        client_id: issuer.into(),
        secret: None,
        basic: false,
        assertion: Some(assertion.clone()),
    })
}

/// The caller of the token endpoint. A public app refreshing may leave out `client_id`: its
/// refresh token names the client (RFC 6749 §6 requires authentication of confidential clients
/// only, SMART App Launch lists no `client_id` for a public app's refresh, and SMART client-js
/// sends none). Everything else goes through `client_credentials`.
pub fn token_client(
    server: &OAuthServer,
    book: &mut dyn GrantBook,
    request: &TokenRequest,
    basic: Option<(String, Secret)>,
    now: UnixTime,
) -> Result<ClientCredentials, OAuthError> {
    let anonymous = basic.is_none() && request.client_id.as_deref().is_none_or(str::is_empty);
    if anonymous && request.grant_type.as_deref() == Some("refresh_token") {
        let public_owner = match request
            .refresh_token
            .exposed()
            .map(|token| book.redeem_refresh(token, now))
        {
            Some(RefreshRedeem::Ok(grant)) => Some(*grant),
            Some(RefreshRedeem::Reused) => return Err(refresh_reused()),
            _ => None,
        }
        .filter(|grant| {
            server
                .apps
                .get(&grant.client_id)
                .is_some_and(|app| app.public)
        });
        if let Some(grant) = public_owner {
            return Ok(ClientCredentials {
                client_id: grant.client_id,
                secret: None,
                basic: false,
                assertion: None,
            });
        }
    }
    client_credentials(request, basic)
}

/// A rotated refresh token presented again (RFC 9700 §4.14.2).
fn refresh_reused() -> OAuthError {
    invalid_grant(
        "the refresh token was already used and replaced, as a stolen copy would be: every token \
         issued from the same authorization is now revoked (RFC 9700 §4.14.2)",
    )
}

/// RFC 6749 §3.2.1: confidential apps prove their secret or sign an assertion with their key;
/// public apps identify themselves.
pub fn authenticate(
    server: &OAuthServer,
    creds: &ClientCredentials,
    check: &AssertionCheck,
) -> Result<App, OAuthError> {
    let fail = |description: &str| OAuthError {
        basic_auth: creds.basic,
        ..invalid_client(description)
    };
    let app = server
        .apps
        .get(&creds.client_id)
        .ok_or_else(|| fail("unknown client"))?;
    match (&creds.assertion, app.is_asymmetric()) {
        (Some(assertion), true) => {
            let jwks = check
                .fetched_jwks
                .as_ref()
                .or(app.jwks.as_ref())
                .ok_or_else(|| fail("the app's jwks_uri could not be read"))?;
            let expected = client_assertion::Expected {
                client_id: &app.client_id,
                audience: &check.audience,
                now: check.now,
            };
            client_assertion::verify(assertion.expose(), jwks, &expected, &server.assertions)
                .map_err(|e| fail(&e))?;
            return Ok(app);
        }
        (Some(_), false) => {
            return Err(fail(
                "this app registered no public keys: it cannot use private_key_jwt",
            ));
        }
        (None, true) => {
            return Err(fail(
                "this app authenticates with private_key_jwt: send client_assertion_type and client_assertion",
            ));
        }
        (None, false) => {}
    }
    if app.public {
        return Ok(app);
    }
    match creds.secret.exposed() {
        Some(secret) if app.secret_matches(secret) => Ok(app),
        Some(_) => Err(fail("client authentication failed")),
        None => Err(fail("client_secret is required for a confidential app")),
    }
}

pub fn exchange(
    server: &OAuthServer,
    book: &mut dyn GrantBook,
    request: &TokenRequest,
    creds: &ClientCredentials,
    check: &AssertionCheck,
    now: UnixTime,
) -> Result<TokenResponse, OAuthError> {
    match request.grant_type.as_deref() {
        None | Some("") => Err(invalid_request("grant_type is required")),
        Some("authorization_code") => {
            let app = authenticate(server, creds, check)?;
            authorization_code(server, book, request, &app, now)
        }
        Some("refresh_token") => {
            let app = authenticate(server, creds, check)?;
            refresh(server, book, request, &app, now)
        }
        Some(other) => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!(
                "grant_type {other:?} is not supported: use authorization_code or refresh_token"
            ),
        )),
    }
}

fn authorization_code(
    server: &OAuthServer,
    book: &mut dyn GrantBook,
    request: &TokenRequest,
    app: &App,
    now: UnixTime,
) -> Result<TokenResponse, OAuthError> {
    let code = request
        .code
        .exposed()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| invalid_request("code is required"))?;
    let grant = match book.redeem_code(code, now) {
        Redeem::Ok(grant) => *grant,
        Redeem::Unknown => return Err(invalid_grant("the authorization code is not valid")),
        Redeem::Expired => return Err(invalid_grant("the authorization code has expired")),
        Redeem::Replayed => {
            return Err(invalid_grant(
                "the authorization code was already used; the tokens issued from it are revoked",
            ));
        }
    };
    if grant.client_id != app.client_id {
        return Err(invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    match (&grant.redirect_uri, request.redirect_uri.as_deref()) {
        (Some(bound), Some(sent)) if bound != sent => {
            return Err(invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        (Some(_), None) if server.config.strict => {
            return Err(invalid_request(
                "redirect_uri is required: the authorization request carried one",
            ));
        }
        _ => {}
    }
    match (&grant.code_challenge, request.code_verifier.exposed()) {
        (Some(challenge), Some(verifier)) => {
            if !pkce::verify(verifier, challenge) {
                return Err(invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => return Err(invalid_grant("code_verifier is required")),
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier sent, but the authorization request had no code_challenge",
            ));
        }
        (None, None) => {}
    }
    let refresh = RefreshGrant {
        plan: grant.plan.clone(),
        client_id: grant.client_id.clone(),
        patient_id: grant.patient_id.clone(),
        member_id: grant.member_id.clone(),
        representative: grant.representative.clone(),
        auth_time: grant.auth_time,
        scopes: grant.scopes.clone(),
        nonce: grant.nonce.clone(),
        issued_at: now,
        expires_at: now.plus(server.config.refresh_token_ttl),
        family: family_of(code),
    };
    let issues_refresh = match server.config.profile.refresh_tokens {
        RefreshPolicy::AsRegistered => {
            app.issues_refresh_token(&grant.scopes, server.config.strict)
        }
        RefreshPolicy::None => false,
        RefreshPolicy::Reusable | RefreshPolicy::Rotating | RefreshPolicy::SingleUse => true,
    };
    let refresh_token = issues_refresh.then(|| book.issue_refresh(refresh.clone()));
    respond(
        server,
        book,
        &refresh,
        grant.scopes,
        refresh_token,
        grant.nonce.as_deref(),
        now,
    )
}

fn refresh(
    server: &OAuthServer,
    book: &mut dyn GrantBook,
    request: &TokenRequest,
    app: &App,
    now: UnixTime,
) -> Result<TokenResponse, OAuthError> {
    let token = request
        .refresh_token
        .exposed()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid_request("refresh_token is required"))?;
    let grant = match book.redeem_refresh(token, now) {
        RefreshRedeem::Ok(grant) if grant.client_id == app.client_id => *grant,
        RefreshRedeem::Reused => return Err(refresh_reused()),
        _ => return Err(invalid_grant("the refresh token is not valid")),
    };
    let scopes = match request.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(requested) => grant
            .scopes
            .narrow(requested)
            .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e))?,
        None => grant.scopes.clone(),
    };
    if let Some(days) = server.config.profile.max_authorization_days {
        if now.since(grant.auth_time) >= i64::from(days) * 86_400 {
            book.revoke_family(&grant.family);
            return Err(invalid_grant(format!(
                "the authorization ended {days} days after the member signed in, as this plan \
                 allows no longer: the member must authorize the app again"
            )));
        }
    }
    let refresh_token = match server.config.profile.refresh_tokens {
        RefreshPolicy::AsRegistered if app.public => Some(rotate(server, book, token, &grant, now)),
        RefreshPolicy::AsRegistered | RefreshPolicy::Reusable => Some(token.to_owned()),
        RefreshPolicy::Rotating => Some(rotate(server, book, token, &grant, now)),
        RefreshPolicy::SingleUse | RefreshPolicy::None => {
            book.consume_refresh(token);
            None
        }
    };
    respond(server, book, &grant, scopes, refresh_token, None, now)
}

/// Replaces a refresh token with a new one of the same authorization.
fn rotate(
    server: &OAuthServer,
    book: &mut dyn GrantBook,
    token: &str,
    grant: &RefreshGrant,
    now: UnixTime,
) -> String {
    book.rotate_refresh(token);
    book.issue_refresh(RefreshGrant {
        issued_at: now,
        expires_at: now.plus(server.config.refresh_token_ttl),
        ..grant.clone()
    })
}

fn respond(
    server: &OAuthServer,
    book: &mut dyn GrantBook,
    grant: &RefreshGrant,
    scopes: GrantedScopes,
    refresh_token: Option<String>,
    nonce: Option<&str>,
    now: UnixTime,
) -> Result<TokenResponse, OAuthError> {
    let id_token = if scopes.contains("openid") {
        let claims =
            server.id_token_claims(&grant.client_id, &grant.user(), grant.auth_time, nonce, now);
        Some(server.keys.sign(&claims).map_err(|e| {
            tracing::error!("signing an id_token failed: {e}");
            OAuthError::new(ErrorCode::ServerError, "the id_token could not be signed")
        })?)
    } else {
        None
    };
    let access_token = book.issue_access(AccessGrant {
        plan: grant.plan.clone(),
        client_id: grant.client_id.clone(),
        patient_id: grant.patient_id.clone(),
        member_id: grant.member_id.clone(),
        representative: grant.representative.clone(),
        scopes: scopes.clone(),
        issued_at: now,
        expires_at: now.plus(server.config.access_token_ttl),
        family: grant.family.clone(),
    });
    Ok(TokenResponse {
        access_token: access_token.into(),
        token_type: "Bearer",
        expires_in: server.config.access_token_ttl,
        scope: scopes.to_string(),
        patient: (server.config.profile.patient_in == PatientIn::TokenResponse)
            .then(|| grant.patient_id.to_string()),
        refresh_token: refresh_token.map(Secret::from),
        id_token: id_token.map(Secret::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret"));
        assert_eq!(
            parse_basic(&header).unwrap(),
            ("my app".into(), "s:cret".into())
        );
        assert!(parse_basic("Basic !!!").unwrap_err().basic_auth);
        assert!(parse_basic("Bearer x").is_err());
    }

    #[test]
    fn the_basic_scheme_is_case_insensitive() {
        let credentials = STANDARD.encode("sandbox-app:sandbox-secret");
        let expected = ("sandbox-app".to_owned(), "sandbox-secret".to_owned());
        for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
            let header = format!("{scheme} {credentials}");
            assert_eq!(parse_basic(&header).unwrap(), expected, "{header}");
            let (scheme, _) = auth_scheme(&header).unwrap();
            assert!(scheme.eq_ignore_ascii_case("basic"), "{header}");
        }
        assert_eq!(
            parse_basic(&format!("BASIC\t {credentials} ")).unwrap(),
            expected,
            "any whitespace separates the scheme"
        );
        for not_basic in [
            format!("Basics {credentials}"),
            format!("Bearer {credentials}"),
            format!("Basic{credentials}"),
            "BASIC".to_owned(),
            String::new(),
        ] {
            assert!(parse_basic(&not_basic).is_err(), "{not_basic}");
        }
    }

    #[test]
    fn conflicting_client_ids_are_refused() {
        let form = TokenRequest {
            client_id: Some("a".into()),
            ..Default::default()
        };
        assert!(client_credentials(&form, Some(("b".into(), "s".into()))).is_err());
        assert!(
            client_credentials(&form, Some(("a".into(), "s".into())))
                .unwrap()
                .basic
        );
        assert!(client_credentials(&TokenRequest::default(), None).is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn basic_credentials_round_trip(id in "[ -~]{1,30}", secret in "[ -~]{0,30}") {
            let encode = |s: &str| serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_owned();
            let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(&id), encode(&secret))));
            prop_assert_eq!(parse_basic(&header).unwrap(), (id, secret));
        }

        #[test]
        fn any_header_or_form_is_handled(header in "\\PC{0,80}", body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_basic(&header);
            let _ = serde_urlencoded::from_bytes::<TokenRequest>(&body);
            let _ = serde_urlencoded::from_bytes::<crate::oauth::authorize::AuthorizeParams>(&body);
        }
    }
}
