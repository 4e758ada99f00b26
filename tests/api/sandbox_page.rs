//! The `/sandbox` page for people: what it shows, its CSRF-protected buttons, and a read-only
//! page under `--no-control-api`. Also `--healthcheck`, the image's health probe.

use serde_json::{Value, json};

use crate::helpers::{Attempt, JASON, hidden_input, spawn_app, spawn_embedded};

#[tokio::test]
async fn the_page_shows_members_apps_outbox_faults_and_requests() {
    let app = spawn_app().await;
    Attempt::for_sandbox_app(&app)
        .await
        .create_account("Jason", "Argonaut", JASON, "02114", "page@example.com")
        .await;
    app.post_json(
        "/sandbox/api/faults",
        json!({"target": "fhir", "status": 429, "path": "/r4/Coverage", "retry_after": 2}),
    )
    .await;
    let response = app.get("/sandbox").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = response.text().await.unwrap();
    for expected in [
        "Jason",
        "08-testmemid",
        "sandbox-app",
        "sandbox-public-app",
        "page@example.com",
        "/r4/Coverage",
        "status 429, Retry-After 2",
        "/oauth2/authorize/test",
        "Advance the clock",
        "Reset the sandbox",
        "Data changes",
        "ExplanationOfBenefit/pa-jason-argonaut-20261123-1",
        "The lumbar MRI is approved after clinical review",
    ] {
        assert!(html.contains(expected), "{expected} missing");
    }
    assert_eq!(
        html.matches("to come").count(),
        5,
        "the embedded timeline, none due yet"
    );
    app.advance_clock(2 * 86_400).await;
    let html = app.get("/sandbox").await.text().await.unwrap();
    assert_eq!(html.matches("to come").count(), 4);
    assert!(html.contains("version 1"), "Rosa's refill claim posted");
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(
        !html.contains("sandbox-secret"),
        "credentials stay on the portal"
    );
}

#[tokio::test]
async fn the_buttons_move_the_clock_and_reset_with_a_csrf_token() {
    let app = spawn_app().await;
    let html = app.get("/sandbox").await.text().await.unwrap();
    let csrf = hidden_input(&html, "csrf_token").unwrap();

    let forged = app
        .post_form(
            "/sandbox/actions",
            &[
                ("csrf_token", "nope"),
                ("action", "advance"),
                ("seconds", "301"),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
    let clock: Value = app.get("/sandbox/api/clock").await.json().await.unwrap();
    assert_eq!(clock["offset_seconds"], 0);

    let advanced = app
        .post_form(
            "/sandbox/actions",
            &[
                ("csrf_token", &csrf),
                ("action", "advance"),
                ("seconds", "301"),
            ],
        )
        .await;
    assert_eq!(advanced.status(), 303);
    assert_eq!(advanced.headers()["location"], "/sandbox?done=advance");
    let clock: Value = app.get("/sandbox/api/clock").await.json().await.unwrap();
    assert_eq!(clock["offset_seconds"], 301);
    let page = app.get("/sandbox?done=advance").await.text().await.unwrap();
    assert!(page.contains("The sandbox clock moved."));
    assert!(page.contains("301 s ahead"));

    // Only forward, as in the control API.
    let backwards = app
        .post_form(
            "/sandbox/actions",
            &[
                ("csrf_token", &csrf),
                ("action", "advance"),
                ("seconds", "-5"),
            ],
        )
        .await;
    assert_eq!(backwards.status(), 400);
    let clock: Value = app.get("/sandbox/api/clock").await.json().await.unwrap();
    assert_eq!(clock["offset_seconds"], 301);

    let bad = app
        .post_form(
            "/sandbox/actions",
            &[
                ("csrf_token", &csrf),
                ("action", "advance"),
                ("seconds", "soon"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 400);

    app.post_json(
        "/sandbox/api/faults",
        json!({"target": "any", "status": 500}),
    )
    .await;
    app.get("/.well-known/jwks.json").await;
    let reset = app
        .post_form(
            "/sandbox/actions",
            &[("csrf_token", &csrf), ("action", "reset")],
        )
        .await;
    assert_eq!(reset.status(), 303);
    let clock: Value = app.get("/sandbox/api/clock").await.json().await.unwrap();
    assert_eq!(clock["offset_seconds"], 0);
    let requests: Vec<Value> = app.get("/sandbox/api/requests").await.json().await.unwrap();
    assert!(requests.is_empty());
    let faults: Vec<Value> = app.get("/sandbox/api/faults").await.json().await.unwrap();
    assert!(faults.is_empty());

    for action in ["clear-faults", "clear-requests", "clock-reset"] {
        let r = app
            .post_form(
                "/sandbox/actions",
                &[("csrf_token", &csrf), ("action", action)],
            )
            .await;
        assert_eq!(r.status(), 303, "{action}");
    }
    let unknown = app
        .post_form(
            "/sandbox/actions",
            &[("csrf_token", &csrf), ("action", "explode")],
        )
        .await;
    assert_eq!(unknown.status(), 400);
}

#[tokio::test]
async fn without_the_control_api_the_page_only_shows() {
    let app = spawn_embedded(|s| s.no_control_api = true).await;
    let html = app.get("/sandbox").await.text().await.unwrap();
    assert!(html.contains("Jason"));
    assert!(!html.contains("<form"));
    let csrf = hidden_input(
        &app.get("/portal").await.text().await.unwrap(),
        "csrf_token",
    )
    .unwrap();
    let refused = app
        .post_form(
            "/sandbox/actions",
            &[("csrf_token", &csrf), ("action", "reset")],
        )
        .await;
    assert_eq!(refused.status(), 404);
}

#[tokio::test]
async fn healthcheck_passes_against_a_running_server_and_fails_otherwise() {
    let app = spawn_app().await;
    let ok = app.at("/healthz");
    let missing = app.at("/no-such-page");
    let results = tokio::task::spawn_blocking(move || {
        (
            payer_sandbox::healthcheck::check(&ok),
            payer_sandbox::healthcheck::check(&missing),
        )
    })
    .await
    .unwrap();
    assert!(results.0.is_ok(), "{:?}", results.0);
    assert!(results.1.is_err());
}
