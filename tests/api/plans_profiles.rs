//! Every knob of a plan's behaviour profile (docs/plans.md#behaviour-profiles), each against a
//! plan that turns it and the default plan that does not: the embedded Cascade Health Alliance
//! and Lakeshore Mutual Health, and plans defined by a plans file for the values neither has.

use std::sync::Arc;

use payer_sandbox::clock::Clock;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::helpers::{
    Auth, CASCADE_SCOPE, JASON, LAKESHORE_SCOPE, pkce, spawn_app, spawn_with, spawn_with_clock,
};

/// The Patient id an id_token's `fhirUser` names (a plan that gives it nowhere else).
pub fn fhir_user_patient(tokens: &Value) -> String {
    let id_token = tokens["id_token"].as_str().expect("an id_token");
    let payload = id_token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let fhir_user = claims["fhirUser"].as_str().unwrap();
    fhir_user.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn client_authentication_follows_the_plan() {
    let app = spawn_app().await;
    // Cascade: HTTP Basic only.
    let member = app.plan_member("cascade", "Gunnar").await;
    let (code, verifier) = app.plan_code("cascade", &member, CASCADE_SCOPE).await;
    let refused = app.plan_exchange(&code, &verifier, Auth::Body).await;
    assert_eq!(refused.status(), 401);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"], "invalid_client");
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("client_secret_basic")
    );
    // Lakeshore: the secret in the body only.
    let member = app.plan_member("lakeshore", "Yesenia").await;
    let (code, verifier) = app.plan_code("lakeshore", &member, LAKESHORE_SCOPE).await;
    let refused = app.plan_exchange(&code, &verifier, Auth::Basic).await;
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("www-authenticate"));
    // The default plan: both.
    for auth in [Auth::Body, Auth::Basic] {
        let (code, verifier) = app.plan_code("test", JASON, "patient/*.read").await;
        assert_eq!(
            app.plan_exchange(&code, &verifier, auth).await.status(),
            200
        );
    }
}

