//! `AppState`: what every handler can reach, built once by `startup`. Member data is reachable
//! only through `member_data()`, whose one operation opens a member's compartment
//! (docs/access.md#scope-enforcement).

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::clock::Clock;
use crate::data::Members;
use crate::fhir::MemberData;
use crate::http::csrf::CsrfTokens;
use crate::oauth::OAuthServer;
use crate::sandbox::Tools;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// The public base URL without a trailing slash.
    pub public_url: String,
    /// The FHIR base URL (`{public_url}/r4`).
    fhir_base: String,
    pub clock: Arc<Clock>,
    member_data: MemberData,
    pub members: Arc<Members>,
    pub oauth: OAuthServer,
    pub control_api: bool,
    pub csrf: CsrfTokens,
    /// The CapabilityStatement's bytes, rendered on first request.
    pub capability: OnceLock<Bytes>,
    /// Faults and the request log (docs/sandbox-tools.md).
    pub tools: Tools,
}

/// What `AppState::new` is built from.
pub struct Parts {
    pub public_url: String,
    pub fhir_base: String,
    pub clock: Arc<Clock>,
    pub member_data: MemberData,
    pub members: Arc<Members>,
    pub oauth: OAuthServer,
    pub control_api: bool,
    pub tools: Tools,
}

impl AppState {
    pub fn new(parts: Parts) -> Self {
        Self(Arc::new(Inner {
            public_url: parts.public_url,
            fhir_base: parts.fhir_base,
            clock: parts.clock,
            member_data: parts.member_data,
            members: parts.members,
            oauth: parts.oauth,
            control_api: parts.control_api,
            csrf: CsrfTokens::default(),
            capability: OnceLock::new(),
            tools: parts.tools,
        }))
    }

    pub fn fhir_base(&self) -> &str {
        &self.fhir_base
    }

    /// The member data, as compartments only.
    pub fn member_data(&self) -> &MemberData {
        &self.member_data
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
