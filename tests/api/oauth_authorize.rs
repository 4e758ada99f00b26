//! The authorization endpoint's error handling, exactly as RFC 6749 §4.1.2.1 says: never a
//! redirect for a bad client or redirect URI, otherwise a redirect with `error` and `state`.

use crate::helpers::{query_param, spawn_app, spawn_with};

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

async fn error_redirect(app: &crate::helpers::TestApp, query: &str) -> (String, Option<String>) {
    let response = app.get(&format!("/oauth2/authorize/test?{query}")).await;
    assert_eq!(response.status(), 302, "{query}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("http://localhost/cb?"), "{location}");
    assert!(query_param(&location, "error_description").is_some());
    (
        query_param(&location, "error").unwrap(),
        query_param(&location, "state"),
    )
}

#[tokio::test]
async fn unknown_client_gets_an_error_page_not_a_redirect() {
    let app = spawn_app().await;
    let response = app
        .get("/oauth2/authorize/test?client_id=nobody&redirect_uri=http://localhost/cb&state=s")
        .await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    assert!(response.text().await.unwrap().contains("Unknown app"));
}

#[tokio::test]
async fn unregistered_redirect_gets_an_error_page_not_a_redirect() {
    let app = spawn_app().await;
    for uri in [
        "https://evil.example/cb",
        "http://localhost.evil.example/cb",
        "http://localhost/cb#frag",
    ] {
        let query =
            serde_urlencoded::to_string([("client_id", "sandbox-app"), ("redirect_uri", uri)])
                .unwrap();
        let response = app.get(&format!("/oauth2/authorize?{query}")).await;
        assert_eq!(response.status(), 400, "{uri}");
        assert!(response.headers().get("location").is_none(), "{uri}");
    }
}

#[tokio::test]
async fn response_type_token_is_unsupported() {
    let app = spawn_app().await;
    let (error, state) = error_redirect(
        &app,
        "client_id=sandbox-app&redirect_uri=http://localhost/cb&response_type=token&state=abc",
    )
    .await;
    assert_eq!(error, "unsupported_response_type");
    assert_eq!(state.as_deref(), Some("abc"));
}

#[tokio::test]
async fn pkce_plain_is_refused() {
    let app = spawn_app().await;
    let (error, _) = error_redirect(
        &app,
        &format!("client_id=sandbox-app&redirect_uri=http://localhost/cb&code_challenge={CHALLENGE}&code_challenge_method=plain"),
    )
    .await;
    assert_eq!(error, "invalid_request");
    let (error, _) = error_redirect(
        &app,
        &format!(
            "client_id=sandbox-app&redirect_uri=http://localhost/cb&code_challenge={CHALLENGE}"
        ),
    )
    .await;
    assert_eq!(error, "invalid_request", "no method means plain");
}

#[tokio::test]
async fn public_apps_must_send_pkce() {
    let app = spawn_app().await;
    let (error, _) = error_redirect(
        &app,
        "client_id=sandbox-public-app&redirect_uri=http://localhost/cb",
    )
    .await;
    assert_eq!(error, "invalid_request");
}

#[tokio::test]
async fn wrong_aud_never_yields_a_code_and_a_trailing_slash_is_fine() {
    let app = spawn_app().await;
    let (error, _) = error_redirect(
        &app,
        "client_id=sandbox-app&redirect_uri=http://localhost/cb&aud=https://other.example/r4",
    )
    .await;
    assert_eq!(error, "invalid_request");
    let query = serde_urlencoded::to_string([
        ("client_id", "sandbox-app"),
        ("redirect_uri", "http://localhost/cb"),
        ("aud", &format!("{}/", app.fhir_base())),
    ])
    .unwrap();
    assert_eq!(
        app.get(&format!("/oauth2/authorize/test?{query}"))
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn unknown_scopes_only_is_invalid_scope() {
    let app = spawn_app().await;
    let (error, _) = error_redirect(
        &app,
        "client_id=sandbox-app&redirect_uri=http://localhost/cb&scope=launch%20bogus",
    )
    .await;
    assert_eq!(error, "invalid_scope");
}

#[tokio::test]
async fn repeated_parameters_are_malformed() {
    let app = spawn_app().await;
    let response = app
        .get("/oauth2/authorize?client_id=sandbox-app&client_id=x&redirect_uri=http://localhost/cb")
        .await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn post_form_authorize_works_like_get() {
    let app = spawn_app().await;
    let response = app
        .post_form(
            "/oauth2/authorize",
            &[
                ("client_id", "sandbox-app"),
                ("redirect_uri", "http://localhost/cb"),
                ("scope", "patient/*.read"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let start = app
        .get(response.headers()["location"].to_str().unwrap())
        .await;
    assert_eq!(start.status(), 200);
}

#[tokio::test]
async fn strict_mode_requires_response_type_aud_and_pkce_and_refuses_localhost_apps() {
    let app = spawn_with(|s| s.strict = true).await;
    let (error, _) = error_redirect(
        &app,
        "client_id=sandbox-app&redirect_uri=http://localhost/cb",
    )
    .await;
    assert_eq!(error, "invalid_request");
    let base = app.fhir_base();
    let (error, _) = error_redirect(
        &app,
        &serde_urlencoded::to_string([
            ("client_id", "sandbox-app"),
            ("redirect_uri", "http://localhost/cb"),
            ("response_type", "code"),
            ("aud", base.as_str()),
        ])
        .unwrap(),
    )
    .await;
    assert_eq!(error, "invalid_request", "PKCE required");
    let full = serde_urlencoded::to_string([
        ("client_id", "sandbox-app"),
        ("redirect_uri", "http://localhost/cb"),
        ("response_type", "code"),
        ("aud", base.as_str()),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    assert_eq!(
        app.get(&format!("/oauth2/authorize?{full}")).await.status(),
        303
    );
    let registration = app
        .post_json(
            "/oauth2/register",
            serde_json::json!({"client_name": "L", "redirect_uris": ["http://localhost:3000/cb"]}),
        )
        .await;
    assert_eq!(registration.status(), 400);
    let body: serde_json::Value = registration.json().await.unwrap();
    assert_eq!(body["error"], "invalid_redirect_uri");
}

#[tokio::test]
async fn loopback_redirects_match_any_port() {
    let app = spawn_app().await;
    let client: serde_json::Value = app
        .post_json("/oauth2/register", serde_json::json!({"client_name": "Loop", "redirect_uris": ["http://127.0.0.1/callback"]}))
        .await
        .json()
        .await
        .unwrap();
    let id = client["client_id"].as_str().unwrap();
    let ok = app
        .get(&format!(
            "/oauth2/authorize?client_id={id}&redirect_uri=http://127.0.0.1:49152/callback"
        ))
        .await;
    assert_eq!(ok.status(), 303);
    let other_path = app
        .get(&format!(
            "/oauth2/authorize?client_id={id}&redirect_uri=http://127.0.0.1:49152/other"
        ))
        .await;
    assert_eq!(other_path.status(), 400);
}

#[tokio::test]
async fn registration_validates_redirect_uris() {
    let app = spawn_app().await;
    for uris in [
        serde_json::json!([]),
        serde_json::json!(["not a url"]),
        serde_json::json!(["https://a.example/cb#x"]),
        serde_json::json!(["custom://cb"]),
    ] {
        let response = app
            .post_json(
                "/oauth2/register",
                serde_json::json!({"client_name": "X", "redirect_uris": uris}),
            )
            .await;
        assert_eq!(response.status(), 400, "{uris}");
    }
    let response = app
        .client
        .post(app.at("/oauth2/register"))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

/// OpenID Connect Core §3.1.2.1 and §3.1.2.6: `prompt=none` may show no page, and the sandbox
/// keeps no sign-in session, so it redirects with `login_required` and the `state`; `login`,
/// `consent`, `select_account` and a valid `max_age` go on to the sign-in pages; malformed
/// values are `invalid_request`.
#[tokio::test]
async fn prompt_none_is_login_required_and_the_other_prompts_sign_in() {
    let app = spawn_app().await;
    let base = "client_id=sandbox-app&redirect_uri=http://localhost/cb&scope=openid%20patient/*.read&state=s1";
    assert_eq!(
        error_redirect(&app, &format!("{base}&prompt=none")).await,
        ("login_required".to_owned(), Some("s1".to_owned()))
    );
    for bad in [
        "prompt=none%20login",
        "prompt=sometimes",
        "max_age=-1",
        "max_age=soon",
    ] {
        assert_eq!(
            error_redirect(&app, &format!("{base}&{bad}")).await,
            ("invalid_request".to_owned(), Some("s1".to_owned())),
            "{bad}"
        );
    }
    for fine in [
        "prompt=login",
        "prompt=consent",
        "prompt=login%20consent",
        "prompt=select_account",
        "max_age=0",
        "max_age=3600",
    ] {
        let response = app
            .get(&format!("/oauth2/authorize/test?{base}&{fine}"))
            .await;
        assert_eq!(response.status(), 303, "{fine}");
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/oauth2/login/"), "{fine}: {location}");
    }
}
