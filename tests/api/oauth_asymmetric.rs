//! `private_key_jwt` (SMART `client-confidential-asymmetric`, docs/apps.md#asymmetric-client-authentication):
//! apps registered with a JWKS by value or by `jwks_uri` authenticate with a signed assertion
//! (RS384 or ES384); each broken rule is a named `invalid_client`; the keys at a `jwks_uri` are
//! fetched with limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use payer_sandbox::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{JASON, TestApp, spawn_embedded_with_clock, spawn_with_clock};

const RS384_PEM: &str = include_str!("../fixtures/client-rs384.pem");
const ES384_PEM: &str = include_str!("../fixtures/client-es384.pem");
const JWKS: &str = include_str!("../fixtures/client-jwks.json");
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn jwks() -> Value {
    serde_json::from_str(JWKS).unwrap()
}

/// The instant the test server's clock is frozen at: the client signs by the same time.
const NOW: i64 = 1_900_000_000;

fn now() -> i64 {
    NOW
}

/// A server whose clock stands still at `NOW` (offset 0: real time and sandbox time agree).
async fn spawn_app() -> TestApp {
    let at = time::OffsetDateTime::from_unix_timestamp(NOW).unwrap();
    spawn_with_clock(Arc::new(Clock::frozen(at)), |_| {}).await
}

/// `spawn_app` in embedded mode in every run: the open portal is embedded mode's.
async fn spawn_embedded_app() -> TestApp {
    let at = time::OffsetDateTime::from_unix_timestamp(NOW).unwrap();
    spawn_embedded_with_clock(Arc::new(Clock::frozen(at)), |_| {}).await
}

