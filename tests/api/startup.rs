//! Start-up and the command line (docs/command-line.md, docs/data.md#load-time-checks): the listening line, health, data loading errors
//! that name the file, `--clients`, graceful shutdown, and no 5xx on junk.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use payer_sandbox::settings::Settings;
use payer_sandbox::startup::Application;
use serde_json::json;

use crate::helpers::{JASON, spawn_app, spawn_with, spawn_with_clock};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "payer-sandbox-{name}-{}-{}",
        std::process::id(),
        line!()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn build_error(configure: impl FnOnce(&mut Settings)) -> String {
    let mut settings = Settings::for_tests();
    configure(&mut settings);
    match Application::build(settings).await {
        Ok(_) => panic!("start-up should fail"),
        Err(e) => e.to_string(),
    }
}

/// `Application::build_with` takes the clock: a test can freeze it, and every expiry and
/// timestamp of every request reads it (each request once).
#[tokio::test]
async fn an_injected_frozen_clock_drives_every_expiry_and_timestamp() {
    let at = time::OffsetDateTime::from_unix_timestamp(1_893_456_000).unwrap(); // 2030-01-01
    let clock = std::sync::Arc::new(payer_sandbox::clock::Clock::frozen(at));
    let app = spawn_with_clock(clock.clone(), |_| {}).await;
    let shown: serde_json::Value = app.get("/sandbox/api/clock").await.json().await.unwrap();
    assert_eq!(shown["now"], "2030-01-01T00:00:00Z");

    let tokens = app.login(JASON, "patient/*.read openid").await;
    let access = tokens["access_token"].as_str().unwrap();
    let introspection: serde_json::Value = app
        .post_form(
            "/oauth2/introspect",
            &[
                ("token", access),
                ("client_id", "sandbox-app"),
                ("client_secret", "sandbox-secret"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(introspection["iat"], 1_893_456_000);
    assert_eq!(introspection["exp"], 1_893_456_000 + 3600);
    let bundle: serde_json::Value = app
        .get_with_token("/r4/Coverage", access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bundle["meta"]["lastUpdated"], "2030-01-01T00:00:00Z");

    // Moving the injected clock, not the wall clock, expires a code.
    let code = app.headless_code("sandbox-app", JASON, json!({})).await;
    clock.advance(301);
    let expired = app.exchange_code(&code).await;
    assert_eq!(expired.status(), 400);
    let body: serde_json::Value = expired.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn healthz_and_landing_page() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains(JASON) && home.contains("Argonaut") && home.contains("/portal"));
    assert!(home.contains("/directory/r4") && home.contains("/formulary/r4"));
}

#[tokio::test]
async fn data_errors_name_the_file_and_the_problem() {
    let dir = temp_dir("bad-json");
    std::fs::write(
        dir.join("ok.json"),
        json!({"resourceType":"Patient","id":"a"}).to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("broken.json"),
        "{\n  \"resourceType\": \"Patient\",\n  \"id\": \n}",
    )
    .unwrap();
    let error = build_error(|s| s.data = Some(dir.clone())).await;
    assert!(
        error.contains("broken.json: invalid JSON at line 4"),
        "{error}"
    );

    std::fs::write(
        dir.join("broken.json"),
        json!({"resourceType":"Patient","id":"a"}).to_string(),
    )
    .unwrap();
    let error = build_error(|s| s.data = Some(dir.clone())).await;
    assert!(error.contains("duplicate Patient/a"), "{error}");

    std::fs::write(dir.join("broken.json"), json!({"id":"b"}).to_string()).unwrap();
    let error = build_error(|s| s.data = Some(dir.clone())).await;
    assert!(
        error.contains("broken.json: missing resourceType"),
        "{error}"
    );

    let error = build_error(|s| s.data = Some(dir.join("missing"))).await;
    assert!(error.contains("missing"), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn custom_data_with_ndjson_derives_members() {
    let dir = temp_dir("ndjson");
    let patient = json!({"resourceType":"Patient","id":"p9","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MB"}]},"value":"M-9"}],
        "name":[{"family":"Nine","given":["Nina"]}],"birthDate":"2001-02-03","address":[{"postalCode":"10001"}]});
    let coverage = json!({"resourceType":"Coverage","id":"c9","beneficiary":{"reference":"Patient/p9"},"payor":[{"reference":"Organization/nowhere"}]});
    std::fs::write(
        dir.join("data.ndjson"),
        format!("{patient}\n\n{coverage}\n"),
    )
    .unwrap();
    let app = spawn_with(|s| s.data = Some(dir.clone())).await;
    let members = app.members().await;
    assert_eq!(
        members,
        vec![
            json!({"member_id":"M-9","patient_id":"p9","given":"Nina","family":"Nine","birth_date":"2001-02-03","postal_code":"10001"})
        ]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A `--data` directory's own timeline (docs/data.md#timeline-format): its changes take effect
/// as the clock passes them, `at` and `after` alike; a bad line stops start-up naming the file
/// and line.
#[tokio::test]
async fn custom_data_with_a_timeline() {
    let dir = temp_dir("timeline");
    let patient = json!({"resourceType":"Patient","id":"p9","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MB"}]},"value":"M-9"}],
        "name":[{"family":"Nine","given":["Nina"]}],"address":[{"postalCode":"10001"}]});
    let coverage = json!({"resourceType":"Coverage","id":"c9","status":"active","beneficiary":{"reference":"Patient/p9"}});
    std::fs::write(dir.join("data.ndjson"), format!("{patient}\n{coverage}\n")).unwrap();
    let ended = json!({"after":"PT2H","resource":{"resourceType":"Coverage","id":"c9","status":"active",
        "beneficiary":{"reference":"Patient/p9"},"period":{"end":"@date"}}});
    let posted = json!({"at":"2026-12-01T13:00:00Z","note":"a claim posts","resource":{"resourceType":"ExplanationOfBenefit",
        "id":"e1","status":"active","use":"claim","patient":{"reference":"Patient/p9"}}});
    std::fs::write(dir.join("timeline.ndjson"), format!("{ended}\n{posted}\n")).unwrap();
    let start = time::macros::datetime!(2026-12-01 12:00 UTC);
    let app = spawn_with_clock(
        std::sync::Arc::new(payer_sandbox::clock::Clock::frozen(start)),
        |s| s.data = Some(dir.clone()),
    )
    .await;
    let token = app.token("M-9", "patient/*.read").await;
    let read = |path: &'static str, token: String| {
        let app = &app;
        async move { app.get_with_token(path, &token).await }
    };
    assert_eq!(
        read("/r4/ExplanationOfBenefit/e1", token.clone())
            .await
            .status(),
        404
    );
    app.advance_clock(3_600).await;
    // A new token: the first one expired with the hour.
    let token = app.token("M-9", "patient/*.read").await;
    let claim: serde_json::Value = read("/r4/ExplanationOfBenefit/e1", token.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(claim["meta"]["lastUpdated"], "2026-12-01T13:00:00Z");
    let coverage: serde_json::Value = read("/r4/Coverage/c9", token.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(coverage["meta"]["versionId"], "1");
    app.advance_clock(3_600).await;
    let token = app.token("M-9", "patient/*.read").await;
    let coverage: serde_json::Value = read("/r4/Coverage/c9", token).await.json().await.unwrap();
    assert_eq!(coverage["meta"]["versionId"], "2");
    assert_eq!(coverage["period"]["end"], "2026-12-01");

    for (line, expected) in [
        (
            json!({"after":"P1M","resource":coverage}).to_string(),
            "timeline.ndjson:2: after \"P1M\" is not a duration",
        ),
        (
            json!({"after":"P1D","prior_authorization":"nope","use":{"units":1}}).to_string(),
            "timeline.ndjson:2: prior_authorization nope is not an ExplanationOfBenefit of the data",
        ),
        (
            "{oops".to_owned(),
            "timeline.ndjson:2: not a timeline entry",
        ),
    ] {
        std::fs::write(dir.join("timeline.ndjson"), format!("{ended}\n{line}\n")).unwrap();
        let error = build_error(|s| s.data = Some(dir.clone())).await;
        assert!(error.contains(expected), "{error}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn preregistered_clients_work_and_bad_files_stop_start_up() {
    let dir = temp_dir("clients");
    let file = dir.join("clients.json");
    std::fs::write(&file, json!([{"client_id":"ci-app","client_secret":"ci-secret","name":"CI App","redirect_uris":["https://ci.example/cb"]}]).to_string()).unwrap();
    let app = spawn_with(|s| s.clients = Some(file.clone())).await;
    let code = app.headless_code("ci-app", JASON, json!({})).await;
    let token = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "ci-app"),
                ("client_secret", "ci-secret"),
            ],
        )
        .await;
    assert_eq!(token.status(), 200);

    std::fs::write(
        &file,
        json!([{"client_id":"x","name":"X","redirect_uris":["https://ci.example/cb"]}]).to_string(),
    )
    .unwrap();
    let error = build_error(|s| s.clients = Some(file.clone())).await;
    assert!(
        error.contains("clients.json") && error.contains("client_secret"),
        "{error}"
    );

    // An asymmetric app: public keys instead of a secret (docs/apps.md#pre-registered-apps).
    let jwks: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/client-jwks.json")).unwrap();
    std::fs::write(
        &file,
        json!([{"client_id":"ci-keys","name":"CI Keys","redirect_uris":["https://ci.example/cb"],"jwks":jwks}]).to_string(),
    )
    .unwrap();
    let app = spawn_with(|s| s.clients = Some(file.clone())).await;
    let code = app.headless_code("ci-keys", JASON, json!({})).await;
    let with_secret = app.exchange_code_as(&code, "ci-keys", "anything").await;
    assert_eq!(with_secret.status(), 401, "it has no secret to use");
    std::fs::write(
        &file,
        json!([{"client_id":"bad-keys","name":"B","redirect_uris":["https://ci.example/cb"],"jwks":{"keys":[]}}]).to_string(),
    )
    .unwrap();
    let error = build_error(|s| s.clients = Some(file.clone())).await;
    assert!(
        error.contains("bad-keys") && error.contains("jwks"),
        "{error}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_binary_prints_the_listening_line_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_payer-sandbox"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("payer-sandbox listening on http://127.0.0.1:")
        .map(|port| format!("http://127.0.0.1:{port}"));
    let url = url.unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(
        child.wait().unwrap().success(),
        "graceful exit with status 0"
    );
}

#[tokio::test]
async fn bad_flags_exit_non_zero_with_a_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_payer-sandbox"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--data",
            "/nonexistent/payer-sandbox-data",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/payer-sandbox-data"));
    let output = Command::new(env!("CARGO_BIN_EXE_payer-sandbox"))
        .args(["--code-ttl", "soon"])
        .output()
        .unwrap();
    assert!(!output.status.success());
}

