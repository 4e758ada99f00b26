//! A plan's behaviour profile (docs/plans.md#behaviour-profiles): the ways real payers' Patient
//! Access APIs differ that break apps, each a knob with today's default plan behaviour as its
//! default. The OAuth and FHIR cores read these as plain values; nothing here knows HTTP.

use serde::{Deserialize, Serialize};

/// Every knob; `Profile::default()` is the default plan's behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Profile {
    /// How confidential apps authenticate at the token endpoint.
    pub client_auth: ClientAuth,
    /// What the token endpoint reads its request from.
    pub token_request_body: TokenBody,
    /// Whether, and how, refresh tokens are issued.
    pub refresh_tokens: RefreshPolicy,
    /// Access token lifetime in seconds [default: `--access-token-ttl`].
    pub access_token_lifetime: Option<u64>,
    /// Days after the member's sign-in after which refresh fails and the member must authorize
    /// again [default: none; a refresh token's own lifetime still applies].
    pub max_authorization_days: Option<u32>,
    /// `aud` required on every authorization request (else optional, as `--strict` decides).
    pub require_aud: bool,
    /// PKCE (S256) required from every app, confidential ones too.
    pub require_pkce: bool,
    /// The `launch/patient` scope required on every authorization request.
    pub require_launch_patient: bool,
    /// Where the app learns the member's Patient id.
    pub patient_in: PatientIn,
    /// Search page size when the request names no `_count`.
    pub page_size: u32,
    /// The largest page: a larger `_count` is lowered to it.
    pub max_page_size: u32,
    /// Whether searchset Bundles carry `total`.
    pub total: bool,
    /// The `_include` values the FHIR API follows (`Type:param`, or `Type:*`); absent: all.
    /// Others are ignored and reported in the Bundle's OperationOutcome (the FHIR core's
    /// `SearchRules` applies them).
    pub includes: Option<Vec<String>>,
    /// The `_revinclude` values it follows, likewise.
    pub revincludes: Option<Vec<String>>,
    /// Whether claims (`ExplanationOfBenefit.insurance.coverage`) reference the Coverage; when
    /// false they carry the coverage's identifier only, as some payers' do.
    pub eob_coverage_links: bool,
    /// At most this many FHIR requests per second per access token; more get 429 with
    /// `Retry-After` [default: no limit].
    pub rate_limit: Option<u32>,
    /// The SMART scope syntax the authorize endpoint accepts.
    pub scopes: ScopeSyntax,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            client_auth: ClientAuth::Both,
            token_request_body: TokenBody::Form,
            refresh_tokens: RefreshPolicy::AsRegistered,
            access_token_lifetime: None,
            max_authorization_days: None,
            require_aud: false,
            require_pkce: false,
            require_launch_patient: false,
            patient_in: PatientIn::TokenResponse,
            page_size: 50,
            max_page_size: 200,
            total: true,
            includes: None,
            revincludes: None,
            eob_coverage_links: true,
            rate_limit: None,
            scopes: ScopeSyntax::Both,
        }
    }
}

impl Profile {
    /// A profile's values that cannot work together, as a sentence for the plans file's error.
    pub fn check(&self) -> Result<(), String> {
        if self.page_size == 0 || self.max_page_size == 0 {
            return Err("page-size and max-page-size must be at least 1".to_owned());
        }
        if self.page_size > self.max_page_size {
            return Err(format!(
                "page-size ({}) is larger than max-page-size ({})",
                self.page_size, self.max_page_size
            ));
        }
        if self.max_page_size > 1000 {
            return Err("max-page-size is at most 1000".to_owned());
        }
        if self
            .access_token_lifetime
            .is_some_and(|s| s == 0 || s > 86_400)
        {
            return Err("access-token-lifetime must be 1 to 86400 seconds".to_owned());
        }
        if self.max_authorization_days == Some(0) {
            return Err("max-authorization-days must be at least 1".to_owned());
        }
        if self.rate_limit == Some(0) {
            return Err("rate-limit must be at least 1 request per second".to_owned());
        }
        for spec in self.includes.iter().chain(&self.revincludes).flatten() {
            if spec.split(':').count() != 2 || spec.split(':').any(str::is_empty) {
                return Err(format!(
                    "{spec:?}: an include is written Type:param (or Type:*)"
                ));
            }
        }
        Ok(())
    }
}