#[tokio::test]
async fn the_token_request_body_follows_the_plan() {
    let app = spawn_app().await;
    let member = app.plan_member("cascade", "Gunnar").await;
    let json_exchange = |code: String, verifier: String| {
        app.client
            .post(app.at("/oauth2/token"))
            .basic_auth("sandbox-app", Some("sandbox-secret"))
            .json(&json!({"grant_type": "authorization_code", "code": code, "code_verifier": verifier}))
            .send()
    };
    // Cascade takes JSON (and forms).
    let (code, verifier) = app.plan_code("cascade", &member, CASCADE_SCOPE).await;
    let response = json_exchange(code, verifier).await.unwrap();
    assert_eq!(response.status(), 200);
    // Lakeshore and the default plan take forms only.
    let lake = app.plan_member("lakeshore", "Yesenia").await;
    let (code, verifier) = app.plan_code("lakeshore", &lake, LAKESHORE_SCOPE).await;
    let response = app
        .client
        .post(app.at("/oauth2/token"))
        .json(
            &json!({"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "client_id": "sandbox-app", "client_secret": "sandbox-secret"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"], "invalid_request");
    let (code, verifier) = app.plan_code("test", JASON, "patient/*.read").await;
    let response = json_exchange(code, verifier).await.unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn lakeshore_issues_no_refresh_token_and_the_patient_only_in_the_id_token() {
    let app = spawn_app().await;
    let tokens = app.lakeshore_login("Yesenia").await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert!(tokens.get("patient").is_none(), "{tokens}");
    let patient = fhir_user_patient(&tokens);
    let token = tokens["access_token"].as_str().unwrap();
    let read = app
        .get_with_token(&format!("/plans/lakeshore/r4/Patient/{patient}"), token)
        .await;
    assert_eq!(read.status(), 200);
    let smart: Value = app
        .get_json("/plans/lakeshore/.well-known/smart-configuration")
        .await;
    let capabilities = smart["capabilities"].as_array().unwrap();
    assert!(!capabilities.contains(&json!("permission-offline")));
    assert!(!capabilities.contains(&json!("permission-v2")));
    // The default plan gives both.
    let default = app.login(JASON, "openid fhirUser patient/*.read").await;
    assert_eq!(default["patient"], "jason-argonaut");
    assert!(default["refresh_token"].is_string());
}

#[tokio::test]
async fn cascade_rotates_refresh_tokens_and_revokes_on_reuse() {
    let app = spawn_app().await;
    let tokens = app.cascade_login("Gunnar").await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = app.plan_refresh(&first, Auth::Basic).await;
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    let second = refreshed["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second, "a new refresh token");
    let reused = app.plan_refresh(&first, Auth::Basic).await;
    assert_eq!(reused.status(), 400);
    let error: Value = reused.json().await.unwrap();
    assert_eq!(error["error"], "invalid_grant");
    // The reuse revoked the whole authorization.
    assert_eq!(app.plan_refresh(&second, Auth::Basic).await.status(), 400);
}

/// A plans file with one plan on the Lakeshore data and `profile` (TOML lines).
fn plans_file(name: &str, profile: &str) -> std::path::PathBuf {
    crate::helpers::plans_file(
        name,
        &format!(
            "[[plan]]\nid = \"custom\"\nname = \"Custom Plan\"\ndata = {{data}}\n\n[plan.profile]\n{profile}\n"
        ),
    )
}

#[tokio::test]
async fn reusable_and_single_use_refresh_tokens() {
    let file = plans_file("reusable", "refresh-tokens = \"reusable\"");
    let app = spawn_with(move |s| s.plans = Some(file)).await;
    let member = app.plan_member("custom", "Yesenia").await;
    let tokens = app
        .plan_login("custom", &member, "patient/*.read", Auth::Body)
        .await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    for _ in 0..3 {
        let again: Value = app
            .plan_refresh(refresh, Auth::Body)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(again["refresh_token"], refresh, "the same token, again");
    }

    let file = plans_file("single", "refresh-tokens = \"single-use\"");
    let app = spawn_with(move |s| s.plans = Some(file)).await;
    let tokens = app
        .plan_login("custom", &member, "patient/*.read", Auth::Body)
        .await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let once = app.plan_refresh(refresh, Auth::Body).await;
    assert_eq!(once.status(), 200);
    let once: Value = once.json().await.unwrap();
    assert!(once.get("refresh_token").is_none(), "{once}");
    let twice: Value = app
        .plan_refresh(refresh, Auth::Body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(twice["error"], "invalid_grant");
}

#[tokio::test]
async fn access_tokens_live_as_long_as_the_plan_says() {
    let clock = Arc::new(Clock::frozen(datetime!(2026-03-02 12:00 UTC)));
    let app = spawn_with_clock(clock.clone(), |_| {}).await;
    let tokens = app.cascade_login("Gunnar").await;
    assert_eq!(tokens["expires_in"], 900);
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_with_token("/plans/cascade/r4/Coverage", token)
            .await
            .status(),
        200
    );
    app.advance_clock(901).await;
    assert_eq!(
        app.get_with_token("/plans/cascade/r4/Coverage", token)
            .await
            .status(),
        401
    );
    let lakeshore = app.lakeshore_login("Yesenia").await;
    assert_eq!(lakeshore["expires_in"], 3600);
}

#[tokio::test]
async fn after_the_maximum_authorization_period_refresh_fails() {
    let clock = Arc::new(Clock::frozen(datetime!(2026-03-02 12:00 UTC)));
    let app = spawn_with_clock(clock.clone(), |_| {}).await;
    let tokens = app.cascade_login("Gunnar").await;
    // Rotation gives a fresh refresh token each time: only the 90-day cap ends the chain.
    let mut refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        app.advance_clock(40 * 86_400).await;
        let response = app.plan_refresh(&refresh, Auth::Basic).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        refresh = body["refresh_token"].as_str().unwrap().to_owned();
    }
    app.advance_clock(11 * 86_400).await;
    let ended = app.plan_refresh(&refresh, Auth::Basic).await;
    assert_eq!(ended.status(), 400);
    let error: Value = ended.json().await.unwrap();
    assert_eq!(error["error"], "invalid_grant");
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("90 days"),
        "{error}"
    );
}

#[tokio::test]
async fn cascade_requires_aud_pkce_and_launch_patient_of_every_app() {
    let app = spawn_app().await;
    let aud = app.at("/plans/cascade/r4");
    let (_, challenge) = pkce();
    let full = format!(
        "client_id=sandbox-app&redirect_uri=http://localhost/cb&response_type=code&state=s&scope=launch/patient%20patient/*.rs&aud={aud}&code_challenge={challenge}&code_challenge_method=S256"
    );
    let ok = app.get(&format!("/oauth2/authorize/cascade?{full}")).await;
    assert_eq!(ok.status(), 303);
    let cases = [
        (full.replace(&format!("&aud={aud}"), ""), "aud"),
        (
            full.replace(
                &format!("&code_challenge={challenge}&code_challenge_method=S256"),
                "",
            ),
            "PKCE",
        ),
        (full.replace("launch/patient%20", ""), "launch/patient"),
        (full.replace("patient/*.rs", "patient/*.read"), "v2"),
    ];
    for (query, missing) in cases {
        let response = app.get(&format!("/oauth2/authorize/cascade?{query}")).await;
        assert_eq!(response.status(), 302, "{missing}");
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.contains("error="), "{missing}: {location}");
        let description = crate::helpers::query_param(location, "error_description").unwrap();
        assert!(description.contains(missing), "{missing}: {description}");
    }
    // The default plan asks none of it of a confidential app.
    let lenient = app
        .get("/oauth2/authorize/test?client_id=sandbox-app&redirect_uri=http://localhost/cb&scope=patient/*.rs")
        .await;
    assert_eq!(lenient.status(), 303);
}

