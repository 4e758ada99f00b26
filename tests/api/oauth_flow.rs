//! The member's whole journey through the pages (docs/oauth.md#member-verification), by plain form posts as `curl` or a
//! browser without JavaScript would, for a confidential and a public (PKCE) app.

use crate::helpers::{
    Attempt, JASON, TestApp, hidden_input, query_param, spawn_app, spawn_embedded,
};
use serde_json::{Value, json};

async fn register(app: &TestApp, public: bool) -> Value {
    let mut body = json!({"client_name": "My Test App",
        "redirect_uris": ["http://redirect1/callback", "http://redirect2/callback"]});
    if public {
        body["token_endpoint_auth_method"] = json!("none");
    }
    let response = app.post_json("/oauth2/register", body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn encode(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

#[tokio::test]
async fn confidential_app_full_browser_flow_then_reads_the_member() {
    let app = spawn_app().await;
    let client = register(&app, false).await;
    let client_id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    assert_eq!(client_id.len(), 32);

    let query = encode(&[
        ("client_id", client_id),
        ("redirect_uri", "http://redirect2/callback"),
        ("scope", "patient/*.read openid fhirUser offline_access"),
        ("state", "xyz 123&"),
        ("response_type", "code"),
        ("aud", &app.fhir_base()),
    ]);
    let attempt = Attempt::start(&app, &query).await;
    let location = attempt.approve_as_jason("jason@example.com").await;
    assert!(
        location.starts_with("http://redirect2/callback?code="),
        "{location}"
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz 123&"));
    let code = query_param(&location, "code").unwrap();
    assert_eq!(code.len(), 32);
    assert!(
        code.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );

    let response = app.exchange_code_as(&code, client_id, secret).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let token: Value = response.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    assert_eq!(
        token["scope"],
        "patient/*.read openid fhirUser offline_access"
    );
    assert!(token["refresh_token"].is_string());
    assert!(token["id_token"].is_string());
    let jason = app
        .members()
        .await
        .into_iter()
        .find(|m| m["member_id"] == JASON)
        .unwrap();
    assert_eq!(token["patient"], jason["patient_id"]);

    let patient_path = format!("/r4/Patient/{}", token["patient"].as_str().unwrap());
    let read = app
        .get_with_token(&patient_path, token["access_token"].as_str().unwrap())
        .await;
    assert_eq!(read.status(), 200);
    let patient: Value = read.json().await.unwrap();
    assert_eq!(patient["name"][0]["family"], "Argonaut");
}

#[tokio::test]
async fn public_app_with_pkce_full_flow() {
    let app = spawn_app().await;
    let client = register(&app, true).await;
    assert!(client.get("client_secret").is_none());
    let client_id = client["client_id"].as_str().unwrap();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let query = encode(&[
        ("client_id", client_id),
        ("redirect_uri", "http://redirect1/callback"),
        ("scope", "patient/*.rs"),
        ("state", "s"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]);
    let attempt = Attempt::start(&app, &query).await;
    let location = attempt.approve_as_jason("pkce@example.com").await;
    let code = query_param(&location, "code").unwrap();
    let response = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", client_id),
                ("code_verifier", verifier),
                ("redirect_uri", "http://redirect1/callback"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let token: Value = response.json().await.unwrap();
    assert_eq!(token["scope"], "patient/*.rs", "v2 syntax kept");
    assert!(token.get("id_token").is_none(), "no openid, no id_token");
}

#[tokio::test]
async fn returning_member_signs_in_with_the_linked_email() {
    let app = spawn_app().await;
    let query = "client_id=sandbox-app&redirect_uri=http://localhost:9999/cb&state=1";
    let first = Attempt::start(&app, query).await;
    first.approve_as_jason("Returning@Example.com").await;

    let second = Attempt::start(&app, query).await;
    let unknown = second.sign_in("stranger@example.com").await;
    assert_eq!(unknown.status(), 400);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("No account uses this email")
    );
    let response = second.sign_in("returning@example.com").await;
    assert_eq!(response.status(), 303);
    let code = app.last_email_code("returning@example.com").await;
    assert_eq!(second.enter_code(&code).await.status(), 303);
    let consent = app
        .get(&format!("{}/consent", second.path))
        .await
        .text()
        .await
        .unwrap();
    assert!(consent.contains("Jason Argonaut"));
    assert!(consent.contains("Sandbox App"));
    let location = second.decide("allow").await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.starts_with("http://localhost:9999/cb?code="));
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_state() {
    let app = spawn_app().await;
    let attempt = Attempt::start(
        &app,
        "client_id=sandbox-app&redirect_uri=http://localhost/cb&state=keep%20me",
    )
    .await;
    attempt
        .create_account("Jason", "Argonaut", JASON, "02114", "deny@example.com")
        .await;
    let code = app.last_email_code("deny@example.com").await;
    attempt.enter_code(&code).await;
    let response = attempt.decide("deny").await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("keep me"));
    assert!(query_param(&location, "code").is_none());
}

#[tokio::test]
async fn wrong_member_details_are_refused_and_guessing_is_limited() {
    let app = spawn_app().await;
    let attempt = Attempt::for_sandbox_app(&app).await;
    for (first, member_id, zip) in [
        ("Jason", "08-wrong", "02114"),
        ("Jason", JASON, "99999"),
        ("Jay", JASON, "02114"),
    ] {
        let response = attempt
            .create_account(first, "Argonaut", member_id, zip, "j@example.com")
            .await;
        assert_eq!(response.status(), 400);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("could not find a member")
        );
    }
    attempt
        .create_account("x", "y", "z", "0", "j@example.com")
        .await;
    let fifth = attempt
        .create_account("x", "y", "z", "0", "j@example.com")
        .await;
    assert_eq!(fifth.status(), 400);
    assert!(fifth.text().await.unwrap().contains("Sign-in ended"));
    let gone = attempt
        .create_account("Jason", "Argonaut", JASON, "02114", "j@example.com")
        .await;
    assert_eq!(gone.status(), 404, "the attempt is over");
}

#[tokio::test]
async fn names_are_case_insensitive_and_trimmed() {
    let app = spawn_app().await;
    let attempt = Attempt::for_sandbox_app(&app).await;
    let response = attempt
        .create_account("  jASON ", "argonaut", JASON, " 02114 ", "case@example.com")
        .await;
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn an_email_linked_to_another_member_is_refused() {
    let app = spawn_app().await;
    let members = app.members().await;
    let other = members.iter().find(|m| m["member_id"] != JASON).unwrap();
    let query = "client_id=sandbox-app&redirect_uri=http://localhost/cb";
    Attempt::start(&app, query)
        .await
        .approve_as_jason("shared@example.com")
        .await;
    let attempt = Attempt::start(&app, query).await;
    let response = attempt
        .create_account(
            other["given"].as_str().unwrap(),
            other["family"].as_str().unwrap(),
            other["member_id"].as_str().unwrap(),
            other["postal_code"].as_str().unwrap(),
            "shared@example.com",
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("already linked to another account")
    );
}

#[tokio::test]
async fn wrong_codes_retry_then_end_the_attempt() {
    let app = spawn_app().await;
    let attempt = Attempt::for_sandbox_app(&app).await;
    attempt
        .create_account("Jason", "Argonaut", JASON, "02114", "codes@example.com")
        .await;
    let right = app.last_email_code("codes@example.com").await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let response = attempt.enter_code(wrong).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("4 tries left"));
    for _ in 0..3 {
        assert_eq!(attempt.enter_code(wrong).await.status(), 400);
    }
    let last = attempt.enter_code(wrong).await.text().await.unwrap();
    assert!(last.contains("5 wrong verification codes"), "{last}");
    assert!(last.contains("Start again"));
    assert_eq!(
        attempt.enter_code(&right).await.status(),
        404,
        "the right code no longer helps"
    );
}

#[tokio::test]
async fn verification_codes_expire_after_ten_minutes() {
    let app = spawn_app().await;
    let attempt = Attempt::for_sandbox_app(&app).await;
    attempt
        .create_account("Jason", "Argonaut", JASON, "02114", "late@example.com")
        .await;
    let code = app.last_email_code("late@example.com").await;
    app.advance_clock(601).await;
    let response = attempt.enter_code(&code).await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("expired after 10 minutes")
    );
}

#[tokio::test]
async fn forms_need_their_csrf_token() {
    let app = spawn_embedded(|_| {}).await;
    let attempt = Attempt::for_sandbox_app(&app).await;
    let response = app
        .post_form(
            &format!("{}/create", attempt.path),
            &[
                ("first_name", "Jason"),
                ("last_name", "Argonaut"),
                ("member_id", JASON),
                ("postal_code", "02114"),
                ("email", "c@example.com"),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    let portal = app
        .post_form(
            "/portal/apps",
            &[("name", "x"), ("redirect_uris", "http://a/cb")],
        )
        .await;
    assert_eq!(portal.status(), 403);
}

#[tokio::test]
async fn pages_escape_what_they_echo_and_forbid_framing() {
    let app = spawn_app().await;
    let attempt = Attempt::for_sandbox_app(&app).await;
    let response = attempt
        .create_account(
            "<script>alert(1)</script>",
            "\"><img src=x>",
            "x",
            "0",
            "a@example.com",
        )
        .await;
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"));
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(!html.contains("\"><img src=x>"));
}

#[tokio::test]
async fn the_portal_registers_a_comma_separated_redirect_list() {
    let app = spawn_embedded(|_| {}).await;
    let page = app.get("/portal").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let response = app
        .post_form(
            "/portal/apps",
            &[
                ("csrf_token", &csrf),
                ("name", "Portal App"),
                (
                    "redirect_uris",
                    "http://redirect1/callback,http://redirect2/callback",
                ),
                ("app_type", "confidential"),
            ],
        )
        .await;
    assert_eq!(response.status(), 201);
    let html = response.text().await.unwrap();
    let client_id = html
        .split("id=\"client_id\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(html.contains("id=\"client_secret\""));
    let query = format!("client_id={client_id}&redirect_uri=http://redirect2/callback");
    Attempt::start(&app, &query).await;
    let bad = app
        .post_form(
            "/portal/apps",
            &[
                ("csrf_token", &csrf),
                ("name", "Bad"),
                ("redirect_uris", "ftp://x/cb"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 400);
}
