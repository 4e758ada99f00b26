//! Personal representatives (docs/oauth.md#personal-representatives): a parent on file signs in
//! for a minor member, by the pages and headless; `patient` is the child, `fhirUser` and `sub` the
//! parent's RelatedPerson; the right ends when the member turns 18 on the sandbox clock.

use serde_json::{Value, json};

use crate::helpers::{Attempt, JASON, TestApp, query_param, spawn_app};

const ETHAN: &str = "08-testmemid3";
const KEIKO: &str = "relatedperson-keiko-nakamura";
/// Seconds from any day of 2026 to well after Ethan's 18th birthday (2032-09-03).
const PAST_ETHANS_18TH: i64 = 7 * 365 * 86_400;

impl Attempt<'_> {
    async fn create_representative(
        &self,
        you: (&str, &str),
        member: (&str, &str, &str, &str),
        email: &str,
    ) -> reqwest::Response {
        self.app
            .post_form(
                &format!("{}/representative", self.path),
                &[
                    ("csrf_token", &self.csrf),
                    ("your_first_name", you.0),
                    ("your_last_name", you.1),
                    ("first_name", member.0),
                    ("last_name", member.1),
                    ("member_id", member.2),
                    ("postal_code", member.3),
                    ("email", email),
                ],
            )
            .await
    }
}

const KEIKO_NAMES: (&str, &str) = ("Keiko", "Nakamura");
const ETHAN_CARD: (&str, &str, &str, &str) = ("Ethan", "Nakamura", ETHAN, "98103");

/// The claims a careful client reads from a token response: the validated id_token's, and
/// userinfo's.
async fn who(app: &TestApp, tokens: &Value) -> (Value, Value) {
    let id_token = app
        .validate_id_token(tokens["id_token"].as_str().expect("id_token"))
        .await
        .expect("a valid id_token");
    let userinfo: Value = app
        .client
        .get(app.at("/oauth2/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (id_token, userinfo)
}

#[tokio::test]
async fn a_parent_signs_in_for_her_child_by_the_pages() {
    let app = spawn_app().await;
    let attempt = Attempt::start(
        &app,
        "client_id=sandbox-app&redirect_uri=http://localhost/cb&state=s&scope=openid%20fhirUser%20patient/*.read",
    )
    .await;
    let start = app.get(&attempt.path).await.text().await.unwrap();
    assert!(
        start.contains("/representative"),
        "the start page offers it"
    );
    let sent = attempt
        .create_representative(KEIKO_NAMES, ETHAN_CARD, "Keiko.Rep@example.com")
        .await;
    assert_eq!(sent.status(), 303);
    let code = app.last_email_code("keiko.rep@example.com").await;
    assert_eq!(attempt.enter_code(&code).await.status(), 303);
    let consent = app
        .get(&format!("{}/consent", attempt.path))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        consent.contains("Signed in as <strong>Keiko Nakamura (mother)</strong>, for <strong>Ethan Nakamura</strong>"),
        "{consent}"
    );
    let location = attempt.decide("allow").await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let code = query_param(&location, "code").unwrap();
    let tokens: Value = app.exchange_code(&code).await.json().await.unwrap();
    assert_eq!(
        tokens["patient"], "ethan-nakamura",
        "the child is the launch context"
    );

    let (id_token, userinfo) = who(&app, &tokens).await;
    let fhir_user = format!("{}/RelatedPerson/{KEIKO}", app.fhir_base());
    assert_eq!(id_token["fhirUser"], fhir_user.as_str());
    assert_eq!(id_token["sub"], KEIKO);
    assert_eq!(userinfo["fhirUser"], fhir_user.as_str());
    assert_eq!(userinfo["sub"], KEIKO);
    assert_eq!(userinfo["name"], "Keiko Nakamura");
    assert_eq!(userinfo["patient"], "ethan-nakamura");

    // fhirUser resolves with the token, and so does the child's record.
    let access = tokens["access_token"].as_str().unwrap();
    let parent = app
        .get_with_token(&format!("/r4/RelatedPerson/{KEIKO}"), access)
        .await;
    assert_eq!(parent.status(), 200);
    let child = app
        .get_with_token("/r4/Patient/ethan-nakamura", access)
        .await;
    assert_eq!(child.status(), 200);

    // A refresh keeps who signed in.
    let refreshed: Value = app
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let (id_token, _) = who(&app, &refreshed).await;
    assert_eq!(id_token["fhirUser"], fhir_user.as_str());

    // The returning representative signs in with her email, for the same child.
    let again = Attempt::start(
        &app,
        "client_id=sandbox-app&redirect_uri=http://localhost/cb&scope=openid%20patient/*.read",
    )
    .await;
    assert_eq!(again.sign_in("keiko.rep@example.com").await.status(), 303);
    let code = app.last_email_code("keiko.rep@example.com").await;
    again.enter_code(&code).await;
    let consent = app
        .get(&format!("{}/consent", again.path))
        .await
        .text()
        .await
        .unwrap();
    assert!(consent.contains("Keiko Nakamura (mother)"), "{consent}");
}

#[tokio::test]
async fn only_a_parent_on_file_and_only_for_a_minor() {
    let app = spawn_app().await;
    let attempt = Attempt::for_sandbox_app(&app).await;
    for (you, card) in [
        (("Jason", "Argonaut"), ETHAN_CARD),
        (("Keiko", "Nakamura"), ("Ethan", "Nakamura", ETHAN, "00000")),
        (("Keiko", "Nakamura"), ("Jason", "Argonaut", JASON, "02114")),
    ] {
        let refused = attempt
            .create_representative(you, card, "someone@example.com")
            .await;
        assert_eq!(refused.status(), 400, "{you:?} for {card:?}");
        let html = refused.text().await.unwrap();
        assert!(html.contains("parent or guardian"), "{html}");
    }

    // Keiko's account, linked while Ethan is 12 ...
    let linked = Attempt::for_sandbox_app(&app).await;
    linked
        .create_representative(KEIKO_NAMES, ETHAN_CARD, "keiko@example.com")
        .await;
    let code = app.last_email_code("keiko@example.com").await;
    linked.enter_code(&code).await;
    // ... and the email is hers for Ethan, not Ethan's own account.
    let own = Attempt::for_sandbox_app(&app).await;
    let taken = own
        .create_account("Ethan", "Nakamura", ETHAN, "98103", "keiko@example.com")
        .await;
    assert_eq!(taken.status(), 400);

    // Once Ethan is 18 on the sandbox clock, a parent can no longer sign in for him.
    app.advance_clock(PAST_ETHANS_18TH).await;
    let later = Attempt::for_sandbox_app(&app).await;
    let refused = later
        .create_representative(KEIKO_NAMES, ETHAN_CARD, "keiko2@example.com")
        .await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("18 or older"));
    let returning = later.sign_in("keiko@example.com").await;
    assert_eq!(returning.status(), 400);
    assert!(returning.text().await.unwrap().contains("18 or older"));
    let headless = app
        .post_json(
            "/sandbox/api/authorize",
            json!({"client_id": "sandbox-app", "member_id": ETHAN, "representative": KEIKO}),
        )
        .await;
    assert_eq!(headless.status(), 400);
}

