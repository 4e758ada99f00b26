//! Builds the whole server from `Settings`, the same way for `main` and the integration tests:
//! bind first (so port 0 works and the public URL is known), then load and check the data,
//! restore persisted state, and assemble the router. Any problem stops start-up with a message
//! naming the file and the problem: nothing is served half-loaded.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;
use url::Url;

use crate::clock::Clock;
use crate::data::{self, DataSource, Dataset, LoadError};
use crate::db::Database;
use crate::db::data_changes::PlanData;
use crate::db::keys::PlanKeys;
use crate::developers::Developers;
use crate::fhir::apis::Api;
use crate::fhir::{MemberData, PublicData};
use crate::http;
use crate::http::csrf::CsrfTokens;
use crate::ids::PlanId;
use crate::oauth::apps::{App, check_keys, check_redirect_uri};
use crate::oauth::keys::SigningKey;
use crate::oauth::persist::{PersistError, PersistedState, Persister};
use crate::oauth::secret::Secret;
use crate::oauth::server::OAuthShared;
use crate::oauth::{OAuthConfig, OAuthServer};
use crate::plans::{self, Plan};
use crate::sandbox::Tools;
use crate::settings::Settings;
use crate::state::{self, AppState};
use crate::state::{Network, PublicApis, PublicSet};

