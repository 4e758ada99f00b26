//! The member chooses on the consent page (docs/oauth.md#consent): every resource type (and each
//! granular scope) the app asks for can be unticked; the token's `scope` says what was shared and
//! the app gets 403 on what was not. Headless authorize takes the same choice as `decline`.

use serde_json::{Value, json};

use crate::helpers::{Attempt, JASON, TestApp, query_param, spawn_app};

/// The consent page's `share` values, as the page offers them.
fn offered(html: &str) -> Vec<String> {
    html.split("name=\"share\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().replace("&#x7c;", "|"))
        .collect()
}

async fn to_consent<'a>(app: &'a TestApp, scope: &str, email: &str) -> (Attempt<'a>, String) {
    let attempt = Attempt::start(
        app,
        &format!("client_id=sandbox-app&redirect_uri=http://localhost/cb&state=s&scope={scope}"),
    )
    .await;
    attempt
        .create_account("Jason", "Argonaut", JASON, "02114", email)
        .await;
    let code = app.last_email_code(email).await;
    attempt.enter_code(&code).await;
    let html = app
        .get(&format!("{}/consent", attempt.path))
        .await
        .text()
        .await
        .unwrap();
    (attempt, html)
}

async fn post_choice(attempt: &Attempt<'_>, share: &[&str]) -> reqwest::Response {
    let mut form = vec![
        ("csrf_token", attempt.csrf.as_str()),
        ("decision", "allow"),
        ("choices", "1"),
    ];
    form.extend(share.iter().map(|s| ("share", *s)));
    attempt
        .app
        .post_form(&format!("{}/consent", attempt.path), &form)
        .await
}

#[tokio::test]
async fn the_member_unticks_demographics_and_the_app_gets_403_there() {
    let app = spawn_app().await;
    let (attempt, html) = to_consent(&app, "openid%20patient/*.read", "consent@example.com").await;
    assert!(html.contains("Claims and coverage"), "{html}");
    assert!(html.contains("About you"));
    let offered = offered(&html);
    assert!(offered.contains(&"Patient".to_owned()), "{offered:?}");
    assert!(offered.contains(&"ExplanationOfBenefit".to_owned()));

    let share: Vec<&str> = offered
        .iter()
        .map(String::as_str)
        .filter(|t| *t != "Patient")
        .collect();
    let response = post_choice(&attempt, &share).await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let tokens: Value = app
        .exchange_code(&query_param(&location, "code").unwrap())
        .await
        .json()
        .await
        .unwrap();
    let scope = tokens["scope"].as_str().unwrap();
    assert!(scope.starts_with("openid "), "{scope}");
    assert!(
        scope.contains("patient/ExplanationOfBenefit.read"),
        "{scope}"
    );
    assert!(!scope.contains("patient/Patient.read"), "{scope}");
    assert!(
        !scope.contains('*'),
        "the wildcard became the shared types: {scope}"
    );
    let token = tokens["access_token"].as_str().unwrap();
    let patient = tokens["patient"].as_str().unwrap();
    assert_eq!(
        app.get_with_token(&format!("/r4/Patient/{patient}"), token)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get_with_token(
            &format!("/r4/ExplanationOfBenefit?patient={patient}"),
            token
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn unticking_everything_is_a_denial_and_leaving_all_ticked_changes_nothing() {
    let app = spawn_app().await;
    let (attempt, _) = to_consent(&app, "patient/*.read", "none@example.com").await;
    let response = post_choice(&attempt, &[]).await;
    let location = response.headers()["location"].to_str().unwrap();
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(location, "state").as_deref(), Some("s"));

    let (attempt, html) = to_consent(&app, "patient/*.read", "all@example.com").await;
    let everything = offered(&html);
    let share: Vec<&str> = everything.iter().map(String::as_str).collect();
    let location = post_choice(&attempt, &share).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let tokens: Value = app
        .exchange_code(&query_param(&location, "code").unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["scope"], "patient/*.read");
}

#[tokio::test]
async fn headless_authorize_declines_types_and_granular_scopes() {
    let app = spawn_app().await;
    let lab = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
    let code = app
        .headless_code(
            "sandbox-app",
            JASON,
            json!({"scope": format!("patient/*.rs {lab}"), "decline": ["Patient", "Coverage", lab]}),
        )
        .await;
    let tokens: Value = app.exchange_code(&code).await.json().await.unwrap();
    let scope = tokens["scope"].as_str().unwrap();
    assert!(!scope.contains("patient/Patient.rs"), "{scope}");
    assert!(!scope.contains("Coverage"), "{scope}");
    assert!(!scope.contains('?'), "{scope}");
    assert!(scope.contains("patient/ExplanationOfBenefit.rs"), "{scope}");
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_with_token("/r4/Coverage", token).await.status(),
        403
    );

    let nothing = app
        .post_json(
            "/sandbox/api/authorize",
            json!({"client_id": "sandbox-app", "member_id": JASON,
                   "scope": "patient/Patient.read", "decline": ["Patient"]}),
        )
        .await;
    assert_eq!(nothing.status(), 400);
    let body: Value = nothing.json().await.unwrap();
    assert_eq!(body["error"], "invalid_scope");
}
