//! Spawning the app and the steps every test repeats: headless login, token exchange, walking
//! the sign-in pages by plain form posts.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use payer_sandbox::clock::Clock;
use payer_sandbox::data::Dataset;
use payer_sandbox::settings::Settings;
use payer_sandbox::startup::{Application, Dependencies, load_data};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

pub const JASON: &str = "08-testmemid";
/// Noelle Ferreira: a member with nothing on file but her Patient (docs/data.md#seed-data).
pub const NOELLE: &str = "08-testmemid6";

/// The real binary, running on a free port; its stderr (the log) is collected as it is written.
pub struct Running {
    pub child: std::process::Child,
    pub url: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Running {
    pub fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts the real binary on a free port with `args`, once it has printed the listening line.
pub fn spawn_binary(args: &[&str]) -> Running {
    use std::io::{BufRead, BufReader, Read};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_payer-sandbox"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut stderr = child.stderr.take().expect("stderr");
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        while let Ok(n) = stderr.read(&mut buffer) {
            if n == 0 {
                break;
            }
            sink.lock()
                .expect("log")
                .push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the listening line");
    let url = line
        .trim()
        .strip_prefix("payer-sandbox listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Running { child, url, log }
}

impl TestApp {
    /// A test client for a server started elsewhere (e.g. by `spawn_binary`).
    pub fn at_url(url: &str) -> TestApp {
        TestApp {
            url: url.to_owned(),
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("client"),
            // Another process's clock: move it with the control API.
            clock: Arc::new(Clock::new()),
        }
    }
}

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    /// The server's clock, for tests that freeze or move time without the control API.
    pub clock: Arc<Clock>,
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// What `load` gives for `key`, loaded once for the whole test binary: a hundred servers built on
/// already-loaded data (`Dependencies`) cost one load.
fn loaded_once<K, V>(
    cache: &'static OnceLock<Mutex<HashMap<K, V>>>,
    key: K,
    load: impl FnOnce() -> V,
) -> V
where
    K: std::hash::Hash + Eq,
    V: Clone,
{
    let mut loaded = cache
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    loaded.entry(key).or_insert_with(load).clone()
}

/// Each data set the tests serve (`--data`).
fn shared_data(settings: &Settings) -> Dataset {
    static LOADED: OnceLock<Mutex<HashMap<Option<PathBuf>, Dataset>>> = OnceLock::new();
    loaded_once(&LOADED, settings.data.clone(), || {
        load_data(settings).expect("the test data loads")
    })
}

/// The public APIs' data of each data set.
fn shared_public(settings: &Settings) -> Arc<payer_sandbox::state::PublicSet> {
    type Loaded = HashMap<Option<PathBuf>, Arc<payer_sandbox::state::PublicSet>>;
    static LOADED: OnceLock<Mutex<Loaded>> = OnceLock::new();
    loaded_once(&LOADED, settings.data.clone(), || {
        Arc::new(
            payer_sandbox::startup::load_public_for(settings).expect("the test public data loads"),
        )
    })
}

/// The other plans of the network, per plans file.
fn shared_plans(settings: &Settings) -> Vec<payer_sandbox::startup::LoadedPlan> {
    type Loaded = HashMap<Option<PathBuf>, Vec<payer_sandbox::startup::LoadedPlan>>;
    static LOADED: OnceLock<Mutex<Loaded>> = OnceLock::new();
    loaded_once(&LOADED, settings.plans.clone(), || {
        payer_sandbox::startup::load_plans(settings).expect("the test plans load")
    })
}

pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_with_clock(Arc::new(Clock::new()), configure).await
}

/// Hosted mode (docs/hosted.md#tests): with `PAYER_SANDBOX_TEST_HOSTED` set to a PostgreSQL URL
/// (as `tests/hosted/run.sh --whole-suite` sets it), every server gets a fresh database of its
/// own on it, so that the whole suite runs in hosted mode. A server started on the state
/// directory of an earlier one is that server restarted: it keeps the database too.
async fn hosted_database(state_dir: Option<&std::path::Path>) -> Option<String> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static BY_STATE_DIR: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let admin = std::env::var("PAYER_SANDBOX_TEST_HOSTED").ok()?;
    let restarted = state_dir.and_then(|dir| {
        let known = BY_STATE_DIR.get_or_init(Mutex::default).lock().ok()?;
        known.get(dir).cloned()
    });
    if restarted.is_some() {
        return restarted;
    }
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let name = format!("payer_api_{}_{n}", std::process::id());
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("the test database");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("a fresh database");
    pool.close().await;
    let mut url = url::Url::parse(&admin).expect("a database URL");
    url.set_path(&name);
    if let (Some(dir), Ok(mut known)) = (state_dir, BY_STATE_DIR.get_or_init(Mutex::default).lock())
    {
        known.insert(dir.to_owned(), url.to_string());
    }
    Some(url.to_string())
}

/// A server on the given clock (e.g. `Clock::frozen`), which the test may move directly.
pub async fn spawn_with_clock(clock: Arc<Clock>, configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_server(clock, configure, true).await
}

/// A server in embedded mode in every run, for what only embedded mode has: the open portal
/// (docs/apps.md#registration), since hosted mode always has developer accounts
/// (docs/hosted.md#developer-accounts).
pub async fn spawn_embedded(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_embedded_with_clock(Arc::new(Clock::new()), configure).await
}

/// `spawn_embedded` on the given clock.
pub async fn spawn_embedded_with_clock(
    clock: Arc<Clock>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    spawn_server(clock, configure, false).await
}

async fn spawn_server(
    clock: Arc<Clock>,
    configure: impl FnOnce(&mut Settings),
    hosted_when_asked: bool,
) -> TestApp {
    let mut settings = Settings::for_tests();
    configure(&mut settings);
    if settings.database.is_none() && hosted_when_asked {
        settings.database = hosted_database(settings.state_dir.as_deref()).await;
    }
    let dependencies = Dependencies {
        clock: Some(clock.clone()),
        data: Some(shared_data(&settings)),
        public: Some(shared_public(&settings)),
        plans: Some(shared_plans(&settings)),
    };
    let app = Application::build_with(settings, dependencies)
        .await
        .expect("the app builds");
    let url = app.public_url().to_owned();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        url,
        client: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .expect("client"),
        clock,
    }
}

/// A JSON array of strings, as `&str`s (a discovery document's lists).
pub fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|s| s.as_str().expect("a string"))
        .collect()
}