/// Why the server could not start: each names the flag or file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("--public-url {url:?}: {problem}")]
    PublicUrl { url: String, problem: String },
    #[error(transparent)]
    Data(#[from] LoadError),
    #[error("{0}")]
    Clients(String),
    #[error(transparent)]
    State(#[from] PersistError),
    #[error("the signing key: {0}")]
    SigningKey(String),
    #[error("{0}")]
    Plans(String),
    #[error(transparent)]
    Database(#[from] crate::db::DbError),
    #[error("--developer-accounts: {0}")]
    DeveloperAccounts(String),
    #[error("{0}")]
    FormTokens(String),
}

/// What `Application::build_with` may be handed instead of making it: a clock (so that a test
/// can hold one and move it), and data already loaded (so that many servers share one load).
#[derive(Default)]
pub struct Dependencies {
    pub clock: Option<Arc<Clock>>,
    pub data: Option<Dataset>,
    /// The public APIs' data, already loaded.
    pub public: Option<Arc<PublicSet>>,
    /// The other plans of the network, already loaded.
    pub plans: Option<Vec<LoadedPlan>>,
}

/// A plan besides the default, with its data loaded (cheap to clone, like `Dataset`).
#[derive(Clone)]
pub struct LoadedPlan {
    pub plan: Arc<Plan>,
    pub data: Dataset,
    pub public: Arc<PublicSet>,
}

/// The plans besides the default: those of `--plans FILE`, else the embedded network's.
pub fn network_plans(settings: &Settings) -> Result<Vec<Plan>, StartupError> {
    match &settings.plans {
        Some(path) => plans::file::load(path),
        None => plans::file::embedded(),
    }
    .map_err(StartupError::Plans)
}

/// One plan's member data (its profile may unlink claims from Coverage).
fn load_plan_data(plan: &Plan) -> Result<Dataset, LoadError> {
    match &plan.data {
        Some(source) => data::load_with(source, plan.profile.eob_coverage_links),
        None => Ok(Dataset::default()),
    }
}

/// The plans besides the default, each with its member and public data: what tests share.
pub fn load_plans(settings: &Settings) -> Result<Vec<LoadedPlan>, StartupError> {
    network_plans(settings)?
        .into_iter()
        .map(|plan| {
            let data = load_plan_data(&plan)?;
            let public = match &plan.data {
                Some(source) => load_public_data(source)?,
                None => empty_public(),
            };
            Ok(LoadedPlan {
                plan: Arc::new(plan),
                data,
                public: Arc::new(public),
            })
        })
        .collect()
}

fn empty_public() -> PublicSet {
    PublicSet {
        directory: PublicData::new(Api::Directory, Arc::default()),
        formulary: PublicData::new(Api::Formulary, Arc::default()),
    }
}

pub struct Application {
    listener: TcpListener,
    router: http::AppRouter,
    public_url: String,
    address: SocketAddr,
    pub warnings: Vec<String>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with(settings, Dependencies::default()).await
    }

    pub async fn build_with(
        settings: Settings,
        dependencies: Dependencies,
    ) -> Result<Self, StartupError> {
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartupError::Listen {
                    address: settings.listen,
                    source,
                })?;
        let address = listener
            .local_addr()
            .map_err(|source| StartupError::Listen {
                address: settings.listen,
                source,
            })?;
        let public_url = public_url(settings.public_url.as_deref(), address)?;
        // Hosted mode: the database first, so that a replica that cannot reach it never serves;
        // the sandbox clock is the one every replica shares (docs/hosted.md#the-sandbox-clock).
        let mut dependencies = dependencies;
        let clock = dependencies.clock.take().unwrap_or_default();
        dependencies.clock = Some(clock.clone());
        let database = match &settings.database {
            Some(url) => {
                let database = Database::open(url, &replica_id(address)).await?;
                database
                    .sync_clock(&clock)
                    .await
                    .map_err(|e| crate::db::DbError::Unusable {
                        url: database.shown().to_owned(),
                        problem: format!("cannot read the sandbox clock: {e}"),
                    })?;
                // The timeline counts from the first replica's start, so that every replica
                // has the same changes due (docs/hosted.md#data-changes).
                let start = database
                    .timeline_start(clock.read().sandbox)
                    .await
                    .map_err(|e| crate::db::DbError::Unusable {
                        url: database.shown().to_owned(),
                        problem: format!("cannot read the timeline's start: {e}"),
                    })?;
                Some((database, start))
            }
            None => None,
        };
        let (database, timeline_start) = database.unzip();
        let csrf = form_tokens(database.as_ref()).await?;
        let loaded_here = dependencies.data.is_none();
        let (states, warnings) = build_state(
            &settings,
            public_url.clone(),
            dependencies,
            database.clone(),
            timeline_start,
            csrf,
        )?;
        if let (Some(database), Some(state)) = (&database, states.first()) {
            // Every app registered on any replica, before this one serves; then follow.
            database.sync_apps(&state.oauth.apps).await.map_err(|e| {
                crate::db::DbError::Unusable {
                    url: database.shown().to_owned(),
                    problem: format!("cannot read the registered apps: {e}"),
                }
            })?;
            database
                .start_grants()
                .await
                .map_err(|e| crate::db::DbError::Unusable {
                    url: database.shown().to_owned(),
                    problem: format!("cannot read the revoked tokens: {e}"),
                })?;
            // Every fault added on any replica, before this one serves; its request log is the
            // database's (docs/hosted.md#faults, #the-request-log).
            database
                .sync_faults(&state.tools.faults)
                .await
                .map_err(|e| crate::db::DbError::Unusable {
                    url: database.shown().to_owned(),
                    problem: format!("cannot read the faults: {e}"),
                })?;
            state.tools.requests.share();
            // Every change made to the data through the control API, as on every replica.
            let data: Arc<[PlanData]> = state.plan_data().into();
            database
                .sync_changes(&data)
                .await
                .map_err(|e| crate::db::DbError::Unusable {
                    url: database.shown().to_owned(),
                    problem: format!("cannot read the data changes: {e}"),
                })?;
            // Each plan's signing keys where the other replicas have them.
            let keys: Arc<[PlanKeys]> = state.key_rings().into();
            database
                .sync_keys(&keys)
                .await
                .map_err(|e| crate::db::DbError::Unusable {
                    url: database.shown().to_owned(),
                    problem: format!("cannot read the signing keys: {e}"),
                })?;
            database.follow(crate::db::clock::Followed {
                clock: state.clock.clone(),
                apps: state.oauth.apps.clone(),
                grants: state.oauth.grants.clone(),
                tools: state.tools.clone(),
                data,
                keys,
            });
        }
        if loaded_here {
            release_load_memory();
        }
        Ok(Self {
            listener,
            router: http::router(&states),
            public_url,
            address,
            warnings,
        })
    }

    /// The URL the server announces, without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        http::serve(self.listener, self.router, shutdown).await
    }
}

/// The forms' anti-CSRF tokens (src/http/csrf.rs): signed with a key drawn now, or in hosted
/// mode with the one every replica shares, which the first to start drew
/// (docs/hosted.md#form-tokens).
async fn form_tokens(database: Option<&Database>) -> Result<Arc<CsrfTokens>, StartupError> {
    let drawn = CsrfTokens::random_key();
    let key = match database {
        None => drawn,
        Some(database) => {
            database
                .form_token_key(drawn)
                .await
                .map_err(|e| crate::db::DbError::Unusable {
                    url: database.shown().to_owned(),
                    problem: format!("cannot read the form-token key: {e}"),
                })?
        }
    };
    CsrfTokens::with_key(&key)
        .map(Arc::new)
        .map_err(StartupError::FormTokens)
}

