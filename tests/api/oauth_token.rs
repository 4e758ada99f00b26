//! The token endpoint (docs/oauth.md#codes-and-tokens): code binding, PKCE, replay, expiry on the sandbox clock,
//! client authentication, refresh, id_token, and the introspection/revocation/userinfo endpoints.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde_json::{Value, json};

use crate::helpers::{JASON, TestApp, spawn_app, spawn_with_clock, strings};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A server whose clock stands still unless a test moves it: the boundary tests below check the
/// second before and the second of an expiry, which a wall clock could tick past between two
/// requests.
async fn spawn_on_a_frozen_clock() -> TestApp {
    let at = time::OffsetDateTime::from_unix_timestamp(1_893_456_000).unwrap();
    spawn_with_clock(
        std::sync::Arc::new(payer_sandbox::clock::Clock::frozen(at)),
        |_| {},
    )
    .await
}

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert!(body["error_description"].is_string());
    (status, body["error"].as_str().unwrap().to_owned())
}

async fn pkce_code(app: &TestApp) -> String {
    app.headless_code(
        "sandbox-public-app",
        JASON,
        json!({"code_challenge": CHALLENGE, "code_challenge_method": "S256"}),
    )
    .await
}

async fn public_exchange(app: &TestApp, code: &str, verifier: Option<&str>) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", "sandbox-public-app"),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    app.post_form("/oauth2/token", &form).await
}

#[tokio::test]
async fn missing_and_wrong_verifiers_are_invalid_grant() {
    let app = spawn_app().await;
    let code = pkce_code(&app).await;
    assert_eq!(
        error_of(public_exchange(&app, &code, None).await).await,
        (400, "invalid_grant".into())
    );
    let code = pkce_code(&app).await;
    let wrong = "x".repeat(43);
    assert_eq!(
        error_of(public_exchange(&app, &code, Some(&wrong)).await).await,
        (400, "invalid_grant".into())
    );
    let code = pkce_code(&app).await;
    assert_eq!(
        public_exchange(&app, &code, Some(VERIFIER)).await.status(),
        200
    );
}

#[tokio::test]
async fn a_verifier_without_a_challenge_is_refused() {
    let app = spawn_app().await;
    let code = app.headless_code("sandbox-app", JASON, json!({})).await;
    let response = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "sandbox-app"),
                ("client_secret", "sandbox-secret"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(error_of(response).await.1, "invalid_grant");
}

#[tokio::test]
async fn code_replay_fails_and_revokes_the_tokens_it_issued() {
    let app = spawn_app().await;
    let code = app
        .headless_code("sandbox-app", JASON, json!({"scope": "patient/*.read"}))
        .await;
    let first: Value = app.exchange_code(&code).await.json().await.unwrap();
    let access = first["access_token"].as_str().unwrap();
    let patient = format!("/r4/Patient/{}", first["patient"].as_str().unwrap());
    assert_eq!(app.get_with_token(&patient, access).await.status(), 200);

    assert_eq!(
        error_of(app.exchange_code(&code).await).await,
        (400, "invalid_grant".into())
    );
    assert_eq!(
        app.get_with_token(&patient, access).await.status(),
        401,
        "revoked by the replay"
    );
    let refresh = app.refresh(first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        error_of(refresh).await.1,
        "invalid_grant",
        "the refresh token went too"
    );
}

#[tokio::test]
async fn a_code_used_after_301_seconds_has_expired() {
    let app = spawn_on_a_frozen_clock().await;
    let code = app.headless_code("sandbox-app", JASON, json!({})).await;
    app.advance_clock(301).await;
    assert_eq!(
        error_of(app.exchange_code(&code).await).await,
        (400, "invalid_grant".into())
    );
    let fresh = app.headless_code("sandbox-app", JASON, json!({})).await;
    app.advance_clock(299).await;
    assert_eq!(
        app.exchange_code(&fresh).await.status(),
        200,
        "still alive at 299 s"
    );
}

