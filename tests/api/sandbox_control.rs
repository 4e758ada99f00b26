//! The control API for CI and contract tests (docs/sandbox-tools.md): members, outbox, headless authorize,
//! the clock, grant expiry, reset, and `--no-control-api`.

use serde_json::{Value, json};

use crate::helpers::{Attempt, JASON, spawn_app, spawn_with};

#[tokio::test]
async fn members_lists_the_test_members_in_the_spec_shape() {
    let app = spawn_app().await;
    let members = app.members().await;
    assert!(members.len() >= 4);
    let jason = members.iter().find(|m| m["member_id"] == JASON).unwrap();
    assert_eq!(jason["given"], "Jason");
    assert_eq!(jason["family"], "Argonaut");
    assert_eq!(jason["birth_date"], "1986-01-01");
    assert_eq!(jason["postal_code"], "02114");
    assert!(jason["patient_id"].is_string());
    for m in &members {
        let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 6, "{m}");
    }
}

#[tokio::test]
async fn headless_authorize_gives_a_code_bound_like_a_browser_one() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/sandbox/api/authorize",
            json!({"client_id": "sandbox-app", "member_id": JASON, "state": "st"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let url = body["redirect_url"].as_str().unwrap();
    assert!(url.starts_with("http://localhost/callback?code="), "{url}");
    assert!(url.ends_with("&state=st"));
    let token: Value = app
        .exchange_code(body["code"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(token["scope"], "user/*.read", "the default scope");

    for (bad, error) in [
        (
            json!({"client_id": "sandbox-app", "member_id": "nobody"}),
            "invalid_request",
        ),
        (
            json!({"client_id": "nobody", "member_id": JASON}),
            "invalid_client",
        ),
        (
            json!({"client_id": "sandbox-public-app", "member_id": JASON}),
            "invalid_request",
        ),
        (
            json!({"client_id": "sandbox-app", "member_id": JASON, "scope": "bogus"}),
            "invalid_scope",
        ),
    ] {
        let response = app.post_json("/sandbox/api/authorize", bad.clone()).await;
        assert_eq!(response.status(), 400, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{bad}");
    }
    let junk = app
        .client
        .post(app.at("/sandbox/api/authorize"))
        .body("[1,")
        .send()
        .await
        .unwrap();
    assert_eq!(junk.status(), 400);
}

#[tokio::test]
async fn the_outbox_lists_codes_oldest_first_and_the_page_shows_them() {
    let app = spawn_app().await;
    let query = "client_id=sandbox-app&redirect_uri=http://localhost/cb";
    for email in ["first@example.com", "second@example.com"] {
        Attempt::start(&app, query)
            .await
            .create_account("Jason", "Argonaut", JASON, "02114", email)
            .await;
    }
    let outbox: Vec<Value> = app.get("/sandbox/api/outbox").await.json().await.unwrap();
    assert_eq!(outbox.len(), 2);
    assert_eq!(outbox[0]["to"], "first@example.com");
    assert_eq!(outbox[0]["code"].as_str().unwrap().len(), 6);
    assert!(outbox[0]["sent_at"].as_str().unwrap().contains('T'));
    let page = app.get("/sandbox/outbox").await.text().await.unwrap();
    assert!(
        page.find("second@example.com").unwrap() < page.find("first@example.com").unwrap(),
        "newest first"
    );
}

#[tokio::test]
async fn clock_advance_and_reset() {
    let app = spawn_app().await;
    let code = app.headless_code("sandbox-app", JASON, json!({})).await;
    let advanced: Value = app
        .post_json("/sandbox/api/clock/advance", json!({"seconds": 301}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(advanced["offset_seconds"], 301);
    assert_eq!(app.exchange_code(&code).await.status(), 400);
    let reset: Value = app
        .post_json("/sandbox/api/clock/reset", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reset["offset_seconds"], 0);
    let bad = app
        .post_json("/sandbox/api/clock/advance", json!({"seconds": "soon"}))
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn clock_advance_refuses_to_go_backwards() {
    let app = spawn_app().await;
    app.advance_clock(100).await;
    let response = app
        .post_json("/sandbox/api/clock/advance", json!({"seconds": -5}))
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains("POST /sandbox/api/clock/reset"),
        "{description}"
    );
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    let clock: Value = app.get("/sandbox/api/clock").await.json().await.unwrap();
    assert_eq!(
        clock["offset_seconds"], 100,
        "the refused request moved nothing"
    );
    let zero = app
        .post_json("/sandbox/api/clock/advance", json!({"seconds": 0}))
        .await;
    assert_eq!(zero.status(), 200, "zero is not going back");
}

#[tokio::test]
async fn expire_grants_revokes_one_members_tokens() {
    let app = spawn_app().await;
    let other = app
        .members()
        .await
        .into_iter()
        .find(|m| m["member_id"] != JASON)
        .unwrap();
    let other_id = other["member_id"].as_str().unwrap();
    let jason = app.login(JASON, "patient/*.read").await;
    let them = app.login(other_id, "patient/*.read").await;
    let response = app
        .post_json(
            &format!("/sandbox/api/members/{JASON}/expire-grants"),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["revoked"], 2, "one access and one refresh token");
    let read = |t: &Value| format!("/r4/Patient/{}", t["patient"].as_str().unwrap());
    assert_eq!(
        app.get_with_token(&read(&jason), jason["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    assert_eq!(
        app.get_with_token(&read(&them), them["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    let missing = app
        .post_json("/sandbox/api/members/nobody/expire-grants", json!({}))
        .await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn reset_forgets_codes_tokens_links_and_clock_but_keeps_apps() {
    let app = spawn_app().await;
    let client: Value = app
        .post_json(
            "/oauth2/register",
            json!({"client_name": "Keeps", "redirect_uris": ["https://k.example/cb"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = app.login(JASON, "patient/*.read").await;
    let code = app.headless_code("sandbox-app", JASON, json!({})).await;
    Attempt::for_sandbox_app(&app)
        .await
        .approve_as_jason("linked@example.com")
        .await;
    app.advance_clock(100).await;

    assert_eq!(
        app.post_json("/sandbox/api/reset", json!({}))
            .await
            .status(),
        200
    );

    let patient = format!("/r4/Patient/{}", token["patient"].as_str().unwrap());
    assert_eq!(
        app.get_with_token(&patient, token["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    assert_eq!(app.exchange_code(&code).await.status(), 400);
    let outbox: Vec<Value> = app.get("/sandbox/api/outbox").await.json().await.unwrap();
    assert!(outbox.is_empty());
    let clock: Value = app.get("/sandbox/api/clock").await.json().await.unwrap();
    assert_eq!(clock["offset_seconds"], 0);
    let attempt = Attempt::for_sandbox_app(&app).await;
    assert_eq!(
        attempt.sign_in("linked@example.com").await.status(),
        400,
        "the email link is gone"
    );
    let still = app
        .get(&format!(
            "/oauth2/authorize?client_id={}&redirect_uri=https://k.example/cb",
            client["client_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(still.status(), 303, "the app stays registered");
}

#[tokio::test]
async fn no_control_api_turns_it_off_but_keeps_the_outbox_page() {
    let app = spawn_with(|s| s.no_control_api = true).await;
    assert_eq!(app.get("/sandbox/api/members").await.status(), 404);
    assert_eq!(
        app.post_json("/sandbox/api/authorize", json!({}))
            .await
            .status(),
        404
    );
    assert_eq!(app.get("/sandbox/outbox").await.status(), 200);
}

/// Signing-key rotation for testing a client's JWKS caching: after `keys/rotate` id_tokens carry a
/// new `kid`, the JWKS lists the new key and the old one (so id_tokens signed before still
/// verify) until `keys/drop-previous`; a reset goes back to the first key alone.
#[tokio::test]
async fn signing_keys_rotate_with_an_overlap_and_the_old_key_can_be_dropped() {
    let app = crate::helpers::spawn_app().await;
    let kid_of = |tokens: &Value| {
        jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap())
            .unwrap()
            .kid
            .unwrap()
    };
    let jwks_kids = |jwks: Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let jwks = || async {
        app.get("/.well-known/jwks.json")
            .await
            .json::<Value>()
            .await
            .unwrap()
    };

    let before = app.login(JASON, "patient/*.read openid").await;
    let old_kid = kid_of(&before);
    assert_eq!(jwks_kids(jwks().await), vec![old_kid.clone()]);

    let rotated: Value = app
        .post_json("/sandbox/api/keys/rotate", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(rotated["jwks_kids"], json!([new_kid, old_kid]));
    assert_eq!(jwks_kids(jwks().await), [new_kid.clone(), old_kid.clone()]);

    let after = app.login(JASON, "patient/*.read openid").await;
    assert_eq!(kid_of(&after), new_kid);
    // The new id_token verifies with the JWKS key its kid names, and so does the old one.
    app.validate_id_token(after["id_token"].as_str().unwrap())
        .await
        .expect("the rotated key verifies the new id_token");
    app.validate_id_token(before["id_token"].as_str().unwrap())
        .await
        .expect("during the overlap the old key still verifies the old id_token");

    let dropped: Value = app
        .post_json("/sandbox/api/keys/drop-previous", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dropped["jwks_kids"], json!([new_kid]));
    assert_eq!(
        app.validate_id_token(before["id_token"].as_str().unwrap())
            .await
            .unwrap_err(),
        "kid not in the JWKS",
        "after the overlap the old key's id_tokens no longer verify"
    );
    assert_eq!(jwks_kids(jwks().await), vec![new_kid.clone()]);
    let shown: Value = app.get("/sandbox/api/keys").await.json().await.unwrap();
    assert_eq!(shown["kid"], new_kid.as_str());

    app.post_json("/sandbox/api/reset", json!({})).await;
    assert_eq!(jwks_kids(jwks().await), [old_kid]);
}