/// An assertion as a SMART client makes one, with `patch` applied to the claims (`null`
/// removes a claim).
fn assertion(app: &TestApp, client_id: &str, alg: Algorithm, patch: Value) -> String {
    let mut claims = json!({
        "iss": client_id, "sub": client_id, "aud": app.at("/oauth2/token"),
        "exp": now() + 240, "iat": now(),
        "jti": format!("jti-{}-{}", now(), rand_suffix()),
    });
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    let (key, kid) = match alg {
        Algorithm::ES384 => (
            EncodingKey::from_ec_pem(ES384_PEM.as_bytes()).unwrap(),
            "test-es384",
        ),
        _ => (
            EncodingKey::from_rsa_pem(RS384_PEM.as_bytes()).unwrap(),
            "test-rs384",
        ),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

/// A fresh `jti` per assertion.
fn rand_suffix() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

async fn register(app: &TestApp, keys: Value) -> Value {
    let mut body = json!({"client_name": "Asymmetric", "redirect_uris": ["https://a.example/cb"],
        "token_endpoint_auth_method": "private_key_jwt"});
    body.as_object_mut()
        .unwrap()
        .extend(keys.as_object().unwrap().clone());
    app.register(body).await
}

async fn exchange(app: &TestApp, code: &str, assertion: &str) -> reqwest::Response {
    app.post_form(
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
    )
    .await
}

async fn refused(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or("").to_owned(),
        body["error_description"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn an_app_with_a_registered_jwks_authenticates_with_rs384_and_es384() {
    let app = spawn_app().await;
    let client = register(&app, json!({"jwks": jwks()})).await;
    assert_eq!(client["token_endpoint_auth_method"], "private_key_jwt");
    assert!(client.get("client_secret").is_none(), "no secret: {client}");
    let id = client["client_id"].as_str().unwrap();

    let code = app
        .headless_code(id, JASON, json!({"scope": "patient/*.read"}))
        .await;
    let signed = assertion(&app, id, Algorithm::RS384, json!({}));
    let tokens = exchange(&app, &code, &signed).await;
    assert_eq!(tokens.status(), 200);
    let tokens: Value = tokens.json().await.unwrap();

    // The same assertion again is a replay, whatever it is used for.
    let refresh = |assertion: String| {
        let app = &app;
        let token = tokens["refresh_token"].as_str().unwrap().to_owned();
        async move {
            app.post_form(
                "/oauth2/token",
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &token),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &assertion),
                ],
            )
            .await
        }
    };
    let (status, error, description) = refused(refresh(signed.clone()).await).await;
    assert_eq!((status, error.as_str()), (401, "invalid_client"));
    assert!(
        description.contains("jti was already used"),
        "{description}"
    );
    let es = assertion(&app, id, Algorithm::ES384, json!({}));
    assert_eq!(refresh(es).await.status(), 200);

    // The request log names the method.
    let log: Vec<Value> = app.get("/sandbox/api/requests").await.json().await.unwrap();
    assert!(log.iter().any(|e| e["client_auth"] == "private_key_jwt"));
}

#[tokio::test]
async fn each_broken_rule_is_a_named_invalid_client_and_never_a_5xx() {
    let app = spawn_app().await;
    let client = register(&app, json!({"jwks": jwks()})).await;
    let id = client["client_id"].as_str().unwrap();
    let cases = [
        (
            json!({"aud": "https://elsewhere.example/token"}),
            "aud must be the token endpoint",
        ),
        (json!({"exp": now() - 10}), "expired"),
        (json!({"exp": now() + 3600}), "more than 300 s ahead"),
        (json!({"iat": now() + 900}), "iat is in the future"),
        (json!({"sub": "someone-else"}), "sub must be the client_id"),
        (json!({"jti": null}), "no jti"),
    ];
    for (patch, expected) in cases {
        let code = app.headless_code(id, JASON, json!({})).await;
        let signed = assertion(&app, id, Algorithm::RS384, patch.clone());
        let (status, error, description) = refused(exchange(&app, &code, &signed).await).await;
        assert_eq!((status, error.as_str()), (401, "invalid_client"), "{patch}");
        assert!(description.contains(expected), "{patch}: {description}");
    }
    let code = app.headless_code(id, JASON, json!({})).await;
    for garbage in ["not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."] {
        let (status, _, _) = refused(exchange(&app, &code, garbage).await).await;
        assert!((400..500).contains(&status), "{garbage}: {status}");
    }
    // Two methods at once.
    let signed = assertion(&app, id, Algorithm::RS384, json!({}));
    let both = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &signed),
                ("client_secret", "x"),
            ],
        )
        .await;
    assert_eq!(refused(both).await.1, "invalid_request");
    let report: Value = app
        .get(&format!("/sandbox/api/report?client_id={id}"))
        .await
        .json()
        .await
        .unwrap();
    let check = &report["checks"]["one_client_auth_method"];
    assert_eq!(check["status"], "not_met", "{check}");
    assert_eq!(check["offending"].as_array().unwrap().len(), 1, "{check}");
    // A secret-based app cannot use an assertion, nor this app a secret.
    let built_in = assertion(&app, "sandbox-app", Algorithm::RS384, json!({}));
    let (_, error, description) = refused(exchange(&app, &code, &built_in).await).await;
    assert_eq!(error, "invalid_client");
    assert!(
        description.contains("registered no public keys"),
        "{description}"
    );
    let with_secret = app.exchange_code_as(&code, id, "anything").await;
    let (_, _, description) = refused(with_secret).await;
    assert!(description.contains("private_key_jwt"), "{description}");
}

#[tokio::test]
async fn registration_rules_for_keys() {
    let app = spawn_app().await;
    for (body, expected) in [
        (
            json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
            "needs the app's public keys",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "client_secret_basic", "jwks": jwks()}),
            "are for private_key_jwt",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "jwks": jwks(), "jwks_uri": "https://a.example/jwks"}),
            "must not both be given",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "jwks": {"keys": [{"kty": "RSA"}]}}),
            "jwks",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "jwks_uri": "ftp://a.example/jwks"}),
            "http or https",
        ),
    ] {
        let response = app.post_json("/oauth2/register", body.clone()).await;
        let (status, error, description) = refused(response).await;
        assert_eq!(
            (status, error.as_str()),
            (400, "invalid_client_metadata"),
            "{body}"
        );
        assert!(description.contains(expected), "{body}: {description}");
    }
    let smart: Value = app
        .get("/.well-known/smart-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        smart["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("private_key_jwt"))
    );
    assert_eq!(
        smart["token_endpoint_auth_signing_alg_values_supported"],
        json!(["RS384", "ES384"])
    );
}