#[tokio::test]
async fn headless_authorize_as_a_representative_and_the_list_of_representatives() {
    let app = spawn_app().await;
    let listed: Vec<Value> = app
        .get("/sandbox/api/representatives")
        .await
        .json()
        .await
        .unwrap();
    let keiko = listed
        .iter()
        .find(|r| r["related_person_id"] == KEIKO)
        .expect("Keiko is listed");
    assert_eq!(keiko["member_id"], ETHAN);
    assert_eq!(keiko["relationship"], "MTH");
    assert_eq!(keiko["member_is_minor"], true);

    for representative in [KEIKO.to_owned(), format!("RelatedPerson/{KEIKO}")] {
        let code = app
            .headless_code(
                "sandbox-app",
                ETHAN,
                json!({"scope": "openid fhirUser patient/*.read", "representative": representative}),
            )
            .await;
        let tokens: Value = app.exchange_code(&code).await.json().await.unwrap();
        assert_eq!(tokens["patient"], "ethan-nakamura");
        let (id_token, _) = who(&app, &tokens).await;
        assert!(
            id_token["fhirUser"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/RelatedPerson/{KEIKO}")),
            "{id_token}"
        );
    }
    // The member's own login is unchanged: fhirUser is the Patient.
    let own = app.login(ETHAN, "openid fhirUser patient/*.read").await;
    let (id_token, _) = who(&app, &own).await;
    assert!(
        id_token["fhirUser"]
            .as_str()
            .unwrap()
            .ends_with("/Patient/ethan-nakamura")
    );
    // Not a representative of this member.
    let wrong = app
        .post_json(
            "/sandbox/api/authorize",
            json!({"client_id": "sandbox-app", "member_id": JASON, "representative": KEIKO}),
        )
        .await;
    assert_eq!(wrong.status(), 400);
}

/// `--state-dir`: a representative's email link survives a restart as hers, for the child.
#[tokio::test]
async fn a_representatives_account_survives_a_restart() {
    let dir = crate::persistence::temp_dir("representative");
    let first = crate::helpers::spawn_with(|s| s.state_dir = Some(dir.clone())).await;
    let attempt = Attempt::for_sandbox_app(&first).await;
    attempt
        .create_representative(KEIKO_NAMES, ETHAN_CARD, "keiko.durable@example.com")
        .await;
    let code = first.last_email_code("keiko.durable@example.com").await;
    assert_eq!(attempt.enter_code(&code).await.status(), 303);

    let second = crate::helpers::spawn_with(|s| s.state_dir = Some(dir.clone())).await;
    let again = Attempt::for_sandbox_app(&second).await;
    assert_eq!(
        again.sign_in("keiko.durable@example.com").await.status(),
        303
    );
    let code = second.last_email_code("keiko.durable@example.com").await;
    again.enter_code(&code).await;
    let consent = second
        .get(&format!("{}/consent", again.path))
        .await
        .text()
        .await
        .unwrap();
    assert!(consent.contains("Keiko Nakamura (mother)"), "{consent}");
    std::fs::remove_dir_all(dir).unwrap();
}