/// RFC 7591 client authentication methods a confidential app may use with a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientAuth {
    /// `client_secret_post` or `client_secret_basic`.
    Both,
    /// `client_secret_basic` only.
    Basic,
    /// `client_secret_post` only (1upHealth's documented shape).
    Body,
}

impl ClientAuth {
    /// Whether an app authenticating with `method` (RFC 7591 name) is accepted. Public apps
    /// (`none`) and `private_key_jwt` are not secrets, and are always accepted.
    pub fn accepts(self, method: &str) -> bool {
        !matches!(
            (self, method),
            (Self::Basic, "client_secret_post") | (Self::Body, "client_secret_basic")
        )
    }

    /// `token_endpoint_auth_methods_supported`.
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Self::Both => &[
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "none",
            ],
            Self::Basic => &["client_secret_basic", "private_key_jwt", "none"],
            Self::Body => &["client_secret_post", "private_key_jwt", "none"],
        }
    }
}

/// The token request's media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenBody {
    /// `application/x-www-form-urlencoded`, as RFC 6749 §4.1.3 requires.
    Form,
    /// `application/json` only.
    Json,
    /// Either.
    Both,
}

impl TokenBody {
    pub fn form(self) -> bool {
        matches!(self, Self::Form | Self::Both)
    }

    pub fn json(self) -> bool {
        matches!(self, Self::Json | Self::Both)
    }
}

/// How refresh tokens behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefreshPolicy {
    /// As each app registered (docs/apps.md#refresh-tokens): confidential apps keep theirs,
    /// public apps' rotate.
    AsRegistered,
    /// Never issued.
    None,
    /// Issued, and the same token keeps working until it expires.
    Reusable,
    /// A new one with every refresh; the used one stops working, and its reuse revokes the
    /// authorization (RFC 9700 §4.14.2).
    Rotating,
    /// Works once, and the refresh response carries no new one: the member authorizes again.
    SingleUse,
}

/// Where the token response tells the app whose data it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatientIn {
    /// `patient` in the token response (SMART launch context), and `fhirUser` in the id_token.
    TokenResponse,
    /// Only the id_token's `fhirUser` (so only with `openid fhirUser`).
    IdToken,
}

/// SMART scope syntax: v1 (`patient/*.read`) and v2 (`patient/*.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeSyntax {
    Both,
    V1,
    V2,
}

impl ScopeSyntax {
    /// Whether a resource scope whose permissions are written `permissions` is accepted:
    /// `read`/`write`/`*` are v1, letters from `cruds` are v2.
    pub fn accepts(self, permissions: &str) -> bool {
        let v1 = matches!(permissions, "read" | "write" | "*");
        match self {
            Self::Both => true,
            Self::V1 => v1,
            Self::V2 => !v1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Both => "both",
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_refuse_what_cannot_work() {
        let bad = Profile {
            page_size: 100,
            max_page_size: 10,
            ..Profile::default()
        };
        assert!(bad.check().unwrap_err().contains("larger"));
        let bad = Profile {
            includes: Some(vec!["Patient".into()]),
            ..Profile::default()
        };
        assert!(bad.check().is_err());
        assert!(Profile::default().check().is_ok());
    }

    #[test]
    fn scope_syntax() {
        assert!(ScopeSyntax::V1.accepts("read") && !ScopeSyntax::V1.accepts("rs"));
        assert!(ScopeSyntax::V2.accepts("rs") && !ScopeSyntax::V2.accepts("read"));
    }
}