#[tokio::test]
async fn access_tokens_expire_on_the_sandbox_clock() {
    let app = spawn_on_a_frozen_clock().await;
    let token = app.login(JASON, "patient/*.read").await;
    let patient = format!("/r4/Patient/{}", token["patient"].as_str().unwrap());
    let access = token["access_token"].as_str().unwrap();
    app.advance_clock(3599).await;
    assert_eq!(app.get_with_token(&patient, access).await.status(), 200);
    app.advance_clock(1).await;
    assert_eq!(app.get_with_token(&patient, access).await.status(), 401);
}

#[tokio::test]
async fn wrong_client_secret_in_body_or_basic_is_invalid_client() {
    let app = spawn_app().await;
    let code = app.headless_code("sandbox-app", JASON, json!({})).await;
    let body = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "sandbox-app"),
                ("client_secret", "wrong"),
            ],
        )
        .await;
    assert!(body.headers().get("www-authenticate").is_none());
    assert_eq!(error_of(body).await, (401, "invalid_client".into()));

    let basic = app
        .client
        .post(app.at("/oauth2/token"))
        .basic_auth("sandbox-app", Some("wrong"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        basic.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(error_of(basic).await, (401, "invalid_client".into()));

    let missing = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "sandbox-app"),
            ],
        )
        .await;
    assert_eq!(error_of(missing).await.1, "invalid_client");
}

#[tokio::test]
async fn http_basic_client_authentication_works() {
    let app = spawn_app().await;
    let code = app.headless_code("sandbox-app", JASON, json!({})).await;
    let response = app
        .client
        .post(app.at("/oauth2/token"))
        .basic_auth("sandbox-app", Some("sandbox-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn auth_schemes_are_case_insensitive() {
    // RFC 9110 §11.1: `BASIC` and `bAsIc` are the Basic scheme, `BEARER` the Bearer one.
    let app = spawn_app().await;
    let credentials =
        base64::engine::general_purpose::STANDARD.encode("sandbox-app:sandbox-secret");
    let mut token = Value::Null;
    for scheme in ["BASIC", "bAsIc"] {
        let code = app.headless_code("sandbox-app", JASON, json!({})).await;
        let response = app
            .client
            .post(app.at("/oauth2/token"))
            .header("authorization", format!("{scheme} {credentials}"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
        token = response.json().await.unwrap();
    }
    let patient_id = token["patient"].as_str().unwrap();
    let access_token = token["access_token"].as_str().unwrap();
    let read = app
        .client
        .get(app.at(&format!("/r4/Patient/{patient_id}")))
        .header("authorization", format!("BEARER {access_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let patient: Value = read.json().await.unwrap();
    assert_eq!(patient["resourceType"], "Patient");
    assert_eq!(patient["id"], patient_id);
}

#[tokio::test]
async fn codes_are_bound_to_client_and_redirect_uri() {
    let app = spawn_app().await;
    let code = pkce_code(&app).await;
    let stolen = app.exchange_code(&code).await;
    assert_eq!(
        error_of(stolen).await.1,
        "invalid_grant",
        "issued to another client"
    );

    let code = app
        .headless_code(
            "sandbox-app",
            JASON,
            json!({"redirect_uri": "http://localhost:8000/cb"}),
        )
        .await;
    let response = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "sandbox-app"),
                ("client_secret", "sandbox-secret"),
                ("redirect_uri", "http://localhost:8000/other"),
            ],
        )
        .await;
    assert_eq!(error_of(response).await.1, "invalid_grant");
}

#[tokio::test]
async fn redirect_uri_sent_at_authorize_must_match_if_sent_again() {
    let app = spawn_app().await;
    let attempt = crate::helpers::Attempt::start(
        &app,
        "client_id=sandbox-app&redirect_uri=http://localhost:7000/cb",
    )
    .await;
    let location = attempt.approve_as_jason("bind@example.com").await;
    let code = crate::helpers::query_param(&location, "code").unwrap();
    let response = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "sandbox-app"),
                ("client_secret", "sandbox-secret"),
                ("redirect_uri", "http://localhost:7001/cb"),
            ],
        )
        .await;
    assert_eq!(error_of(response).await.1, "invalid_grant");
}

