//! `AppState`: what every handler can reach, built once by `startup`. Member data is reachable
//! only through `member_data()`, whose one operation opens a member's compartment
//! (docs/access.md#scope-enforcement).

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::clock::Clock;
use crate::data::Members;
use crate::fhir::apis::Api;
use crate::fhir::{MemberData, PublicData};
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
    /// The provider directory and the formulary (docs/directory.md).
    public: PublicApis,
}

/// The public APIs' data, loaded once: the two stores.
pub struct PublicSet {
    pub directory: PublicData,
    pub formulary: PublicData,
}

impl PublicSet {
    pub fn get(&self, api: Api) -> Option<&PublicData> {
        match api {
            Api::Directory => Some(&self.directory),
            Api::Formulary => Some(&self.formulary),
            Api::PatientAccess => None,
        }
    }
}

/// What the public APIs wait for: the embedded directory and formulary load just after the
/// server starts listening, so that start-up stays a fixture's, and a request that arrives
/// first waits for them rather than failing.
pub type PublicReady = Option<Result<Arc<PublicSet>, String>>;

#[derive(Clone)]
pub struct PublicApis {
    ready: tokio::sync::watch::Receiver<PublicReady>,
}

impl PublicApis {
    /// Data already loaded.
    pub fn loaded(set: Arc<PublicSet>) -> Self {
        let (_, ready) = tokio::sync::watch::channel(Some(Ok(set)));
        Self { ready }
    }

    /// Data still loading: whoever loads it sends the result.
    pub fn loading() -> (Self, tokio::sync::watch::Sender<PublicReady>) {
        let (sender, ready) = tokio::sync::watch::channel(None);
        (Self { ready }, sender)
    }

    /// One API's data, once loaded; `Err` if loading failed (the server log says why).
    pub async fn get(&self, api: Api) -> Result<PublicData, String> {
        let mut ready = self.ready.clone();
        let loaded = ready
            .wait_for(Option::is_some)
            .await
            .map_err(|_| "the public data was never loaded".to_owned())?;
        match loaded.as_ref() {
            Some(Ok(set)) => set
                .get(api)
                .cloned()
                .ok_or_else(|| "not a public API".to_owned()),
            Some(Err(e)) => Err(e.clone()),
            None => Err("the public data is still loading".to_owned()),
        }
    }
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
    pub public: PublicApis,
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
            public: parts.public,
        }))
    }

    pub fn fhir_base(&self) -> &str {
        &self.fhir_base
    }

    /// The public APIs' data (no member data in it).
    pub fn public(&self) -> &PublicApis {
        &self.public
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