/// This replica's name in the database: the host, the port it listens on, and a random part
/// (two replicas may share a host and, in containers, a port).
fn replica_id(address: SocketAddr) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "replica".to_owned());
    format!("{host}:{}-{:08x}", address.port(), rand::random::<u32>())
}

/// `--public-url`, else `http://<bound address>` (a wildcard bind is announced as loopback,
/// the one address a browser on this machine can use).
fn public_url(configured: Option<&str>, bound: SocketAddr) -> Result<String, StartupError> {
    match configured {
        Some(url) => {
            let problem = |problem: String| StartupError::PublicUrl {
                url: url.to_owned(),
                problem,
            };
            let parsed = Url::parse(url).map_err(|e| problem(e.to_string()))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(problem("must be an absolute http(s) URL".to_owned()));
            }
            if parsed.query().is_some() || parsed.fragment().is_some() {
                return Err(problem("must not have a query or fragment".to_owned()));
            }
            Ok(url.trim_end_matches('/').to_owned())
        }
        None => {
            let mut shown = bound;
            if shown.ip().is_unspecified() {
                shown.set_ip(if bound.is_ipv4() {
                    [127, 0, 0, 1].into()
                } else {
                    std::net::Ipv6Addr::LOCALHOST.into()
                });
            }
            Ok(format!("http://{shown}"))
        }
    }
}

/// The data of `--data DIR`, or the embedded seed data.
pub fn load_data(settings: &Settings) -> Result<Dataset, LoadError> {
    data::load(&data_source(settings))
}

fn data_source(settings: &Settings) -> DataSource {
    match &settings.data {
        Some(dir) => DataSource::Directory(dir.clone()),
        None => DataSource::Embedded,
    }
}

/// The provider directory and formulary of the data (docs/directory.md).
pub fn load_public_data(source: &DataSource) -> Result<PublicSet, LoadError> {
    let directory = data::load_public(source, Api::Directory)?;
    let formulary = data::load_public(source, Api::Formulary)?;
    Ok(PublicSet {
        directory: PublicData::new(Api::Directory, Arc::new(directory)),
        formulary: PublicData::new(Api::Formulary, Arc::new(formulary)),
    })
}

/// The public data the settings name, for tests that share one load among many servers.
pub fn load_public_for(settings: &Settings) -> Result<PublicSet, LoadError> {
    load_public_data(&data_source(settings))
}

/// The other plans' member data: handed in already loaded, or loading on a thread.
enum OthersLoad<'scope> {
    Loaded(Vec<LoadedPlan>),
    Loading(std::thread::ScopedJoinHandle<'scope, Result<Vec<(Plan, Dataset)>, StartupError>>),
}

enum OthersLoaded {
    Shared(Vec<LoadedPlan>),
    Fresh(Vec<(Plan, Dataset)>),
}

/// The plans besides the default, with their member data.
fn load_other_plans(settings: &Settings) -> Result<Vec<(Plan, Dataset)>, StartupError> {
    let started = std::time::Instant::now();
    let loaded = network_plans(settings)?
        .into_iter()
        .map(|plan| {
            let data = load_plan_data(&plan)?;
            Ok((plan, data))
        })
        .collect::<Result<Vec<_>, StartupError>>();
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "the other plans' member data loaded"
    );
    loaded
}

/// One plan, ready to become an `AppState`.
struct PlanParts {
    plan: Arc<Plan>,
    data: Dataset,
    public: PublicApis,
}