#[tokio::test]
async fn unsupported_grant_types_and_malformed_requests() {
    let app = spawn_app().await;
    let password = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "password"),
                ("client_id", "sandbox-app"),
                ("client_secret", "sandbox-secret"),
            ],
        )
        .await;
    assert_eq!(
        error_of(password).await,
        (400, "unsupported_grant_type".into())
    );
    let json_body = app
        .post_json("/oauth2/token", json!({"grant_type": "authorization_code"}))
        .await;
    assert_eq!(error_of(json_body).await, (400, "invalid_request".into()));
    let no_grant = app
        .post_form("/oauth2/token", &[("client_id", "sandbox-app")])
        .await;
    assert_eq!(error_of(no_grant).await.1, "invalid_request");
    let unknown = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", "0123"),
                ("client_id", "sandbox-app"),
                ("client_secret", "sandbox-secret"),
            ],
        )
        .await;
    assert_eq!(error_of(unknown).await.1, "invalid_grant");
}

/// The built-in public app's tokens for Jason, by PKCE: the start of every rotation test.
async fn public_tokens(app: &TestApp) -> Value {
    let code = pkce_code(app).await;
    public_exchange(app, &code, Some(VERIFIER))
        .await
        .json()
        .await
        .unwrap()
}

async fn refresh(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    let mut full = vec![("grant_type", "refresh_token")];
    full.extend_from_slice(form);
    app.post_form("/oauth2/token", &full).await
}

#[tokio::test]
async fn public_refresh_tokens_rotate_confidential_ones_do_not() {
    let app = spawn_app().await;
    let token = public_tokens(&app).await;
    let first = token["refresh_token"].as_str().unwrap();
    let rotated: Value = refresh(
        &app,
        &[
            ("refresh_token", first),
            ("client_id", "sandbox-public-app"),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    let second = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(first, second);
    assert_eq!(
        refresh(
            &app,
            &[
                ("refresh_token", second),
                ("client_id", "sandbox-public-app")
            ]
        )
        .await
        .status(),
        200,
        "the newest refresh token works (and rotates again)"
    );

    let confidential = app.login(JASON, "patient/*.read").await;
    let rt = confidential["refresh_token"].as_str().unwrap();
    let creds = [
        ("client_id", "sandbox-app"),
        ("client_secret", "sandbox-secret"),
    ];
    for _ in 0..2 {
        let mut form = vec![("refresh_token", rt)];
        form.extend_from_slice(&creds);
        let again: Value = refresh(&app, &form).await.json().await.unwrap();
        assert_eq!(again["refresh_token"], rt);
        assert_eq!(again["patient"], confidential["patient"]);
    }
}

/// RFC 9700 §4.14.2: a rotated refresh token presented again is treated as stolen: the request
/// fails, and every token of the same authorization (the newest refresh token, the access tokens)
/// stops working, with or without client_id in the request.
#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_its_whole_family() {
    for with_client_id in [true, false] {
        let app = spawn_app().await;
        let token = public_tokens(&app).await;
        let first = token["refresh_token"].as_str().unwrap();
        let mut form = vec![("refresh_token", first)];
        if with_client_id {
            form.push(("client_id", "sandbox-public-app"));
        }
        let rotated: Value = refresh(&app, &form).await.json().await.unwrap();
        let second = rotated["refresh_token"].as_str().unwrap();
        let access = rotated["access_token"].as_str().unwrap();
        let patient = format!("/r4/Patient/{}", rotated["patient"].as_str().unwrap());
        assert_eq!(app.get_with_token(&patient, access).await.status(), 200);

        let replay = refresh(&app, &form).await;
        let body: Value = replay.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant", "{with_client_id}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("already used"),
            "{body}"
        );
        assert_eq!(
            app.get_with_token(&patient, access).await.status(),
            401,
            "the access token issued after the replayed one is revoked ({with_client_id})"
        );
        let mut newest = vec![("refresh_token", second)];
        if with_client_id {
            newest.push(("client_id", "sandbox-public-app"));
        }
        assert_eq!(
            refresh(&app, &newest).await.status(),
            if with_client_id { 400 } else { 401 },
            "the newest refresh token is revoked too ({with_client_id})"
        );
        assert_eq!(
            app.get_with_token(&patient, token["access_token"].as_str().unwrap())
                .await
                .status(),
            401
        );
    }
}