#[tokio::test]
async fn lakeshore_accepts_v1_scopes_only() {
    let app = spawn_app().await;
    let member = app.plan_member("lakeshore", "Yesenia").await;
    let refused = app
        .post_json(
            "/sandbox/api/authorize",
            json!({"plan": "lakeshore", "client_id": "sandbox-app", "member_id": member, "scope": "patient/*.rs"}),
        )
        .await;
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"], "invalid_scope");
}

/// The entries of a searchset, by search mode.
fn entries<'a>(bundle: &'a Value, mode: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["search"]["mode"] == mode)
        .map(|e| &e["resource"])
        .collect()
}

#[tokio::test]
async fn page_sizes_and_total_follow_the_plan() {
    let app = spawn_app().await;
    let tokens = app.cascade_login("Marisol").await;
    let token = tokens["access_token"].as_str().unwrap();
    let page: Value = app
        .get_json_with_token("/plans/cascade/r4/ExplanationOfBenefit", token)
        .await;
    let matches = entries(&page, "match");
    assert!(matches.len() <= 10, "{}", matches.len());
    assert!(page.get("total").is_none(), "Cascade omits total");
    let big: Value = app
        .get_json_with_token("/plans/cascade/r4/ExplanationOfBenefit?_count=500", token)
        .await;
    let self_link = big["link"][0]["url"].as_str().unwrap();
    assert!(
        self_link.contains("_count=50"),
        "the largest page: {self_link}"
    );

    let lakeshore = app.lakeshore_login("Marisol").await;
    let page: Value = app
        .get_json_with_token(
            "/plans/lakeshore/r4/ExplanationOfBenefit",
            lakeshore["access_token"].as_str().unwrap(),
        )
        .await;
    assert!(page["total"].is_u64(), "Lakeshore gives total");
    assert!(
        page["link"][0]["url"]
            .as_str()
            .unwrap()
            .contains("_count=100")
    );
    let default = app.token(JASON, "patient/*.read").await;
    let page: Value = app
        .get_json_with_token("/r4/ExplanationOfBenefit", &default)
        .await;
    assert!(page["total"].is_u64());
    assert!(
        page["link"][0]["url"]
            .as_str()
            .unwrap()
            .contains("_count=50")
    );
}

