//! Fault injection (`POST /sandbox/api/faults`, docs/sandbox-tools.md#faults): every kind, fired exactly `count` times,
//! matched by target, path and client, answered in each path's own error format.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{JASON, TestApp, spawn_app};

async fn add_fault(app: &TestApp, fault: Value) -> Value {
    let response = app.post_json("/sandbox/api/faults", fault.clone()).await;
    assert_eq!(response.status(), 201, "{fault}");
    response.json().await.unwrap()
}

async fn faults(app: &TestApp) -> Vec<Value> {
    app.get("/sandbox/api/faults").await.json().await.unwrap()
}

/// A confidential app registered over RFC 7591, and a token response for Jason from it.
pub async fn second_app_login(app: &TestApp) -> (String, Value) {
    let client: Value = app
        .post_json(
            "/oauth2/register",
            json!({"client_name": "Second", "redirect_uris": ["http://localhost/second"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = client["client_id"].as_str().unwrap().to_owned();
    let secret = client["client_secret"].as_str().unwrap();
    let code = app
        .headless_code(&id, JASON, json!({"scope": "patient/*.read"}))
        .await;
    let token: Value = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &id),
                ("client_secret", secret),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(token["access_token"].is_string(), "{token}");
    (id, token)
}

fn patient_path(token: &Value) -> String {
    format!("/r4/Patient/{}", token["patient"].as_str().unwrap())
}

#[tokio::test]
async fn a_token_error_fires_exactly_count_times_then_the_endpoint_works_again() {
    let app = spawn_app().await;
    let fault = add_fault(
        &app,
        json!({"target": "token", "error": "invalid_grant", "count": 2}),
    )
    .await;
    assert_eq!(fault["remaining"], 2);
    assert!(fault["id"].as_u64().unwrap() > 0);
    assert_eq!(faults(&app).await.len(), 1);

    let code = app.headless_code("sandbox-app", JASON, json!({})).await;
    for remaining in [1, 0] {
        let response = app.exchange_code(&code).await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant");
        assert!(body["error_description"].is_string());
        let active = faults(&app).await;
        assert_eq!(active.len(), usize::from(remaining > 0));
    }
    let response = app.exchange_code(&code).await;
    assert_eq!(
        response.status(),
        200,
        "the faulted requests never reached the endpoint: the code is unused"
    );
}

#[tokio::test]
async fn a_fhir_429_carries_retry_after_and_an_operation_outcome_on_any_fhir_path() {
    let app = spawn_app().await;
    let token = app.login(JASON, "patient/*.read").await;
    let access = token["access_token"].as_str().unwrap();
    add_fault(
        &app,
        json!({"target": "fhir", "status": 429, "retry_after": 2, "count": 2}),
    )
    .await;
    for path in [
        patient_path(&token),
        "/r4/ExplanationOfBenefit?_include=ExplanationOfBenefit:*".to_owned(),
    ] {
        let response = app.get_with_token(&path, access).await;
        assert_eq!(response.status(), 429, "{path}");
        assert_eq!(response.headers()["retry-after"], "2");
        // The same content type as a real FHIR error (before, an injected one lacked the charset).
        assert_eq!(
            response.headers()["content-type"],
            "application/fhir+json; charset=utf-8"
        );
        let outcome: Value = response.json().await.unwrap();
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert_eq!(outcome["issue"][0]["code"], "throttled");
        assert_eq!(outcome["issue"][0]["severity"], "error");
    }
    assert_eq!(
        app.get_with_token(&patient_path(&token), access)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_fhir_503_and_a_401_look_like_the_real_ones() {
    let app = spawn_app().await;
    let token = app.login(JASON, "patient/*.read").await;
    let access = token["access_token"].as_str().unwrap();
    add_fault(&app, json!({"target": "fhir", "status": 503})).await;
    let response = app.get_with_token(&patient_path(&token), access).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("retry-after").is_none());
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["issue"][0]["code"], "transient");

    add_fault(&app, json!({"target": "fhir", "status": 401})).await;
    let response = app.get_with_token(&patient_path(&token), access).await;
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["issue"][0]["code"], "login");
    assert_eq!(
        app.get_with_token(&patient_path(&token), access)
            .await
            .status(),
        200,
        "count defaults to 1"
    );
}

#[tokio::test]
async fn a_delay_holds_the_request_then_lets_it_through() {
    let app = spawn_app().await;
    add_fault(&app, json!({"target": "any", "delay_ms": 400})).await;
    let started = Instant::now();
    let response = app.get("/.well-known/smart-configuration").await;
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    let started = Instant::now();
    assert_eq!(
        app.get("/.well-known/smart-configuration").await.status(),
        200
    );
    assert!(started.elapsed() < Duration::from_millis(400), "fired once");
    let log: Vec<Value> = app.get("/sandbox/api/requests").await.json().await.unwrap();
    assert!(log[0]["fault"].as_u64().is_some());
    assert!(log[0]["duration_ms"].as_u64().unwrap() >= 400);
    assert!(log[1].get("fault").is_none());
}

#[tokio::test]
async fn faults_match_by_path_prefix_method_and_client() {
    let app = spawn_app().await;
    let (second, second_token) = second_app_login(&app).await;
    let mine = app.login(JASON, "patient/*.read").await;
    add_fault(
        &app,
        json!({"target": "fhir", "status": 503, "path": "/r4/Patient", "client_id": second}),
    )
    .await;
    let read = |t: &Value| {
        (
            patient_path(t),
            t["access_token"].as_str().unwrap().to_owned(),
        )
    };
    let (path, token) = read(&mine);
    assert_eq!(
        app.get_with_token(&path, &token).await.status(),
        200,
        "another client"
    );
    let (path, token) = read(&second_token);
    assert_ne!(
        app.get_with_token("/r4/Coverage", &token).await.status(),
        503,
        "another path"
    );
    assert_eq!(app.get_with_token(&path, &token).await.status(), 503);

    // The token endpoint knows the client from the body or from HTTP Basic.
    add_fault(
        &app,
        json!({"target": "token", "status": 503, "method": "POST", "client_id": "sandbox-app"}),
    )
    .await;
    let code = app.headless_code(&second, JASON, json!({})).await;
    let other = app
        .post_form(
            "/oauth2/token",
            &[("grant_type", "authorization_code"), ("code", &code)],
        )
        .await;
    assert_ne!(other.status(), 503);
    let code = app.headless_code("sandbox-app", JASON, json!({})).await;
    let basic = app
        .client
        .post(app.at("/oauth2/token"))
        .basic_auth("sandbox-app", Some("sandbox-secret"))
        .form(&[("grant_type", "authorization_code"), ("code", &code)])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 503);
    let body: Value = basic.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn an_authorize_error_redirects_back_only_to_a_registered_redirect_uri() {
    let app = spawn_app().await;
    add_fault(
        &app,
        json!({"target": "authorize", "error": "access_denied", "count": 2}),
    )
    .await;
    let response = app
        .get("/oauth2/authorize/test?client_id=sandbox-app&redirect_uri=http://localhost/cb&state=xyz")
        .await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("http://localhost/cb?error=access_denied&error_description="),
        "{location}"
    );
    assert!(location.ends_with("&state=xyz"));
    let untrusted = app
        .get("/oauth2/authorize?client_id=sandbox-app&redirect_uri=https://evil.example/cb")
        .await;
    assert_eq!(untrusted.status(), 400);
    assert!(untrusted.text().await.unwrap().contains("access_denied"));

    add_fault(
        &app,
        json!({"target": "authorize", "status": 503, "retry_after": 30}),
    )
    .await;
    let page = app
        .get("/oauth2/authorize/test?client_id=sandbox-app&redirect_uri=http://localhost/cb")
        .await;
    assert_eq!(page.status(), 503);
    assert_eq!(page.headers()["retry-after"], "30");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let normal = app
        .get("/oauth2/authorize/test?client_id=sandbox-app&redirect_uri=http://localhost/cb")
        .await;
    assert_eq!(normal.status(), 303, "on to the sign-in pages");
}

#[tokio::test]
async fn other_oauth_endpoints_answer_rfc_6749_errors() {
    let app = spawn_app().await;
    add_fault(
        &app,
        json!({"target": "introspect", "status": 503, "retry_after": 5}),
    )
    .await;
    let response = app
        .post_form(
            "/oauth2/introspect",
            &[
                ("token", "x"),
                ("client_id", "sandbox-app"),
                ("client_secret", "sandbox-secret"),
            ],
        )
        .await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");

    add_fault(&app, json!({"target": "discovery", "status": 500})).await;
    let response = app.get("/r4/.well-known/smart-configuration").await;
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "server_error");
}