/// The value of `name` in a URL's query.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The `value` of the hidden input `name` in an HTML page.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

impl TestApp {
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn fhir_base(&self) -> String {
        self.at("/r4")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.at(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.at(path))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.at(path))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Headless authorize (docs/sandbox-tools.md#headless-authorize): a code for `member_id` from `client_id`.
    pub async fn headless_code(&self, client_id: &str, member_id: &str, extra: Value) -> String {
        let mut body = json!({"client_id": client_id, "member_id": member_id});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let response = self.post_json("/sandbox/api/authorize", body).await;
        assert_eq!(response.status(), 200, "headless authorize");
        let json: Value = response.json().await.expect("json");
        json["code"].as_str().expect("code").to_owned()
    }

    /// An RFC 7591 registration that must succeed (201): the client metadata answered.
    pub async fn register(&self, metadata: Value) -> Value {
        let response = self.post_json("/oauth2/register", metadata.clone()).await;
        assert_eq!(response.status(), 201, "registration of {metadata}");
        response.json().await.expect("client metadata")
    }

    pub async fn exchange_code(&self, code: &str) -> reqwest::Response {
        self.exchange_code_as(code, "sandbox-app", "sandbox-secret")
            .await
    }

    /// An id_token checked as a careful client of the built-in app checks it (OpenID Connect
    /// Core §3.1.3.7): a key the JWKS lists under its `kid`, RS256, `iss`, `aud`, `exp`.
    /// The claims, or what failed.
    pub async fn validate_id_token(&self, id_token: &str) -> Result<Value, String> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|e| format!("header: {e}"))?;
        let jwks: Value = self
            .get("/.well-known/jwks.json")
            .await
            .json()
            .await
            .expect("the JWKS");
        let jwk = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["kid"].as_str() == header.kid.as_deref())
            .ok_or("kid not in the JWKS")?;
        let key = jsonwebtoken::DecodingKey::from_rsa_components(
            jwk["n"].as_str().expect("n"),
            jwk["e"].as_str().expect("e"),
        )
        .map_err(|e| e.to_string())?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&["sandbox-app"]);
        validation.set_issuer(&[self.url.as_str()]);
        jsonwebtoken::decode::<Value>(id_token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }

    /// A refresh by the built-in confidential app, its secret in the body.
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post_form(
            "/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", "sandbox-app"),
                ("client_secret", "sandbox-secret"),
            ],
        )
        .await
    }

    /// The authorization-code exchange with the client secret in the body (1upHealth's shape).
    pub async fn exchange_code_as(
        &self,
        code: &str,
        client_id: &str,
        secret: &str,
    ) -> reqwest::Response {
        self.post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", client_id),
                ("client_secret", secret),
            ],
        )
        .await
    }

    /// A token response for the built-in confidential app and `member_id`.
    pub async fn login(&self, member_id: &str, scope: &str) -> Value {
        let code = self
            .headless_code("sandbox-app", member_id, json!({"scope": scope}))
            .await;
        let response = self.exchange_code(&code).await;
        assert_eq!(response.status(), 200, "token exchange");
        response.json().await.expect("json")
    }

    /// An access token for `member_id` with `scope`.
    pub async fn token(&self, member_id: &str, scope: &str) -> String {
        self.login(member_id, scope).await["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.at(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn advance_clock(&self, seconds: i64) {
        let response = self
            .post_json("/sandbox/api/clock/advance", json!({"seconds": seconds}))
            .await;
        assert_eq!(response.status(), 200);
    }

    pub async fn members(&self) -> Vec<Value> {
        self.get("/sandbox/api/members")
            .await
            .json()
            .await
            .expect("json")
    }

    pub async fn last_email_code(&self, to: &str) -> String {
        let outbox: Vec<Value> = self
            .get("/sandbox/api/outbox")
            .await
            .json()
            .await
            .expect("json");
        outbox
            .iter()
            .rev()
            .find(|e| e["to"] == to.to_lowercase().as_str())
            .and_then(|e| e["code"].as_str())
            .expect("an email to that address")
            .to_owned()
    }
}