#[tokio::test]
async fn junk_input_never_yields_a_server_error() {
    let app = spawn_app().await;
    let long = "a".repeat(30_000);
    let paths = [
        "/oauth2/authorize?%zz".to_owned(),
        format!("/oauth2/authorize?client_id={long}"),
        "/oauth2/authorize/test?client_id=sandbox-app&redirect_uri=%FF%FE".to_owned(),
        "/oauth2/login/nope".to_owned(),
        "/oauth2/login/nope/verify".to_owned(),
        "/oauth2/login/%2e%2e%2f/consent".to_owned(),
        "/oauth2/userinfo".to_owned(),
        "/sandbox/api/members/%00/expire-grants".to_owned(),
    ];
    for path in &paths {
        let status = app.get(path).await.status();
        assert!(
            status.is_client_error() || status.is_success() || status.is_redirection(),
            "GET {path}: {status}"
        );
    }
    let bodies: [&[u8]; 5] = [
        b"%%%",
        b"\xff\xfe",
        b"grant_type=authorization_code&code=1&code=2",
        b"a=b&a=c",
        &[b'x'; 70_000],
    ];
    for path in [
        "/oauth2/token",
        "/oauth2/register",
        "/oauth2/introspect",
        "/oauth2/revoke",
        "/sandbox/api/authorize",
        "/sandbox/api/clock/advance",
        "/portal/apps",
        "/oauth2/authorize",
        "/oauth2/login/x/create",
    ] {
        for body in bodies {
            for content_type in [
                "application/x-www-form-urlencoded",
                "application/json",
                "text/plain",
            ] {
                let status = app
                    .client
                    .post(app.at(path))
                    .header("content-type", content_type)
                    .body(body.to_vec())
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert!(
                    status.is_client_error() || status.is_redirection(),
                    "POST {path} {content_type}: {status}"
                );
            }
        }
    }
    assert_eq!(app.get("/healthz").await.status(), 200);
}
