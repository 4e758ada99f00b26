//! The request log (`GET /sandbox/api/requests`, docs/sandbox-tools.md#request-log): what it records, what it redacts, its
//! bound, its filters, and that the control API itself is not in it; and `reset`.

use serde_json::{Value, json};

use crate::helpers::{JASON, TestApp, spawn_app, spawn_with};

async fn log(app: &TestApp, query: &str) -> Vec<Value> {
    let response = app.get(&format!("/sandbox/api/requests{query}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn records_each_answered_request_newest_last_with_its_client() {
    let app = spawn_app().await;
    app.get(
        "/oauth2/authorize/test?client_id=sandbox-app&redirect_uri=http://localhost/cb&state=s1",
    )
    .await;
    let token = app.login(JASON, "patient/*.read").await;
    let patient = format!("/r4/Patient/{}", token["patient"].as_str().unwrap());
    app.get_with_token(&patient, token["access_token"].as_str().unwrap())
        .await;
    app.client
        .post(app.at("/oauth2/token"))
        .basic_auth("sandbox-app", Some("sandbox-secret"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    app.get("/r4/Patient/nobody").await;

    let entries = log(&app, "").await;
    let summary: Vec<(String, String, u64, Value)> = entries
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_owned(),
                e["path"].as_str().unwrap().to_owned(),
                e["status"].as_u64().unwrap(),
                e["client_id"].clone(),
            )
        })
        .collect();
    let app_id = json!("sandbox-app");
    assert_eq!(
        summary,
        vec![
            (
                "GET".into(),
                "/oauth2/authorize/test".into(),
                303,
                app_id.clone()
            ),
            ("POST".into(), "/oauth2/token".into(), 200, app_id.clone()),
            ("GET".into(), patient.clone(), 200, app_id.clone()),
            ("POST".into(), "/oauth2/token".into(), 200, app_id.clone()),
            ("GET".into(), "/r4/Patient/nobody".into(), 401, Value::Null),
        ],
        "the control API (members, authorize, requests) is not logged"
    );
    assert_eq!(entries[1]["grant_type"], "authorization_code");
    assert_eq!(entries[3]["grant_type"], "refresh_token");
    assert_eq!(
        entries[0]["query"],
        "client_id=sandbox-app&redirect_uri=http://localhost/cb&state=s1"
    );
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    for e in &entries {
        assert!(e["time"].as_str().unwrap().ends_with('Z'));
        assert!(e["duration_ms"].is_u64());
    }

    let mine = log(&app, "?client_id=sandbox-app").await;
    assert_eq!(mine.len(), 4);
    let fhir = log(&app, "?path=/r4/").await;
    assert_eq!(fhir.len(), 2);
}

#[tokio::test]
async fn secrets_never_reach_the_log() {
    let app = spawn_app().await;
    let token = app.login(JASON, "patient/*.read").await;
    let access = token["access_token"].as_str().unwrap();
    let refresh = token["refresh_token"].as_str().unwrap();
    app.get(&format!(
        "/oauth2/authorize/test?client_id=sandbox-app&redirect_uri=http://localhost/cb&code=leakedcode&client_secret=leakedsecret&code_verifier=leakedverifier&refresh_token={refresh}&access_token={access}&password=hunter2"
    ))
    .await;
    app.get(&format!(
        "/r4/Observation?code=http://loinc.org|1234-5&access_token={access}"
    ))
    .await;
    let raw = app.get("/sandbox/api/requests").await.text().await.unwrap();
    for secret in [
        "leakedcode",
        "leakedsecret",
        "leakedverifier",
        "hunter2",
        "sandbox-secret",
        access,
        refresh,
    ] {
        assert!(!raw.contains(secret), "{secret} is in the log: {raw}");
    }
    let entries: Vec<Value> = serde_json::from_str(&raw).unwrap();
    let authorize = entries[1]["query"].as_str().unwrap();
    assert!(authorize.contains("code=[redacted]"), "{authorize}");
    assert!(authorize.contains("client_id=sandbox-app"));
    assert_eq!(
        entries[2]["query"], "code=http://loinc.org|1234-5&access_token=[redacted]",
        "a FHIR search's code is a clinical code, not a secret"
    );
}

#[tokio::test]
async fn the_log_is_a_bounded_ring_buffer() {
    let app = spawn_with(|s| s.request_log_size = 3).await;
    for i in 0..5 {
        app.get(&format!("/.well-known/jwks.json?n={i}")).await;
    }
    let entries = log(&app, "").await;
    let queries: Vec<&str> = entries
        .iter()
        .map(|e| e["query"].as_str().unwrap())
        .collect();
    assert_eq!(queries, ["n=2", "n=3", "n=4"]);
    assert_eq!(entries[2]["seq"], 5);
    let cleared: Value = app
        .client
        .delete(app.at("/sandbox/api/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["deleted"], 3);
    assert!(log(&app, "").await.is_empty());
}

#[tokio::test]
async fn times_come_from_the_sandbox_clock_and_expired_tokens_keep_their_client() {
    let app = spawn_app().await;
    let token = app.login(JASON, "patient/*.read").await;
    app.advance_clock(40 * 86_400).await;
    let clock: Value = app.get("/sandbox/api/clock").await.json().await.unwrap();
    let patient = format!("/r4/Patient/{}", token["patient"].as_str().unwrap());
    let expired = app
        .get_with_token(&patient, token["access_token"].as_str().unwrap())
        .await;
    assert_eq!(expired.status(), 401);
    let entries = log(&app, "").await;
    let last = entries.last().unwrap();
    assert_eq!(last["status"], 401);
    assert_eq!(last["client_id"], "sandbox-app");
    assert_eq!(
        last["time"].as_str().unwrap()[..10],
        clock["now"].as_str().unwrap()[..10]
    );

    app.post_json(
        &format!("/sandbox/api/members/{JASON}/expire-grants"),
        json!({}),
    )
    .await;
    app.get_with_token(&patient, token["access_token"].as_str().unwrap())
        .await;
    let entries = log(&app, "").await;
    assert_eq!(
        entries.last().unwrap()["client_id"],
        "sandbox-app",
        "a revoked token is still attributed"
    );
}

#[tokio::test]
async fn reset_clears_faults_and_the_log_and_keeps_apps() {
    let app = spawn_app().await;
    let client: Value = app
        .post_json(
            "/oauth2/register",
            json!({"client_name": "Stays", "redirect_uris": ["http://localhost/stays"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    app.post_json(
        "/sandbox/api/faults",
        json!({"target": "fhir", "status": 503, "count": 5}),
    )
    .await;
    app.get("/r4/metadata").await;
    assert!(!log(&app, "").await.is_empty());

    let reset = app.post_json("/sandbox/api/reset", json!({})).await;
    assert_eq!(reset.status(), 200);

    let faults: Vec<Value> = app.get("/sandbox/api/faults").await.json().await.unwrap();
    assert!(faults.is_empty());
    assert!(log(&app, "").await.is_empty());
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    let code = app.headless_code(id, JASON, json!({})).await;
    let exchanged = app.exchange_code_as(&code, id, secret).await;
    assert_eq!(exchanged.status(), 200, "the registered app still works");
}

/// `time` always has exactly three fractional digits, also when the milliseconds end in zeros
/// (RFC 3339's formatter would drop them): a frozen clock on a whole second shows it.
#[tokio::test]
async fn times_always_have_three_fractional_digits() {
    let at = time::OffsetDateTime::from_unix_timestamp(1_893_456_000).unwrap();
    let clock = std::sync::Arc::new(payer_sandbox::clock::Clock::frozen(at));
    let app = crate::helpers::spawn_with_clock(clock.clone(), |_| {}).await;
    app.get("/.well-known/smart-configuration").await;
    clock.advance(1);
    app.get("/r4/metadata").await;
    let entries = log(&app, "").await;
    let times: Vec<&str> = entries
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        ["2030-01-01T00:00:00.000Z", "2030-01-01T00:00:01.000Z"]
    );
}