/// A sign-in attempt walked through the pages by plain form posts, as curl would.
pub struct Attempt<'a> {
    pub app: &'a TestApp,
    pub path: String,
    pub csrf: String,
}

impl<'a> Attempt<'a> {
    /// A sign-in attempt for the built-in confidential app, the starting point of most page tests.
    pub async fn for_sandbox_app(app: &'a TestApp) -> Attempt<'a> {
        Self::start(
            app,
            "client_id=sandbox-app&redirect_uri=http://localhost/cb",
        )
        .await
    }

    /// Follows the authorize URL to the sign-in start page.
    pub async fn start(app: &'a TestApp, authorize_query: &str) -> Attempt<'a> {
        let response = app
            .get(&format!("/oauth2/authorize/test?{authorize_query}"))
            .await;
        assert_eq!(
            response.status(),
            303,
            "authorize redirects to the sign-in pages"
        );
        let location = response.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        let start = app.get(&location).await;
        assert_eq!(start.status(), 200);
        let html = start.text().await.expect("html");
        assert!(html.contains("Sign in to Demo Health Plan"));
        let create = app
            .get(&format!("{location}/create"))
            .await
            .text()
            .await
            .expect("html");
        let csrf = hidden_input(&create, "csrf_token").expect("csrf token");
        Attempt {
            app,
            path: location,
            csrf,
        }
    }

    pub async fn create_account(
        &self,
        first: &str,
        last: &str,
        member_id: &str,
        zip: &str,
        email: &str,
    ) -> reqwest::Response {
        self.app
            .post_form(
                &format!("{}/create", self.path),
                &[
                    ("csrf_token", &self.csrf),
                    ("first_name", first),
                    ("last_name", last),
                    ("member_id", member_id),
                    ("postal_code", zip),
                    ("email", email),
                ],
            )
            .await
    }

    pub async fn sign_in(&self, email: &str) -> reqwest::Response {
        self.app
            .post_form(
                &format!("{}/signin", self.path),
                &[("csrf_token", &self.csrf), ("email", email)],
            )
            .await
    }

    pub async fn enter_code(&self, code: &str) -> reqwest::Response {
        self.app
            .post_form(
                &format!("{}/verify", self.path),
                &[("csrf_token", &self.csrf), ("code", code)],
            )
            .await
    }

    pub async fn decide(&self, decision: &str) -> reqwest::Response {
        self.app
            .post_form(
                &format!("{}/consent", self.path),
                &[("csrf_token", &self.csrf), ("decision", decision)],
            )
            .await
    }

    /// Create account for Jason, verify, allow: returns the redirect URL with the code.
    pub async fn approve_as_jason(&self, email: &str) -> String {
        let r = self
            .create_account("Jason", "Argonaut", JASON, "02114", email)
            .await;
        assert_eq!(r.status(), 303, "account details accepted");
        let code = self.app.last_email_code(email).await;
        let r = self.enter_code(&code).await;
        assert_eq!(r.status(), 303, "code accepted");
        let consent = self.app.get(&format!("{}/consent", self.path)).await;
        assert_eq!(consent.status(), 200);
        let r = self.decide("allow").await;
        assert_eq!(r.status(), 302);
        r.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    }
}

/// The rows of the parameter table for the types the Patient Access API (`/r4`) serves.
pub fn patient_access_types() -> Vec<&'static payer_sandbox::fhir::search_params::ResourceDef> {
    payer_sandbox::fhir::apis::Api::PatientAccess
        .types()
        .iter()
        .filter_map(|t| payer_sandbox::fhir::search_params::resource(t.name).map(|(_, def)| def))
        .collect()
}

/// `Type/id` of each entry of a Bundle, in order; only those whose `search.mode` is `mode`
/// (`match`, `include`) when one is given.
pub fn entry_refs(bundle: &Value, mode: Option<&str>) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| mode.is_none_or(|m| e["search"]["mode"] == m))
        .map(|e| {
            format!(
                "{}/{}",
                e["resource"]["resourceType"].as_str().unwrap_or_default(),
                e["resource"]["id"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// A PKCE pair (RFC 7636): the verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sha2::{Digest, Sha256};
    let verifier = format!(
        "verifier-{}-0123456789abcdefghijklmnopqrstuvwxyz",
        rand_suffix()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// How the built-in confidential app authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Body,
    Basic,
}

impl TestApp {
    /// A GET that must answer JSON: the body.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.get(path).await.json().await.expect("a JSON body")
    }

    /// A GET with a bearer token that must answer JSON: the body.
    pub async fn get_json_with_token<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
    ) -> T {
        self.get_with_token(path, token)
            .await
            .json()
            .await
            .expect("a JSON body")
    }

    /// The member ID of the member of `plan` whose given name is `given` (docs/plans.md).
    pub async fn plan_member(&self, plan: &str, given: &str) -> String {
        let plans: Vec<Value> = self
            .get("/sandbox/api/plans")
            .await
            .json()
            .await
            .expect("plans");
        let found = plans
            .iter()
            .find(|p| p["id"] == plan)
            .unwrap_or_else(|| panic!("no plan {plan}"));
        found["members"]
            .as_array()
            .expect("members")
            .iter()
            .find(|m| m["given"] == given)
            .and_then(|m| m["member_id"].as_str())
            .unwrap_or_else(|| panic!("no member {given} in {plan}"))
            .to_owned()
    }

    /// A headless code of `plan` for the built-in app, with PKCE: the code and its verifier.
    pub async fn plan_code(&self, plan: &str, member_id: &str, scope: &str) -> (String, String) {
        let (verifier, challenge) = pkce();
        let code = self
            .headless_code(
                "sandbox-app",
                member_id,
                json!({"plan": plan, "scope": scope, "code_challenge": challenge, "code_challenge_method": "S256"}),
            )
            .await;
        (code, verifier)
    }

    /// The code exchanged by the built-in app, authenticating as `auth` says.
    pub async fn plan_exchange(&self, code: &str, verifier: &str, auth: Auth) -> reqwest::Response {
        self.token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("code_verifier", verifier),
            ],
            auth,
        )
        .await
    }

    /// A refresh by the built-in app, authenticating as `auth` says.
    pub async fn plan_refresh(&self, refresh_token: &str, auth: Auth) -> reqwest::Response {
        self.token_request(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
            auth,
        )
        .await
    }

    /// A token request of the built-in app: `form`, and its secret where `auth` says.
    async fn token_request(&self, form: &[(&str, &str)], auth: Auth) -> reqwest::Response {
        let mut form = form.to_vec();
        let mut request = self.client.post(self.at("/oauth2/token"));
        match auth {
            Auth::Body => {
                form.push(("client_id", "sandbox-app"));
                form.push(("client_secret", "sandbox-secret"));
            }
            Auth::Basic => request = request.basic_auth("sandbox-app", Some("sandbox-secret")),
        }
        request.form(&form).send().await.expect("token request")
    }

    /// Creates an account on a sign-in attempt's pages (`start`, the attempt's first page) for
    /// `member` (as `GET /sandbox/api/plans` lists members) with `email`: the verify page's path.
    pub async fn create_account_on(&self, start: &str, member: &Value, email: &str) -> String {
        let create = format!("{start}/create");
        let form = self.get(&create).await.text().await.expect("html");
        let csrf = hidden_input(&form, "csrf_token").expect("csrf token");
        let field = |name: &str| member[name].as_str().expect("a member field").to_owned();
        let response = self
            .post_form(
                &create,
                &[
                    ("csrf_token", &csrf),
                    ("first_name", &field("given")),
                    ("last_name", &field("family")),
                    ("member_id", &field("member_id")),
                    ("postal_code", &field("postal_code")),
                    ("email", email),
                ],
            )
            .await;
        assert_eq!(response.status(), 303, "account created");
        response.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    }

    /// A token response of Cascade Health Alliance for its member `given` (HTTP Basic, PKCE,
    /// `launch/patient`, v2 scopes: what its profile asks).
    pub async fn cascade_login(&self, given: &str) -> Value {
        let member = self.plan_member("cascade", given).await;
        self.plan_login("cascade", &member, CASCADE_SCOPE, Auth::Basic)
            .await
    }

    /// A token response of Lakeshore Mutual Health for its member `given` (secret in the body,
    /// v1 scopes).
    pub async fn lakeshore_login(&self, given: &str) -> Value {
        let member = self.plan_member("lakeshore", given).await;
        self.plan_login("lakeshore", &member, LAKESHORE_SCOPE, Auth::Body)
            .await
    }

    /// A token response of `plan` for `member_id` (the auth method the plan accepts).
    pub async fn plan_login(&self, plan: &str, member_id: &str, scope: &str, auth: Auth) -> Value {
        let (code, verifier) = self.plan_code(plan, member_id, scope).await;
        let response = self.plan_exchange(&code, &verifier, auth).await;
        assert_eq!(response.status(), 200, "token exchange at {plan}");
        response.json().await.expect("json")
    }
}

/// A plans file (docs/plans.md#the-plans-file) in a fresh directory: `text`, in which `{data}`
/// stands for the embedded Lakeshore data's folder.
pub fn plans_file(name: &str, text: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("payer-sandbox-plans-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data/plans/lakeshore");
    let file = dir.join("plans.toml");
    let text = text.replace("{data}", &format!("{:?}", data.display().to_string()));
    std::fs::write(&file, text).expect("the plans file is written");
    file
}

/// Cascade Health Alliance's scope for tests: its profile wants launch/patient and v2 scopes.
pub const CASCADE_SCOPE: &str = "launch/patient openid fhirUser offline_access patient/*.rs";
/// Lakeshore Mutual Health's: v1 scopes.
pub const LAKESHORE_SCOPE: &str = "openid fhirUser patient/*.read";
