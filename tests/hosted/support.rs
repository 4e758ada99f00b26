//! What every hosted-mode test needs: a fresh database per test, replicas on it, requests, and
//! stopping and starting the database server.

use payer_sandbox::settings::Settings;
use payer_sandbox::startup::Application;
use serde_json::Value;

pub const NEEDS: &str = "needs PostgreSQL: run tests/hosted/run.sh";

pub fn admin_url() -> String {
    std::env::var("PAYER_SANDBOX_TEST_DATABASE").expect(NEEDS)
}

/// A fresh, empty database for one test: its URL.
pub async fn fresh_database(name: &str) -> String {
    let admin = sqlx::PgPool::connect(&admin_url()).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin_url()).unwrap();
    url.set_path(name);
    url.to_string()
}

pub async fn build(database: &str) -> Result<Application, String> {
    build_with(database, |_| {}).await
}

pub async fn build_with(
    database: &str,
    configure: impl FnOnce(&mut Settings),
) -> Result<Application, String> {
    let mut settings = Settings::for_tests();
    settings.database = Some(database.to_owned());
    configure(&mut settings);
    Application::build(settings)
        .await
        .map_err(|e| e.to_string())
}

/// A replica serving on a free port: its URL.
pub async fn replica(database: &str) -> String {
    replica_with(database, |_| {}).await
}

/// A replica with settings of its own (besides the database).
pub async fn replica_with(database: &str, configure: impl FnOnce(&mut Settings)) -> String {
    let app = build_with(database, configure)
        .await
        .expect("the replica starts");
    let url = app.public_url().to_owned();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    url
}

pub async fn count(database: &str, table: &str) -> i64 {
    let pool = sqlx::PgPool::connect(database).await.unwrap();
    sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&pool)
        .await
        .unwrap()
}

pub async fn ready(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = client.get(format!("{url}/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

pub fn run(script_var: &str) {
    let script = std::env::var(script_var).expect(NEEDS);
    let status = std::process::Command::new(&script).status().unwrap();
    assert!(status.success(), "{script}");
}

pub async fn offset(client: &reqwest::Client, url: &str) -> i64 {
    let clock: Value = get_json(client, &format!("{url}/sandbox/api/clock")).await;
    clock["offset_seconds"].as_i64().unwrap()
}

/// A JSON POST: the status and the body (`Null` when it is not JSON).
pub async fn post_json(client: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    let response = client.post(url).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A GET that must answer 200 with JSON.
pub async fn get_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str) -> T {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.unwrap()
}

pub async fn post(client: &reqwest::Client, url: &str, body: Value) -> u16 {
    post_json(client, url, body).await.0
}

/// The built-in confidential app, on every replica without registration.
pub const APP: (&str, &str) = ("sandbox-app", "sandbox-secret");
/// The built-in public app: its refresh tokens rotate.
pub const PUBLIC_APP: &str = "sandbox-public-app";
/// A member of the default plan, and the scope the tests ask for.
pub const MEMBER: &str = "08-testmemid";
pub const SCOPE: &str = "openid fhirUser patient/*.read offline_access";

/// A code from headless authorize at `url` (docs/sandbox-tools.md#headless-authorize).
pub async fn code_at(client: &reqwest::Client, url: &str, client_id: &str) -> String {
    let (status, body) = post_json(
        client,
        &format!("{url}/sandbox/api/authorize"),
        serde_json::json!({"client_id": client_id, "member_id": MEMBER, "scope": SCOPE}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["code"].as_str().unwrap().to_owned()
}

/// A token request at `url`: its status and JSON body.
pub async fn token_at(client: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = client
        .post(format!("{url}/oauth2/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The built-in confidential app redeems `code` at `url`.
pub async fn redeem_at(client: &reqwest::Client, url: &str, code: &str) -> (u16, Value) {
    token_at(
        client,
        url,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", APP.0),
            ("client_secret", APP.1),
        ],
    )
    .await
}

/// Tokens for the built-in confidential app: a code at `issuer`, redeemed at `redeemer`.
pub async fn tokens(client: &reqwest::Client, issuer: &str, redeemer: &str) -> Value {
    let code = code_at(client, issuer, APP.0).await;
    let (status, body) = redeem_at(client, redeemer, &code).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A FHIR read of the token's own Patient at `url`: the status.
pub async fn read_at(client: &reqwest::Client, url: &str, tokens: &Value) -> u16 {
    let patient = tokens["patient"].as_str().unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    client
        .get(format!("{url}/r4/Patient/{patient}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A replica whose sandbox clock is frozen at `at` (plus the shared offset, which moves it):
/// replicas frozen at one instant read the same time, so a test's instants are exact and a
/// second of the sandbox clock does not roll over while it runs. Its URL.
pub async fn replica_at(database: &str, at: time::OffsetDateTime) -> String {
    let mut settings = Settings::for_tests();
    settings.database = Some(database.to_owned());
    let dependencies = payer_sandbox::startup::Dependencies {
        clock: Some(std::sync::Arc::new(payer_sandbox::clock::Clock::frozen(at))),
        ..Default::default()
    };
    let app = Application::build_with(settings, dependencies)
        .await
        .expect("the replica starts");
    let url = app.public_url().to_owned();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    url
}

/// A GET with a bearer token: the status and the JSON body (`Null` when it is not JSON).
pub async fn get_with_token(client: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A PKCE pair (RFC 7636, S256): the verifier and its challenge.
pub fn pkce() -> (String, String) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sha2::{Digest, Sha256};
    let verifier = format!(
        "verifier-{:016x}-0123456789abcdefghij",
        rand::random::<u64>()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Cascade Health Alliance's scope: its profile wants launch/patient and v2 scopes.
pub const CASCADE_SCOPE: &str = "launch/patient openid fhirUser offline_access patient/*.rs";

/// A token response of Cascade Health Alliance (plan `cascade`) for its member `given`, issued
/// at `url`: headless authorize with PKCE, then the code exchanged with HTTP Basic, as the plan
/// asks.
pub async fn cascade_tokens(client: &reqwest::Client, url: &str, given: &str) -> Value {
    let plans: Vec<Value> = get_json(client, &format!("{url}/sandbox/api/plans")).await;
    let member = plans
        .iter()
        .find(|p| p["id"] == "cascade")
        .and_then(|p| p["members"].as_array())
        .and_then(|members| members.iter().find(|m| m["given"] == given))
        .and_then(|m| m["member_id"].as_str())
        .unwrap()
        .to_owned();
    let (verifier, challenge) = pkce();
    let (status, body) = post_json(
        client,
        &format!("{url}/sandbox/api/authorize"),
        serde_json::json!({"client_id": APP.0, "member_id": member, "plan": "cascade",
            "scope": CASCADE_SCOPE, "code_challenge": challenge, "code_challenge_method": "S256"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let response = client
        .post(format!("{url}/oauth2/token"))
        .basic_auth(APP.0, Some(APP.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", body["code"].as_str().unwrap()),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "token exchange at cascade");
    response.json().await.unwrap()
}

/// A client that follows no redirect, as the tests of the sign-in pages need: each answer is
/// seen as the member's browser first gets it.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `value` of the hidden input `name` in an HTML page.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// Waits until the replica is ready again (the database back), at most 20 seconds.
pub async fn wait_until_ready(client: &reqwest::Client, url: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while ready(client, url).await.0 != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "not ready again after the database came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
