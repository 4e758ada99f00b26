//! `AppState`: what every handler can reach, built once by `startup`: one per plan of the
//! network (docs/plans.md), each with its own data, members, authorization server and URLs, all
//! sharing the clock, the sandbox tools, the app registry and the store of codes and tokens.
//! Member data is reachable only through `member_data()`, whose one operation opens a member's
//! compartment (docs/access.md#scope-enforcement).

use std::sync::{Arc, OnceLock, Weak};

use bytes::Bytes;

use crate::clock::Clock;
use crate::data::Members;
use crate::db::Database;
use crate::db::data_changes::PlanData;
use crate::db::keys::PlanKeys;
use crate::developers::Developers;
use crate::fhir::apis::Api;
use crate::fhir::search::SearchRules;
use crate::fhir::{MemberData, PublicData};
use crate::http::csrf::CsrfTokens;
use crate::ids::PlanId;
use crate::oauth::OAuthServer;
use crate::plans::Plan;
use crate::sandbox::Tools;
use crate::sandbox::rate_limit::RateLimits;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// The plan this state serves.
    pub plan: Arc<Plan>,
    /// The public base URL without a trailing slash.
    pub public_url: String,
    /// The plan's base: the public URL for the default plan, `{public_url}/plans/{id}` for the
    /// others. Its issuer, and the root of its discovery documents.
    issuer: String,
    /// The plan's FHIR base URL (`{issuer}/r4`).
    fhir_base: String,
    pub clock: Arc<Clock>,
    member_data: MemberData,
    pub members: Arc<Members>,
    pub oauth: OAuthServer,
    pub control_api: bool,
    /// The forms' anti-CSRF tokens: one key for every plan (and in hosted mode every replica,
    /// docs/hosted.md#form-tokens).
    pub csrf: Arc<CsrfTokens>,
    /// The CapabilityStatement's bytes, rendered on first request.
    pub capability: OnceLock<Bytes>,
    /// Faults and the request log (docs/sandbox-tools.md): shared by every plan.
    pub tools: Arc<Tools>,
    /// The provider directory and the formulary (docs/directory.md).
    public: PublicApis,
    /// Requests per token in the current second, for a plan with a rate limit.
    pub rate_limits: RateLimits,
    /// The plan's search behaviour, from its profile.
    search_rules: SearchRules,
    network: Arc<Network>,
    /// Hosted mode's database (docs/hosted.md), shared by every plan and replica.
    pub database: Option<Database>,
    /// Developer accounts, when on (docs/developer-accounts.md): shared by every plan.
    pub developers: Option<Arc<Developers>>,
}

/// Every plan's state, the default first: how a shared endpoint (the token endpoint, the
/// control API) reaches the plan a request concerns. Weak, because every state holds the
/// network: the router holds the states.
#[derive(Default)]
pub struct Network {
    states: OnceLock<Vec<Weak<Inner>>>,
}

impl Network {
    /// Called once by `startup`, after every plan's state is built.
    pub fn set(&self, states: &[AppState]) {
        let _ = self
            .states
            .set(states.iter().map(|s| Arc::downgrade(&s.0)).collect());
    }
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
    pub plan: Arc<Plan>,
    pub public_url: String,
    pub clock: Arc<Clock>,
    pub member_data: MemberData,
    pub members: Arc<Members>,
    pub oauth: OAuthServer,
    pub control_api: bool,
    pub csrf: Arc<CsrfTokens>,
    pub tools: Arc<Tools>,
    pub public: PublicApis,
    pub network: Arc<Network>,
    pub database: Option<Database>,
    pub developers: Option<Arc<Developers>>,
}