#[tokio::test]
async fn the_harness_is_never_faulted() {
    let app = spawn_app().await;
    add_fault(&app, json!({"target": "any", "status": 503, "count": 10})).await;
    assert_eq!(app.get("/sandbox/api/members").await.status(), 200);
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/sandbox").await.status(), 200);
    assert_eq!(app.get("/static/site.css").await.status(), 200);
    assert_eq!(faults(&app).await[0]["remaining"], 10);
    assert_eq!(app.get("/").await.status(), 503, "pages are");
}

#[tokio::test]
async fn bad_faults_are_refused_and_faults_can_be_deleted() {
    let app = spawn_app().await;
    for bad in [
        json!({"target": "fhir"}),
        json!({"target": "fhir", "error": "invalid_grant"}),
        json!({"target": "token", "error": "not_a_code"}),
        json!({"target": "nowhere", "status": 500}),
        json!({"target": "fhir", "status": 302}),
        json!({"target": "fhir", "status": 429, "retry-after": 2}),
        json!({"target": "fhir", "status": 429, "count": 0}),
        json!({"target": "any", "delay_ms": 600000}),
    ] {
        let response = app.post_json("/sandbox/api/faults", bad.clone()).await;
        assert_eq!(response.status(), 400, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{bad}");
    }
    let a = add_fault(&app, json!({"target": "fhir", "status": 503})).await;
    add_fault(&app, json!({"target": "token", "status": 503})).await;
    let id = a["id"].as_u64().unwrap();
    let deleted = app
        .client
        .delete(app.at(&format!("/sandbox/api/faults/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let again = app
        .client
        .delete(app.at(&format!("/sandbox/api/faults/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(faults(&app).await.len(), 1);
    let cleared: Value = app
        .client
        .delete(app.at("/sandbox/api/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["deleted"], 1);
    assert!(faults(&app).await.is_empty());
}

/// What a careful client checks in an id_token: `TestApp::validate_id_token`, and the `nonce`
/// it sent.
async fn id_token_problem(app: &TestApp, id_token: &str, nonce: &str) -> Option<String> {
    match app.validate_id_token(id_token).await {
        Err(problem) => Some(problem),
        Ok(claims) if claims["nonce"] != nonce => Some("nonce".to_owned()),
        Ok(_) => None,
    }
}

/// `{"target":"token","id_token":…}`: the next token response is a success whose id_token is
/// well-formed but has one flaw; a careful client rejects each, and without the fault the same
/// checks pass (no false alarm). The access token is untouched.
#[tokio::test]
async fn id_token_faults_each_break_one_rule_a_careful_client_checks() {
    let app = spawn_app().await;
    let login = || async {
        let code = app
            .headless_code(
                "sandbox-app",
                JASON,
                json!({"scope": "openid patient/*.read", "nonce": "n-1"}),
            )
            .await;
        let tokens: Value = app.exchange_code(&code).await.json().await.unwrap();
        tokens
    };
    let clean = login().await;
    assert_eq!(
        id_token_problem(&app, clean["id_token"].as_str().unwrap(), "n-1").await,
        None
    );
    for (flaw, expected) in [
        ("wrong_key", "kid not in the JWKS"),
        ("wrong_iss", "InvalidIssuer"),
        ("wrong_aud", "InvalidAudience"),
        ("wrong_nonce", "nonce"),
        ("expired", "ExpiredSignature"),
        ("alg_none", "header"),
    ] {
        add_fault(&app, json!({"target": "token", "id_token": flaw})).await;
        let tokens = login().await;
        let problem = id_token_problem(&app, tokens["id_token"].as_str().unwrap(), "n-1")
            .await
            .unwrap_or_else(|| panic!("{flaw}: the flawed id_token validated"));
        assert!(problem.contains(expected), "{flaw}: {problem}");
        let patient = format!("/r4/Patient/{}", tokens["patient"].as_str().unwrap());
        assert_eq!(
            app.get_with_token(&patient, tokens["access_token"].as_str().unwrap())
                .await
                .status(),
            200,
            "{flaw}: the access token is good"
        );
    }
    let after = login().await;
    assert_eq!(
        id_token_problem(&app, after["id_token"].as_str().unwrap(), "n-1").await,
        None,
        "each fault fired once"
    );
    let refused = app
        .post_json(
            "/sandbox/api/faults",
            json!({"target": "fhir", "id_token": "expired"}),
        )
        .await;
    assert_eq!(refused.status(), 400);
}

/// `delay_after_ms` holds the answer after the handler ran: a client that times out and retries
/// the same code finds it redeemed (the effect happened, only the response was late), and the
/// request its client abandoned is in the log as 499 with `client_gone`.
#[tokio::test]
async fn a_delay_after_the_handler_keeps_its_effects_and_logs_the_client_that_left() {
    let app = spawn_app().await;
    add_fault(&app, json!({"target": "token", "delay_after_ms": 1500})).await;
    let code = app.headless_code("sandbox-app", JASON, json!({})).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let gave_up = impatient
        .post(app.at("/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", "sandbox-app"),
            ("client_secret", "sandbox-secret"),
        ])
        .send()
        .await;
    assert!(gave_up.is_err(), "the client timed out");
    let retry = app.exchange_code(&code).await;
    assert_eq!(retry.status(), 400);
    let body: Value = retry.json().await.unwrap();
    assert_eq!(
        body["error"], "invalid_grant",
        "the first request redeemed the code"
    );

    // The abandoned request is logged when the server notices the closed connection.
    let mut gone = None;
    for _ in 0..100 {
        let log: Vec<Value> = app
            .get("/sandbox/api/requests?path=/oauth2/token")
            .await
            .json()
            .await
            .unwrap();
        gone = log.into_iter().find(|e| e["client_gone"] == true);
        if gone.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gone = gone.expect("the abandoned request is logged");
    assert_eq!(gone["status"], 499);
    assert_eq!(gone["grant_type"], "authorization_code");
    assert!(gone["fault"].as_u64().is_some());
}
