//! `AppState`: what every handler can reach, built once by `startup`.

use std::sync::Arc;

use crate::clock::Clock;
use crate::data::Members;
use crate::fhir::Store;
use crate::http::csrf::CsrfTokens;
use crate::oauth::OAuthServer;
use crate::sandbox::Tools;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// The public base URL without a trailing slash.
    pub public_url: String,
    pub clock: Arc<Clock>,
    pub store: Arc<Store>,
    pub members: Members,
    pub oauth: OAuthServer,
    pub control_api: bool,
    pub csrf: CsrfTokens,
    /// The CapabilityStatement's bytes, rendered on first request.
    pub capability: std::sync::OnceLock<axum::body::Bytes>,
    /// Faults and the request log (SPEC §7).
    pub tools: Tools,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    pub fn fhir_base(&self) -> String {
        format!("{}/r4", self.public_url)
    }

    pub fn now(&self) -> i64 {
        self.clock.now_unix()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