/// A local server for the app's keys: the JWKS, one too large, and a redirect to another host.
async fn key_server() -> String {
    use axum::Router;
    use axum::response::Redirect;
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = Router::new()
        .route("/jwks.json", get(|| async { axum::Json(jwks()) }))
        .route("/huge.json", get(|| async { "x".repeat(200 * 1024) }))
        .route(
            "/elsewhere",
            get(move || async move {
                Redirect::temporary(&format!("http://localhost:{port}/jwks.json"))
            }),
        )
        .route(
            "/same-host",
            get(move || async move {
                Redirect::temporary(&format!("http://127.0.0.1:{port}/jwks.json"))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn keys_at_a_jwks_uri_are_fetched_with_limits() {
    let app = spawn_app().await;
    let keys = key_server().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        format!("http://127.0.0.1:{port}/jwks.json")
    };
    for (uri, expected) in [
        (format!("{keys}/jwks.json"), None),
        (format!("{keys}/same-host"), None),
        (format!("{keys}/huge.json"), Some("larger than 64 KiB")),
        (
            format!("{keys}/elsewhere"),
            Some("redirects to another host"),
        ),
        (format!("{keys}/missing"), Some("answered 404")),
        (closed, Some("could not be reached")),
    ] {
        let client = register(&app, json!({"jwks_uri": uri})).await;
        assert_eq!(client["jwks_uri"], uri.as_str());
        let id = client["client_id"].as_str().unwrap();
        let code = app.headless_code(id, JASON, json!({})).await;
        let signed = assertion(&app, id, Algorithm::ES384, json!({}));
        let response = exchange(&app, &code, &signed).await;
        match expected {
            None => assert_eq!(response.status(), 200, "{uri}"),
            Some(expected) => {
                let (status, error, description) = refused(response).await;
                assert_eq!((status, error.as_str()), (401, "invalid_client"), "{uri}");
                assert!(description.contains(expected), "{uri}: {description}");
            }
        }
    }
}

/// A client signs by its own clock: advancing the sandbox clock (to expire tokens) does not make
/// its assertions look expired, since their times are compared with real time.
#[tokio::test]
async fn an_advanced_sandbox_clock_does_not_expire_a_fresh_assertion() {
    let at = time::OffsetDateTime::from_unix_timestamp(NOW).unwrap();
    let clock = Arc::new(Clock::frozen(at));
    let app = spawn_with_clock(clock.clone(), |_| {}).await;
    let client = register(&app, json!({"jwks": jwks()})).await;
    let id = client["client_id"].as_str().unwrap();
    clock.advance(7200);
    let code = app.headless_code(id, JASON, json!({})).await;
    let signed = assertion(&app, id, Algorithm::RS384, json!({}));
    assert_eq!(exchange(&app, &code, &signed).await.status(), 200);
}

/// The portal registers an asymmetric app from a pasted JWK Set or a URL, and says why when the
/// keys are missing or not a JWK Set.
#[tokio::test]
async fn the_portal_registers_asymmetric_apps() {
    let app = spawn_embedded_app().await;
    let page = app.get("/portal").await.text().await.unwrap();
    let csrf = crate::helpers::hidden_input(&page, "csrf_token").unwrap();
    let jwks_text = jwks().to_string();
    let post = |keys: String| {
        let app = &app;
        let csrf = csrf.clone();
        async move {
            app.post_form(
                "/portal/apps",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("name", "Portal Asymmetric"),
                    ("redirect_uris", "https://p.example/cb"),
                    ("app_type", "asymmetric"),
                    ("keys", keys.as_str()),
                ],
            )
            .await
        }
    };
    let created = post(jwks_text.clone()).await;
    assert_eq!(created.status(), 201);
    let html = created.text().await.unwrap();
    assert!(!html.contains("id=\"client_secret\""), "no secret is shown");
    let client_id = html
        .split("id=\"client_id\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let code = app.headless_code(&client_id, JASON, json!({})).await;
    let signed = assertion(&app, &client_id, Algorithm::RS384, json!({}));
    assert_eq!(exchange(&app, &code, &signed).await.status(), 200);

    assert_eq!(
        post("https://p.example/jwks.json".to_owned())
            .await
            .status(),
        201
    );
    for bad in ["", "{not json", r#"{"keys": []}"#] {
        assert_eq!(post(bad.to_owned()).await.status(), 400, "{bad:?}");
    }
}