/// RFC 6749 §2.3: a client uses one authentication method per request. HTTP Basic next to a
/// client_secret in the body is refused, whether the body's secret is wrong or right, at the
/// token, introspection and revocation endpoints; each method alone works, and the request log
/// records which one was used.
#[tokio::test]
async fn two_client_authentication_methods_in_one_request_are_refused() {
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("sandbox-app:sandbox-secret")
    );
    let app = spawn_app().await;
    let tokens = app.login(JASON, "patient/*.read").await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    for body_secret in ["WRONG", "sandbox-secret"] {
        let code = app.headless_code("sandbox-app", JASON, json!({})).await;
        let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                "/oauth2/token",
                vec![
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("client_secret", body_secret),
                ],
            ),
            (
                "/oauth2/token",
                vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                    ("client_secret", body_secret),
                ],
            ),
            (
                "/oauth2/introspect",
                vec![("token", &access), ("client_secret", body_secret)],
            ),
            (
                "/oauth2/revoke",
                vec![("token", &access), ("client_secret", body_secret)],
            ),
        ];
        for (path, form) in forms {
            let response = app
                .client
                .post(app.at(path))
                .header("authorization", &basic)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{path} with {body_secret}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "invalid_request", "{path}");
            assert!(
                body["error_description"]
                    .as_str()
                    .unwrap()
                    .contains("authenticated twice"),
                "{body}"
            );
        }
        // The code was not redeemed by the refused request: Basic alone still exchanges it.
        let alone = app
            .client
            .post(app.at("/oauth2/token"))
            .header("authorization", &basic)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(alone.status(), 200);
    }
    assert_eq!(
        app.get_with_token("/r4/Coverage", &access).await.status(),
        200,
        "the refused revocations revoked nothing"
    );
    let log: Vec<Value> = app
        .get("/sandbox/api/requests?path=/oauth2/token")
        .await
        .json()
        .await
        .unwrap();
    let methods: Vec<&str> = log
        .iter()
        .filter_map(|e| e["client_auth"].as_str())
        .collect();
    assert!(methods.contains(&"client_secret_post"), "{methods:?}");
    assert!(methods.contains(&"client_secret_basic"), "{methods:?}");
    // The report names every request that carried both.
    let report: Value = app
        .get("/sandbox/api/report?client_id=sandbox-app")
        .await
        .json()
        .await
        .unwrap();
    let check = &report["checks"]["one_client_auth_method"];
    assert_eq!(check["status"], "not_met", "{report}");
    assert_eq!(check["offending"].as_array().unwrap().len(), 8, "{check}");
}

/// SMART client-js refreshes a public app's token with `grant_type` and `refresh_token` alone:
/// the refresh token names its client, in the request log and the report too. A confidential
/// app must still authenticate.
#[tokio::test]
async fn a_public_app_may_refresh_without_client_id() {
    let app = spawn_app().await;
    let token = public_tokens(&app).await;
    let first = token["refresh_token"].as_str().unwrap();
    let response = refresh(&app, &[("refresh_token", first)]).await;
    assert_eq!(response.status(), 200);
    let rotated: Value = response.json().await.unwrap();
    assert_eq!(rotated["patient"], token["patient"]);
    assert_ne!(rotated["refresh_token"], first, "still rotates");
    let logged: Vec<Value> = app.get("/sandbox/api/requests").await.json().await.unwrap();
    let last = logged.last().unwrap();
    assert_eq!(
        (&last["grant_type"], &last["client_id"]),
        (&json!("refresh_token"), &json!("sandbox-public-app"))
    );
    let report: Value = app
        .get("/sandbox/api/report?client_id=sandbox-public-app")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["checks"]["token_refresh"]["status"], "met");
    assert_eq!(
        error_of(refresh(&app, &[("refresh_token", first)]).await)
            .await
            .1,
        "invalid_grant",
        "a rotated refresh token presented again is reuse (RFC 9700 §4.14.2)"
    );

    let confidential = app.login(JASON, "patient/*.read").await;
    let rt = confidential["refresh_token"].as_str().unwrap();
    assert_eq!(
        error_of(refresh(&app, &[("refresh_token", rt)]).await).await,
        (401, "invalid_client".into())
    );
}

