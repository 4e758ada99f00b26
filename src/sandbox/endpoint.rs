//! Which endpoint answered a request, as the router declares it (each route is tagged once where
//! it is registered): what injected faults are aimed at, what the request log and the report
//! count, and which error format a fault answers in (docs/sandbox-tools.md#faults). Nothing here
//! reads a path.

use serde::{Deserialize, Serialize};

use super::interaction::Interaction;

/// Serialized only where hosted mode stores the request log (docs/hosted.md#the-request-log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Endpoint {
    /// `/oauth2/authorize` and `/oauth2/authorize/{system}`.
    Authorize,
    /// The member sign-in pages after the authorize redirect, and which one.
    SignIn(SignInPage),
    Token,
    Register,
    Introspect,
    Revoke,
    Userinfo,
    /// The OpenID and SMART discovery documents at the server root.
    Discovery,
    /// `/.well-known/jwks.json`.
    Jwks,
    /// Anything under the FHIR base, with the RESTful interaction it was (the FHIR base's
    /// SMART discovery document is `Interaction::Discovery`).
    Fhir(Interaction),
    /// The landing page and the developer portal.
    Page,
    /// No route: the 404 fallback.
    Unrouted,
}

/// One of the member sign-in pages of an attempt (docs/oauth.md#member-verification), so that
/// the timeline can tell the consent page from the others without reading the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInPage {
    /// `/oauth2/login/{attempt}`: create an account or sign in.
    Start,
    CreateAccount,
    /// A parent or guardian creates an account to act for a minor member.
    CreateRepresentative,
    /// Sign in with an email address.
    SignIn,
    /// Enter the emailed verification code.
    Verify,
    /// Allow or deny the app.
    Consent,
}

/// The error format an endpoint answers in, and so the one an injected fault takes there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFormat {
    /// An OperationOutcome (docs/fhir-api.md#errors).
    OperationOutcome,
    /// RFC 6749 §5.2 JSON.
    OAuthJson,
    /// A redirect to the app carrying `error` (RFC 6749 §4.1.2.1), or the error page when the
    /// redirect URI cannot be trusted.
    AuthorizeRedirect,
    /// An HTML error page.
    Page,
}

impl Endpoint {
    pub fn error_format(&self) -> ErrorFormat {
        match self {
            Self::Fhir(Interaction::Discovery) => ErrorFormat::OAuthJson,
            Self::Fhir(_) => ErrorFormat::OperationOutcome,
            Self::Authorize => ErrorFormat::AuthorizeRedirect,
            Self::SignIn(_) | Self::Page => ErrorFormat::Page,
            Self::Token
            | Self::Register
            | Self::Introspect
            | Self::Revoke
            | Self::Userinfo
            | Self::Discovery
            | Self::Jwks
            | Self::Unrouted => ErrorFormat::OAuthJson,
        }
    }

    /// A discovery document: the SMART or OpenID configuration, at the root or the FHIR base.
    pub fn is_discovery(&self) -> bool {
        matches!(self, Self::Discovery | Self::Fhir(Interaction::Discovery))
    }

    /// Needs no credentials, so an anonymous request counts for every client in the report.
    pub fn is_public_document(&self) -> bool {
        self.is_discovery() || matches!(self, Self::Jwks | Self::Fhir(Interaction::Capabilities))
    }

    /// Takes a bearer token: its 401s are the ones a client must answer by re-authorizing.
    pub fn takes_bearer(&self) -> bool {
        matches!(self, Self::Userinfo | Self::Fhir(_))
    }

    pub fn fhir_interaction(&self) -> Option<&Interaction> {
        match self {
            Self::Fhir(i) => Some(i),
            _ => None,
        }
    }
}