impl AppState {
    pub fn new(parts: Parts) -> Self {
        let issuer = format!("{}{}", parts.public_url, parts.plan.prefix());
        let profile = &parts.plan.profile;
        let search_rules = SearchRules {
            page_size: profile.page_size as usize,
            max_page_size: profile.max_page_size as usize,
            total: profile.total,
            includes: profile.includes.clone(),
            revincludes: profile.revincludes.clone(),
        };
        Self(Arc::new(Inner {
            fhir_base: format!("{issuer}{}", crate::http::routes::FHIR_BASE),
            issuer,
            plan: parts.plan,
            public_url: parts.public_url,
            clock: parts.clock,
            member_data: parts.member_data,
            members: parts.members,
            oauth: parts.oauth,
            control_api: parts.control_api,
            csrf: parts.csrf,
            capability: OnceLock::new(),
            tools: parts.tools,
            public: parts.public,
            rate_limits: RateLimits::default(),
            search_rules,
            network: parts.network,
            database: parts.database,
            developers: parts.developers,
        }))
    }

    pub fn fhir_base(&self) -> &str {
        &self.fhir_base
    }

    /// How the plan's Patient Access API searches (docs/plans.md#behaviour-profiles).
    pub fn search_rules(&self) -> &SearchRules {
        &self.search_rules
    }

    /// The plan's issuer and the root of its URLs (docs/plans.md#urls).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// An absolute URL of the plan: `path` below its issuer.
    pub fn plan_url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The plan's authorization endpoint: `/oauth2/authorize` for the default plan (as before
    /// there were plans), `/oauth2/authorize/{id}` for the others (1upHealth's URL shape).
    pub fn authorize_url(&self) -> String {
        if self.plan.is_default() {
            format!("{}{}", self.public_url, crate::http::routes::AUTHORIZE)
        } else {
            format!(
                "{}{}/{}",
                self.public_url,
                crate::http::routes::AUTHORIZE,
                self.plan.id
            )
        }
    }

    /// Every plan's state, the default first.
    pub fn plans(&self) -> Vec<AppState> {
        self.network
            .states
            .get()
            .map(|states| {
                states
                    .iter()
                    .filter_map(|s| s.upgrade().map(AppState))
                    .collect()
            })
            .unwrap_or_else(|| vec![self.clone()])
    }

    /// Every plan's member data, the default first: what hosted mode's shared data changes
    /// apply to (docs/hosted.md#data-changes).
    pub fn plan_data(&self) -> Vec<PlanData> {
        self.plans()
            .iter()
            .map(|state| PlanData {
                plan: state.plan.id.clone(),
                data: state.member_data().clone(),
            })
            .collect()
    }

    /// Every plan's signing keys, the default first: what hosted mode keeps in step across
    /// replicas (docs/hosted.md#signing-keys).
    pub fn key_rings(&self) -> Vec<PlanKeys> {
        self.plans()
            .iter()
            .map(|state| PlanKeys {
                plan: state.plan.id.clone(),
                ring: state.oauth.keys.clone(),
            })
            .collect()
    }

    /// The state of the plan `name` names (its id or an alias).
    pub fn plan_state(&self, name: &str) -> Option<AppState> {
        if self.plan.is_named(name) {
            return Some(self.clone());
        }
        self.network
            .states
            .get()?
            .iter()
            .filter_map(|s| s.upgrade().map(AppState))
            .find(|s| s.plan.is_named(name))
    }

    /// The state of the plan `id`, else this one (a grant's plan is always one of the network).
    pub fn for_plan(&self, id: &PlanId) -> AppState {
        if self.plan.id == *id {
            return self.clone();
        }
        self.plan_state(id).unwrap_or_else(|| self.clone())
    }

    /// Hosted mode: stores a code this replica just issued, so that any replica can redeem it
    /// (docs/hosted.md#codes-and-tokens); false when the database did not take it. Without a
    /// database there is nothing to do.
    pub async fn share_code(&self, code: &str) -> bool {
        let (Some(database), Some(grant)) = (&self.database, self.oauth.grants.code_grant(code))
        else {
            return true;
        };
        match database.publish_code(code, &grant).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("storing an authorization code: {e}");
                false
            }
        }
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