#[tokio::test]
async fn refresh_may_narrow_but_not_widen_scope_and_is_bound_to_its_client() {
    let app = spawn_app().await;
    let token = app
        .login(
            JASON,
            "patient/ExplanationOfBenefit.read patient/Patient.read",
        )
        .await;
    let rt = token["refresh_token"].as_str().unwrap();
    let creds = [
        ("refresh_token", rt),
        ("client_id", "sandbox-app"),
        ("client_secret", "sandbox-secret"),
    ];
    let mut wider = creds.to_vec();
    wider.push(("scope", "patient/*.read"));
    assert_eq!(
        error_of(refresh(&app, &wider).await).await,
        (400, "invalid_scope".into())
    );
    let mut narrower = creds.to_vec();
    narrower.push(("scope", "patient/Patient.read"));
    let narrowed: Value = refresh(&app, &narrower).await.json().await.unwrap();
    assert_eq!(narrowed["scope"], "patient/Patient.read");

    let other: Value = app
        .register(json!({"client_name": "Other", "redirect_uris": ["https://o.example/cb"]}))
        .await;
    let stolen = refresh(
        &app,
        &[
            ("refresh_token", rt),
            ("client_id", other["client_id"].as_str().unwrap()),
            ("client_secret", other["client_secret"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(error_of(stolen).await.1, "invalid_grant");
}

#[tokio::test]
async fn id_token_verifies_against_the_published_jwks() {
    let app = spawn_app().await;
    let code = app
        .headless_code(
            "sandbox-app",
            JASON,
            json!({"scope": "openid fhirUser patient/*.read", "nonce": "n-0S6_WzA2Mj"}),
        )
        .await;
    let token: Value = app.exchange_code(&code).await.json().await.unwrap();
    let id_token = token["id_token"].as_str().unwrap();

    let config: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    let jwks_uri = config["jwks_uri"].as_str().unwrap();
    assert!(jwks_uri.starts_with(&app.url));
    let jwks: Value = app
        .client
        .get(jwks_uri)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .unwrap();
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["sandbox-app"]);
    validation.set_issuer(&[config["issuer"].as_str().unwrap()]);
    let claims = decode::<Value>(id_token, &key, &validation).unwrap().claims;
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(
        claims["fhirUser"],
        format!(
            "{}/Patient/{}",
            app.fhir_base(),
            token["patient"].as_str().unwrap()
        )
    );
    assert_eq!(claims["iss"], app.url);
    assert!(claims["iat"].is_i64() && claims["exp"].is_i64() && claims["sub"].is_string());

    let forged = format!("{}x", &id_token[..id_token.len() - 1]);
    assert!(decode::<Value>(&forged, &key, &validation).is_err());
    let payload = id_token.split('.').nth(1).unwrap();
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    assert!(String::from_utf8(decoded).unwrap().contains("fhirUser"));
}

#[tokio::test]
async fn introspection_revocation_and_userinfo() {
    let app = spawn_app().await;
    let token = app.login(JASON, "openid fhirUser patient/*.read").await;
    let access = token["access_token"].as_str().unwrap();
    let creds = [
        ("client_id", "sandbox-app"),
        ("client_secret", "sandbox-secret"),
    ];
    let mut form = vec![("token", access)];
    form.extend_from_slice(&creds);
    let active: Value = app
        .post_form("/oauth2/introspect", &form)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(active["active"], true);
    assert_eq!(active["patient"], token["patient"]);
    assert_eq!(active["scope"], "openid fhirUser patient/*.read");

    let info = app.get_with_token("/oauth2/userinfo", access).await;
    assert_eq!(info.status(), 200);
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["family_name"], "Argonaut");

    let unauthenticated = app
        .post_form("/oauth2/introspect", &[("token", access)])
        .await;
    assert_eq!(unauthenticated.status(), 401);

    assert_eq!(app.post_form("/oauth2/revoke", &form).await.status(), 200);
    let inactive: Value = app
        .post_form("/oauth2/introspect", &form)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inactive, json!({"active": false}));
    let gone = app.get_with_token("/oauth2/userinfo", access).await;
    assert_eq!(gone.status(), 401);
    assert!(
        gone.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    let no_openid = app.token(JASON, "patient/*.read").await;
    assert_eq!(
        app.get_with_token("/oauth2/userinfo", &no_openid)
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn discovery_documents_list_the_patient_and_user_carin_scopes() {
    let app = spawn_app().await;
    for path in [
        "/.well-known/smart-configuration",
        "/r4/.well-known/smart-configuration",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let doc: Value = app.get(path).await.json().await.unwrap();
        let scopes = strings(&doc["scopes_supported"]);
        for resource_type in [
            "ExplanationOfBenefit",
            "Coverage",
            "Patient",
            "Organization",
            "Practitioner",
        ] {
            for context in ["patient", "user"] {
                let scope = format!("{context}/{resource_type}.read");
                assert!(scopes.contains(&scope.as_str()), "{path}: {scope}");
            }
        }
    }
}

#[tokio::test]
async fn discovery_documents_are_absolute_and_complete() {
    let app = spawn_app().await;
    for path in [
        "/.well-known/smart-configuration",
        "/r4/.well-known/smart-configuration",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200);
        let doc: Value = response.json().await.unwrap();
        for key in [
            "authorization_endpoint",
            "token_endpoint",
            "registration_endpoint",
            "jwks_uri",
            "introspection_endpoint",
            "revocation_endpoint",
        ] {
            let url = doc[key].as_str().unwrap();
            assert!(url.starts_with(&app.url), "{key}: {url}");
            let probe = app.client.get(url).send().await.unwrap();
            assert_ne!(probe.status(), 404, "{key} is served");
        }
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        // Exactly what the server supports, each proved by its own test: the standalone
        // launch with PKCE, authorize by POST (oauth_authorize), public and secret clients,
        // OpenID Connect, the patient context, refresh tokens for offline and online access,
        // patient/ and user/ scopes, v1 and v2 scope syntax (oauth_token, fhir_isolation).
        let mut capabilities = strings(&doc["capabilities"]);
        capabilities.sort_unstable();
        assert_eq!(
            capabilities,
            [
                "authorize-post",
                "client-confidential-asymmetric",
                "client-confidential-symmetric",
                "client-public",
                "context-standalone-patient",
                "launch-standalone",
                "permission-offline",
                "permission-online",
                "permission-patient",
                "permission-user",
                "permission-v1",
                "permission-v2",
                "sso-openid-connect",
            ]
        );
        let scopes = doc["scopes_supported"].as_array().unwrap();
        for s in [
            "openid",
            "fhirUser",
            "launch/patient",
            "offline_access",
            "patient/ExplanationOfBenefit.read",
            "patient/Coverage.read",
            "patient/Patient.read",
        ] {
            assert!(scopes.contains(&json!(s)), "{s}");
        }
    }
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.at("/oauth2/token"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn an_app_registered_for_offline_access_gets_refresh_tokens_only_when_it_asks() {
    let app = spawn_app().await;
    let registered: Value = app
        .register(
            json!({"client_name": "Careful", "redirect_uris": ["https://c.example/cb"],
                   "refresh_tokens": "offline_access"}),
        )
        .await;
    assert_eq!(registered["refresh_tokens"], "offline_access");
    let (id, secret) = (
        registered["client_id"].as_str().unwrap(),
        registered["client_secret"].as_str().unwrap(),
    );
    let app = &app;
    let login = |scope: &'static str| async move {
        let code = app.headless_code(id, JASON, json!({"scope": scope})).await;
        let response = app.exchange_code_as(&code, id, secret).await;
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()
    };

    let forgot = login("patient/*.read").await;
    assert!(forgot["access_token"].is_string());
    assert!(
        forgot.get("refresh_token").is_none(),
        "no offline_access, no refresh token: {forgot}"
    );

    for scope in [
        "patient/*.read offline_access",
        "patient/*.read online_access",
    ] {
        let asked = login(scope).await;
        let refresh_token = asked["refresh_token"].as_str().expect("refresh_token");
        let refreshed = app
            .post_form(
                "/oauth2/token",
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                    ("client_id", id),
                    ("client_secret", secret),
                ],
            )
            .await;
        assert_eq!(refreshed.status(), 200, "{scope}");
    }

    // The default, as Demo Health Plan: a refresh token with every response.
    assert!(app.login(JASON, "patient/*.read").await["refresh_token"].is_string());
    let default: Value = app
        .register(json!({"client_name": "Default", "redirect_uris": ["https://d.example/cb"]}))
        .await;
    assert_eq!(default["refresh_tokens"], "always");

    let unknown = app
        .post_json(
            "/oauth2/register",
            json!({"client_name": "X", "redirect_uris": ["https://x.example/cb"],
                   "refresh_tokens": "sometimes"}),
        )
        .await;
    assert_eq!(
        error_of(unknown).await,
        (400, "invalid_client_metadata".into())
    );
}

/// RFC 7591 §2: `client_name` is optional. An app registered without one is named by its
/// `client_id`, and works.
#[tokio::test]
async fn registration_without_a_client_name_is_named_by_its_client_id() {
    let app = spawn_app().await;
    let registered = app
        .register(json!({"redirect_uris": ["https://n.example/cb"]}))
        .await;
    let id = registered["client_id"].as_str().unwrap();
    assert_eq!(registered["client_name"], id);
    let code = app.headless_code(id, JASON, json!({})).await;
    let token = app
        .exchange_code_as(&code, id, registered["client_secret"].as_str().unwrap())
        .await;
    assert_eq!(token.status(), 200);
}

/// OpenID Connect Core §2, §12.2: `auth_time` is when the member authenticated (the email code on
/// the sign-in pages, or the headless authorize), not the token exchange, and a refreshed
/// id_token keeps it while `iat` moves on.
#[tokio::test]
async fn auth_time_is_when_the_member_authenticated_and_survives_refresh() {
    let start = 1_893_456_000;
    let at = time::OffsetDateTime::from_unix_timestamp(start).unwrap();
    let clock = std::sync::Arc::new(payer_sandbox::clock::Clock::frozen(at));
    let app = &crate::helpers::spawn_with_clock(clock.clone(), |_| {}).await;
    let claims = |tokens: Value| async move {
        app.validate_id_token(tokens["id_token"].as_str().unwrap())
            .await
            .unwrap()
    };

    // Headless: authenticated when the code was issued.
    let code = app
        .headless_code(
            "sandbox-app",
            JASON,
            json!({"scope": "openid patient/*.read"}),
        )
        .await;
    clock.advance(100);
    let tokens: Value = app.exchange_code(&code).await.json().await.unwrap();
    let id_token = claims(tokens.clone()).await;
    assert_eq!(id_token["auth_time"], start);
    assert_eq!(id_token["iat"], start + 100);
    clock.advance(1000);
    let refreshed: Value = app
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let id_token = claims(refreshed).await;
    assert_eq!(id_token["auth_time"], start, "kept through a refresh");
    assert_eq!(id_token["iat"], start + 1100);

    // The pages: authenticated when the email code was verified, not at consent.
    let attempt = crate::helpers::Attempt::start(
        app,
        "client_id=sandbox-app&redirect_uri=http://localhost/cb&scope=openid%20patient/*.read",
    )
    .await;
    attempt
        .create_account("Jason", "Argonaut", JASON, "02114", "auth-time@example.com")
        .await;
    let email_code = app.last_email_code("auth-time@example.com").await;
    clock.advance(5);
    let verified_at = start + 1105;
    attempt.enter_code(&email_code).await;
    clock.advance(40);
    let location = attempt.decide("allow").await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let code = crate::helpers::query_param(&location, "code").unwrap();
    clock.advance(7);
    let tokens: Value = app.exchange_code(&code).await.json().await.unwrap();
    let id_token = claims(tokens).await;
    assert_eq!(id_token["auth_time"], verified_at);
    assert_eq!(id_token["iat"], verified_at + 47);
}

/// `--strict` holds every app, the built-in one included, to SMART's rule: a refresh token only
/// when `offline_access` or `online_access` was granted. Without `--strict` the built-in app gets
/// one either way (1upHealth's behaviour).
#[tokio::test]
async fn strict_mode_issues_refresh_tokens_only_for_offline_access() {
    let strict = crate::helpers::spawn_with(|s| s.strict = true).await;
    let login = |scope: &'static str| {
        let app = &strict;
        async move {
            let code = app
                .headless_code(
                    "sandbox-app",
                    JASON,
                    json!({"scope": scope, "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}),
                )
                .await;
            let response = app
                .post_form(
                    "/oauth2/token",
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", "http://localhost/callback"),
                        (
                            "code_verifier",
                            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                        ),
                        ("client_id", "sandbox-app"),
                        ("client_secret", "sandbox-secret"),
                    ],
                )
                .await;
            assert_eq!(response.status(), 200, "{scope}");
            response.json::<Value>().await.unwrap()
        }
    };
    assert!(login("patient/*.read").await.get("refresh_token").is_none());
    assert!(login("patient/*.read offline_access").await["refresh_token"].is_string());
    assert!(login("patient/*.read online_access").await["refresh_token"].is_string());

    let lenient = spawn_app().await;
    assert!(lenient.login(JASON, "patient/*.read").await["refresh_token"].is_string());
}

/// SMART App Launch token introspection: `scope`, `client_id`, `exp` and the launch context
/// (`patient`) always; `iss`, `sub` and `fhirUser` only when an id_token was issued (`openid`);
/// an inactive token is exactly `{"active": false}`. A refresh response names `patient` again.
#[tokio::test]
async fn introspection_carries_what_smart_requires_and_identity_only_with_openid() {
    let app = spawn_app().await;
    let introspect = |token: String| {
        let app = &app;
        async move {
            app.post_form(
                "/oauth2/introspect",
                &[
                    ("token", token.as_str()),
                    ("client_id", "sandbox-app"),
                    ("client_secret", "sandbox-secret"),
                ],
            )
            .await
            .json::<Value>()
            .await
            .unwrap()
        }
    };
    let with_openid = app.login(JASON, "openid fhirUser patient/*.read").await;
    let body = introspect(with_openid["access_token"].as_str().unwrap().to_owned()).await;
    for key in [
        "scope",
        "client_id",
        "exp",
        "patient",
        "iss",
        "sub",
        "fhirUser",
    ] {
        assert!(body.get(key).is_some(), "{key} in {body}");
    }
    assert_eq!(body["iss"], app.url.as_str());
    assert_eq!(body["sub"], with_openid["patient"]);
    assert!(
        body["fhirUser"]
            .as_str()
            .unwrap()
            .ends_with("/r4/Patient/jason-argonaut")
    );

    let without = app.login(JASON, "patient/*.read").await;
    let body = introspect(without["access_token"].as_str().unwrap().to_owned()).await;
    for key in ["scope", "client_id", "exp", "patient"] {
        assert!(body.get(key).is_some(), "{key} in {body}");
    }
    for key in ["iss", "sub", "fhirUser"] {
        assert!(body.get(key).is_none(), "no id_token, no {key}: {body}");
    }
    let refreshed: Value = app
        .refresh(without["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(refreshed["patient"], "jason-argonaut");
    assert_eq!(
        introspect("not-a-token".to_owned()).await,
        json!({"active": false})
    );
}
