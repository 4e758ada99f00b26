//! SMART v2 granular scopes (docs/access.md#granular-scopes): a scope constrained by a search
//! query (`patient/Condition.rs?category=…|problem-list-item`) lets the token have only what the
//! query matches, in reads, searches (totals and paging count only that), `_revinclude` and
//! `$everything`; a wider search is filtered, not refused; scopes with queries the server cannot
//! evaluate are dropped.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{JASON, TestApp, spawn_app};

const PROBLEMS: &str = "patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item";
const ASTHMA: &str = "cond-jason-argonaut-asthma";
const APPENDICITIS: &str = "cond-jason-argonaut-appendicitis";

async fn bundle(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.get_with_token(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

fn ids(bundle: &Value, resource_type: &str) -> BTreeSet<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == resource_type)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_category_scope_shows_only_that_category_everywhere() {
    let app = spawn_app().await;
    let tokens = app
        .login(JASON, &format!("{PROBLEMS} patient/Patient.rs"))
        .await;
    assert_eq!(
        tokens["scope"],
        format!("{PROBLEMS} patient/Patient.rs"),
        "granted as requested"
    );
    let token = tokens["access_token"].as_str().unwrap();
    let patient = tokens["patient"].as_str().unwrap();

    let all = bundle(&app, &format!("/r4/Condition?patient={patient}"), token).await;
    assert_eq!(all["total"], 1);
    assert_eq!(ids(&all, "Condition"), BTreeSet::from([ASTHMA.to_owned()]));
    let paged = bundle(&app, "/r4/Condition?_count=1", token).await;
    assert_eq!(paged["total"], 1);
    assert!(
        !paged["link"].to_string().contains("\"next\""),
        "no page beyond what the token may see"
    );

    // A search wider than the grant, or outside it, is filtered, not refused.
    let outside = bundle(
        &app,
        "/r4/Condition?category=http://terminology.hl7.org/CodeSystem/condition-category|encounter-diagnosis",
        token,
    )
    .await;
    assert_eq!(outside["total"], 0);

    assert_eq!(
        app.get_with_token(&format!("/r4/Condition/{ASTHMA}"), token)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_with_token(&format!("/r4/Condition/{APPENDICITIS}"), token)
            .await
            .status(),
        404,
        "outside the constraint reads as not there"
    );

    let revincluded = bundle(
        &app,
        &format!("/r4/Patient?_id={patient}&_revinclude=Condition:patient"),
        token,
    )
    .await;
    assert_eq!(
        ids(&revincluded, "Condition"),
        BTreeSet::from([ASTHMA.to_owned()])
    );
    let everything = bundle(&app, &format!("/r4/Patient/{patient}/$everything"), token).await;
    assert_eq!(
        ids(&everything, "Condition"),
        BTreeSet::from([ASTHMA.to_owned()])
    );
    assert!(ids(&everything, "Observation").is_empty(), "no scope, none");
    assert_eq!(
        app.get_with_token("/r4/Observation", token).await.status(),
        403
    );
}

#[tokio::test]
async fn an_unconstrained_scope_beside_a_constrained_one_widens_only_its_interaction() {
    let app = spawn_app().await;
    let token = app
        .token(
            JASON,
            &format!("{PROBLEMS} patient/Condition.r patient/Patient.rs"),
        )
        .await;
    // Reads: `.r` without a constraint covers every Condition.
    assert_eq!(
        app.get_with_token(&format!("/r4/Condition/{APPENDICITIS}"), &token)
            .await
            .status(),
        200
    );
    // Searches: only the constrained `.rs` grants search.
    let searched = bundle(&app, "/r4/Condition", &token).await;
    assert_eq!(
        ids(&searched, "Condition"),
        BTreeSet::from([ASTHMA.to_owned()])
    );
}

#[tokio::test]
async fn constraints_the_server_cannot_evaluate_are_dropped() {
    let app = spawn_app().await;
    for odd in [
        "patient/Condition.rs?nonsense=1",
        "patient/Condition.rs?_count=1",
        "patient/Condition.rs?category=",
        "patient/Condition.rs?",
        "patient/*.rs?category=problem-list-item",
        "patient/Condition.read?category=problem-list-item",
    ] {
        let code = app
            .post_json(
                "/sandbox/api/authorize",
                serde_json::json!({"client_id": "sandbox-app", "member_id": JASON,
                    "scope": format!("{odd} patient/Patient.rs")}),
            )
            .await;
        assert_eq!(code.status(), 200, "{odd}");
        let code: Value = code.json().await.unwrap();
        let tokens: Value = app
            .exchange_code(code["code"].as_str().unwrap())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(tokens["scope"], "patient/Patient.rs", "{odd} is dropped");
    }
    // Codes joined by , are alternatives; parameters joined by & must all match.
    let either = app
        .token(
            JASON,
            "patient/Condition.rs?category=problem-list-item,encounter-diagnosis",
        )
        .await;
    assert_eq!(bundle(&app, "/r4/Condition", &either).await["total"], 3);
    let both = app
        .token(
            JASON,
            "patient/Condition.rs?category=problem-list-item&category=encounter-diagnosis",
        )
        .await;
    assert_eq!(bundle(&app, "/r4/Condition", &both).await["total"], 0);
}