#[tokio::test]
async fn unsupported_includes_are_ignored_and_reported() {
    let app = spawn_app().await;
    let tokens = app.cascade_login("Marisol").await;
    let token = tokens["access_token"].as_str().unwrap();
    let bundle: Value = app.get_json_with_token(
            "/plans/cascade/r4/ExplanationOfBenefit?_include=ExplanationOfBenefit:coverage,ExplanationOfBenefit:provider&_revinclude=Provenance:target",
            token,
        ).await;
    let included: Vec<&str> = entries(&bundle, "include")
        .iter()
        .filter_map(|r| r["resourceType"].as_str())
        .collect();
    assert!(included.contains(&"Coverage"), "{included:?}");
    assert!(
        !included
            .iter()
            .any(|t| *t == "Practitioner" || *t == "Organization")
    );
    let outcome = entries(&bundle, "outcome");
    let text = outcome[0].to_string();
    assert!(text.contains("ExplanationOfBenefit:provider") && text.contains("Provenance:target"));
    // Strict handling refuses them.
    let strict = app
        .client
        .get(
            app.at("/plans/cascade/r4/ExplanationOfBenefit?_include=ExplanationOfBenefit:provider"),
        )
        .bearer_auth(token)
        .header("prefer", "handling=strict")
        .send()
        .await
        .unwrap();
    assert_eq!(strict.status(), 400);
    // The default plan follows them.
    let default = app.token(JASON, "patient/*.read").await;
    let bundle: Value = app
        .get_json_with_token(
            "/r4/ExplanationOfBenefit?_include=ExplanationOfBenefit:provider",
            &default,
        )
        .await;
    assert!(!entries(&bundle, "include").is_empty());
}

#[tokio::test]
async fn lakeshore_claims_name_their_coverage_by_identifier() {
    let app = spawn_app().await;
    let tokens = app.lakeshore_login("Marisol").await;
    let bundle: Value = app
        .get_json_with_token(
            "/plans/lakeshore/r4/ExplanationOfBenefit",
            tokens["access_token"].as_str().unwrap(),
        )
        .await;
    let claims = entries(&bundle, "match");
    assert!(!claims.is_empty());
    for claim in claims {
        let coverage = &claim["insurance"][0]["coverage"];
        assert!(coverage.get("reference").is_none(), "{coverage}");
        assert!(coverage["identifier"]["value"].is_string(), "{coverage}");
    }
    let cascade = app.cascade_login("Marisol").await;
    let bundle: Value = app
        .get_json_with_token(
            "/plans/cascade/r4/ExplanationOfBenefit",
            cascade["access_token"].as_str().unwrap(),
        )
        .await;
    for claim in entries(&bundle, "match") {
        let reference = claim["insurance"][0]["coverage"]["reference"]
            .as_str()
            .unwrap();
        assert!(reference.starts_with("Coverage/"));
    }
}

#[tokio::test]
async fn cascade_rate_limits_each_token() {
    let clock = Arc::new(Clock::frozen(datetime!(2026-03-02 12:00 UTC)));
    let app = spawn_with_clock(clock.clone(), |_| {}).await;
    let first = app.cascade_login("Gunnar").await;
    let second = app.cascade_login("Theo").await;
    let token = first["access_token"].as_str().unwrap();
    for _ in 0..10 {
        let ok = app
            .get_with_token("/plans/cascade/r4/Coverage", token)
            .await;
        assert_eq!(ok.status(), 200);
    }
    let limited = app
        .get_with_token("/plans/cascade/r4/Coverage", token)
        .await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "1");
    let outcome: Value = limited.json().await.unwrap();
    assert_eq!(outcome["issue"][0]["code"], "throttled");
    // Per token: another member's token is not limited.
    assert_eq!(
        app.get_with_token(
            "/plans/cascade/r4/Coverage",
            second["access_token"].as_str().unwrap()
        )
        .await
        .status(),
        200
    );
    // The next second of the sandbox clock opens a new window.
    app.advance_clock(1).await;
    assert_eq!(
        app.get_with_token("/plans/cascade/r4/Coverage", token)
            .await
            .status(),
        200
    );
    // The default plan has no limit.
    let default = app.token(JASON, "patient/*.read").await;
    for _ in 0..30 {
        assert_eq!(
            app.get_with_token("/r4/Coverage", &default).await.status(),
            200
        );
    }
}