fn build_state(
    settings: &Settings,
    public_url: String,
    dependencies: Dependencies,
    database: Option<Database>,
    timeline_start: Option<time::OffsetDateTime>,
    csrf: Arc<CsrfTokens>,
) -> Result<(Vec<AppState>, Vec<String>), StartupError> {
    // The other plans' member data (small) loads on a thread of its own while the default
    // plan's loads here: the default loader's single-threaded steps leave a core free.
    let (dataset, loaded_others) = std::thread::scope(|scope| {
        let others = match dependencies.plans {
            Some(loaded) => OthersLoad::Loaded(loaded),
            None => OthersLoad::Loading(scope.spawn(|| load_other_plans(settings))),
        };
        let dataset = match dependencies.data {
            Some(data) => Ok(data),
            None => load_data(settings),
        };
        let others = match others {
            OthersLoad::Loaded(loaded) => Ok(OthersLoaded::Shared(loaded)),
            OthersLoad::Loading(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(StartupError::Plans("loading the plans failed".into())))
                .map(OthersLoaded::Fresh),
        };
        (dataset, others)
    });
    let dataset = dataset?;
    let mut warnings = dataset.warnings.clone();
    // Their public data loads beside the serving, with the default plan's.
    let (others, background): (Vec<PlanParts>, Vec<_>) = match loaded_others? {
        OthersLoaded::Shared(loaded) => (
            loaded
                .into_iter()
                .map(|p| PlanParts {
                    plan: p.plan,
                    data: p.data,
                    public: PublicApis::loaded(p.public),
                })
                .collect(),
            Vec::new(),
        ),
        OthersLoaded::Fresh(fresh) => {
            let mut parts = Vec::new();
            let mut background = Vec::new();
            for (plan, data) in fresh {
                let source = plan.data.clone();
                let public = match (&source, settings.plans.is_some()) {
                    // A user's plans file: its problems are start-up errors.
                    (Some(source), true) => PublicApis::loaded(Arc::new(load_public_data(source)?)),
                    (Some(source), false) => {
                        let (public, sender) = PublicApis::loading();
                        background.push((source.clone(), sender));
                        public
                    }
                    (None, _) => PublicApis::loaded(Arc::new(empty_public())),
                };
                parts.push(PlanParts {
                    plan: Arc::new(plan),
                    data,
                    public,
                });
            }
            (parts, background)
        }
    };
    for other in &others {
        warnings.extend(
            other
                .data
                .warnings
                .iter()
                .map(|w| format!("plan {}: {w}", other.plan.id)),
        );
    }
    let public = match dependencies.public {
        Some(set) => PublicApis::loaded(set),
        // A directory of the user's: its problems are start-up errors, so it loads first.
        None if settings.data.is_some() => {
            PublicApis::loaded(Arc::new(load_public_data(&data_source(settings))?))
        }
        // The embedded data is known good: it loads beside the serving, and the first
        // requests to it wait (docs/directory.md#start-up).
        None => {
            let (public, sender) = PublicApis::loading();
            let mut jobs = vec![(data_source(settings), sender)];
            jobs.extend(background);
            std::thread::spawn(move || {
                for (source, sender) in jobs {
                    let loaded = load_public_data(&source).map(Arc::new).map_err(|e| {
                        tracing::error!("the public data could not be loaded: {e}");
                        e.to_string()
                    });
                    let _ = sender.send(Some(loaded));
                }
                // As after the member data: give back what loading freed.
                release_load_memory();
            });
            public
        }
    };
    let clock = dependencies.clock.unwrap_or_default();
    if dataset.members.all().is_empty() {
        warnings.push(
            "no test members: no Patient has a name, a postal code and a member ID".to_owned(),
        );
    }
    let preregistered = match &settings.clients {
        Some(path) => load_clients(path, settings.strict).map_err(StartupError::Clients)?,
        None => Vec::new(),
    };
    let (persister, restored) = match &settings.state_dir {
        Some(dir) => Persister::open(dir)?,
        None => (Persister::in_memory(), PersistedState::default()),
    };
    let mut all = vec![PlanParts {
        plan: Arc::new(Plan::default_plan()),
        data: dataset,
        public,
    }];
    all.extend(others);
    let ids: Vec<PlanId> = all.iter().map(|p| p.plan.id.clone()).collect();
    let shared = Arc::new(OAuthShared::new(persister, restored, preregistered, &ids));
    let developers = developer_accounts(settings, &shared)?;
    let tools = Arc::new(Tools::new(
        usize::try_from(settings.request_log_size).unwrap_or(usize::MAX),
    ));
    let network = Arc::new(Network::default());
    // `after` entries of the timeline count from the sandbox clock at start-up (in hosted mode,
    // at the first replica's).
    let start = timeline_start.unwrap_or_else(|| clock.read().sandbox);
    let mut states = Vec::new();
    let started = std::time::Instant::now();
    for (n, parts) in all.into_iter().enumerate() {
        let plan = parts.plan;
        let keys = match (&plan.signing_key, n) {
            (Some(pem), _) => SigningKey::from_pem(pem),
            (None, 0) => SigningKey::sandbox(),
            (None, n) => SigningKey::for_plan(n - 1),
        }
        .map_err(|e| StartupError::SigningKey(format!("plan {}: {e}", plan.id)))?;
        let issuer = format!("{public_url}{}", plan.prefix());
        let config = OAuthConfig {
            plan: plan.id.clone(),
            fhir_base: format!("{issuer}{}", http::routes::FHIR_BASE),
            issuer,
            code_ttl: settings.code_ttl as i64,
            access_token_ttl: plan
                .profile
                .access_token_lifetime
                .unwrap_or(settings.access_token_ttl) as i64,
            refresh_token_ttl: settings.refresh_token_ttl as i64,
            default_scope: settings.default_scope.clone(),
            strict: settings.strict,
            profile: plan.profile.clone(),
        };
        let timeline = parts
            .data
            .timeline
            .iter()
            .map(|s| s.resolve(start))
            .collect();
        states.push(AppState::new(state::Parts {
            plan,
            public_url: public_url.clone(),
            member_data: MemberData::new(parts.data.store, timeline),
            clock: clock.clone(),
            members: parts.data.members,
            oauth: OAuthServer::new(config, keys, shared.clone()),
            control_api: !settings.no_control_api,
            csrf: csrf.clone(),
            tools: tools.clone(),
            public: parts.public,
            network: network.clone(),
            database: database.clone(),
            developers: developers.clone(),
        }));
    }
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "every plan's state built"
    );
    network.set(&states);
    // The router holds every state (each plan's routes carry its own); the network only
    // points to them.
    Ok((states, warnings))
}

