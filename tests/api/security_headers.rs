//! Transport-level protections the OAuth security BCP asks for (RFC 9700 §4.16, §4.2.4, §4.3;
//! RFC 6749 §5.1): every page refuses framing, runs no script, is not cached and leaks no
//! referrer; token responses are never cached; a token is only accepted in the Authorization
//! header, never from a URL.

use serde_json::json;

use crate::helpers::{Attempt, JASON, spawn_app, spawn_embedded};

fn assert_page_headers(response: &reqwest::Response, what: &str) {
    let h = response.headers();
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    let csp = h["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{what}: CSP lacks {directive}");
    }
    assert!(!csp.contains("script-src"), "{what}: no script is allowed");
    assert_eq!(h["cache-control"], "no-store", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
}

#[tokio::test]
async fn every_page_forbids_framing_scripts_caching_and_referrers() {
    let app = spawn_embedded(|_| {}).await;
    for path in [
        "/",
        "/portal",
        "/sandbox/outbox",
        "/oauth2/authorize?client_id=nobody",
        "/oauth2/login/unknown",
    ] {
        let response = app.get(path).await;
        assert_page_headers(&response, path);
    }
    let attempt = Attempt::for_sandbox_app(&app).await;
    for step in ["", "/create", "/signin"] {
        let response = app.get(&format!("{}{step}", attempt.path)).await;
        assert_page_headers(&response, step);
    }
    let rejected = attempt
        .create_account("x", "y", "z", "0", "h@example.com")
        .await;
    assert_page_headers(&rejected, "create account error");
    attempt
        .create_account("Jason", "Argonaut", JASON, "02114", "h@example.com")
        .await;
    assert_page_headers(
        &app.get(&format!("{}/verify", attempt.path)).await,
        "verify",
    );
    let code = app.last_email_code("h@example.com").await;
    attempt.enter_code(&code).await;
    assert_page_headers(
        &app.get(&format!("{}/consent", attempt.path)).await,
        "consent",
    );
}

#[tokio::test]
async fn token_responses_are_never_cached_errors_included() {
    let app = spawn_app().await;
    let code = app.headless_code("sandbox-app", JASON, json!({})).await;
    let ok = app.exchange_code(&code).await;
    assert_eq!(ok.status(), 200);
    let replay = app.exchange_code(&code).await;
    assert_eq!(replay.status(), 400);
    let bad_client = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("client_id", "nobody"),
            ],
        )
        .await;
    for response in [ok, replay, bad_client] {
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["pragma"], "no-cache");
    }
}

#[tokio::test]
async fn access_tokens_are_accepted_only_in_the_authorization_header() {
    let app = spawn_app().await;
    let token = app.login(JASON, "patient/*.read").await;
    let access = token["access_token"].as_str().unwrap();
    let patient = token["patient"].as_str().unwrap();
    let in_query = app
        .get(&format!("/r4/Patient/{patient}?access_token={access}"))
        .await;
    assert_eq!(
        in_query.status(),
        401,
        "RFC 6750 §2.3 query tokens are refused"
    );
    let in_form = app
        .client
        .post(app.at("/r4/Patient/_search"))
        .form(&[("_id", patient), ("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        in_form.status(),
        401,
        "RFC 6750 §2.2 form-body tokens are refused"
    );
    let userinfo = app
        .get(&format!("/oauth2/userinfo?access_token={access}"))
        .await;
    assert_eq!(userinfo.status(), 401);
    assert_eq!(
        app.get_with_token(&format!("/r4/Patient/{patient}"), access)
            .await
            .status(),
        200
    );
}