/// Developer accounts (docs/developer-accounts.md), when `--developer-accounts` turns them on:
/// restored from the state directory, and saved with the apps from now on. Always on in hosted
/// mode, where they are the database's (docs/hosted.md#developer-accounts) and nothing of them
/// is kept in memory.
fn developer_accounts(
    settings: &Settings,
    shared: &OAuthShared,
) -> Result<Option<Arc<Developers>>, StartupError> {
    if settings.database.is_some() {
        return Ok(Some(Arc::default()));
    }
    if !settings.developer_accounts {
        return Ok(None);
    }
    let developers = Developers::restore(shared.saved_developers()).map_err(|e| {
        StartupError::DeveloperAccounts(format!(
            "the state directory's developer accounts cannot be read: {e}"
        ))
    })?;
    let developers = Arc::new(developers);
    shared.keep_developers(developers.clone());
    Ok(Some(developers))
}

/// Loading fills parse buffers, per-batch tables and the builder's lookup tables that are all
/// dropped once the store is built, on several threads (each with its own malloc arena); glibc
/// keeps that freed heap mapped unless asked to return it. Returning it once after start-up
/// keeps a fixture server's idle footprint to what it really uses.
fn release_load_memory() {
    data::release_embedded();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it touches no live data.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `--clients FILE` (docs/apps.md#pre-registered-apps): every app checked as a registration would be.
fn load_clients(path: &Path, strict: bool) -> Result<Vec<App>, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let apps: Vec<App> = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{shown}: line {}, column {}: {e}", e.line(), e.column()))?;
    for (i, app) in apps.iter().enumerate() {
        let at = format!("{shown}: app {i} ({:?})", app.client_id);
        if app.client_id.trim().is_empty() {
            return Err(format!("{at}: client_id is empty"));
        }
        check_keys(app.jwks.as_ref(), app.jwks_uri.as_deref()).map_err(|e| format!("{at}: {e}"))?;
        if !app.public
            && !app.is_asymmetric()
            && app.client_secret.as_ref().is_none_or(Secret::is_empty)
        {
            return Err(format!(
                "{at}: a confidential app needs a client_secret, or jwks or jwks_uri for private_key_jwt (or set \"public\": true)"
            ));
        }
        if app.is_asymmetric() && (app.public || app.client_secret.is_some()) {
            return Err(format!(
                "{at}: an app with jwks or jwks_uri authenticates with private_key_jwt: it has no client_secret and is not public"
            ));
        }
        if app.redirect_uris.is_empty() {
            return Err(format!("{at}: redirect_uris is empty"));
        }
        for uri in &app.redirect_uris {
            check_redirect_uri(uri, strict).map_err(|e| format!("{at}: {e}"))?;
        }
    }
    Ok(apps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_defaults_and_checks() {
        let bound: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(public_url(None, bound).unwrap(), "http://127.0.0.1:8080");
        assert_eq!(
            public_url(Some("https://sb.example/"), bound).unwrap(),
            "https://sb.example"
        );
        assert!(public_url(Some("sb.example"), bound).is_err());
    }
}
