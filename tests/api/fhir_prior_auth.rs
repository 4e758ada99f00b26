//! Prior authorizations through the API (README "Prior authorizations", docs/data.md): each
//! state an app must handle is there, each PA is a PDex Prior Authorization, and "12 visits
//! approved, 5 used" is computable from what the API serves.

use serde_json::Value;

use crate::helpers::{JASON, TestApp, entry_refs, spawn_app};

const PDEX_PA: &str =
    "http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/pdex-priorauthorization";

async fn prior_auths(app: &TestApp, member_id: &str) -> Vec<Value> {
    let token = app.token(member_id, "patient/*.read").await;
    let bundle: Value = app
        .get_with_token(
            "/r4/ExplanationOfBenefit?use=preauthorization&_count=100",
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["resource"].clone())
        .collect()
}

fn adjudication<'a>(pa: &'a Value, category: &str) -> Vec<&'a Value> {
    pa["item"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|item| item["adjudication"].as_array().into_iter().flatten())
        .filter(|a| a["category"]["coding"][0]["code"] == category)
        .collect()
}

#[tokio::test]
async fn every_state_an_app_must_handle_is_served() {
    let app = spawn_app().await;
    let members: Vec<Value> = app.members().await;
    let mut all = Vec::new();
    for member in &members {
        all.extend(prior_auths(&app, member["member_id"].as_str().unwrap()).await);
    }
    assert!(all.len() >= 10, "{} prior authorizations", all.len());
    for pa in &all {
        assert_eq!(pa["use"], "preauthorization");
        assert!(
            pa["meta"]["profile"][0]
                .as_str()
                .unwrap()
                .starts_with(PDEX_PA),
            "{}",
            pa["id"]
        );
    }
    let count = |f: &dyn Fn(&Value) -> bool| all.iter().filter(|pa| f(pa)).count();
    assert!(count(&|pa| pa["outcome"] == "queued") >= 1, "pending");
    assert!(count(&|pa| pa["status"] == "cancelled") >= 1, "cancelled");
    let denied = count(&|pa| {
        adjudication(pa, "denialreason")
            .iter()
            .any(|a| a["reason"]["coding"][0]["code"].is_string())
    });
    assert!(denied >= 2, "denied, with a coded reason");
    let expired = count(&|pa| {
        pa["preAuthRefPeriod"][0]["end"]
            .as_str()
            .is_some_and(|end| end < "2026-11-01")
    });
    assert!(expired >= 2, "expired");
    assert!(
        count(&|pa| pa["status"] == "active" && pa["outcome"] == "complete") >= 3,
        "approved"
    );
}

#[tokio::test]
async fn twelve_visits_approved_and_five_used_by_the_claims_that_cite_it() {
    let app = spawn_app().await;
    let pas = prior_auths(&app, JASON).await;
    let therapy = pas
        .iter()
        .find(|pa| pa["id"] == "pa-jason-argonaut-20260727-1")
        .expect("the physical therapy authorization");
    let number = therapy["preAuthRef"][0].as_str().unwrap();
    let approved = adjudication(therapy, "allowedunits")[0]["value"]
        .as_f64()
        .unwrap();
    assert_eq!(approved, 12.0);

    let token = app.token(JASON, "patient/*.read").await;
    let claims: Value = app
        .get_with_token("/r4/ExplanationOfBenefit?use=claim&_count=200", &token)
        .await
        .json()
        .await
        .unwrap();
    let citing: Vec<&Value> = claims["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|c| {
            c["preAuthRef"]
                .as_array()
                .is_some_and(|refs| refs.iter().any(|r| r == number))
        })
        .collect();
    assert_eq!(citing.len(), 5, "five claims carry {number}");
    let used: f64 = citing
        .iter()
        .flat_map(|c| c["item"].as_array().into_iter().flatten())
        .map(|item| item["quantity"]["value"].as_f64().unwrap_or(1.0))
        .sum();
    assert_eq!(used, 5.0);
    let recorded = adjudication(therapy, "consumedunits")[0]["value"]
        .as_f64()
        .unwrap();
    assert_eq!(
        recorded, used,
        "the PA's consumed units agree with the claims"
    );
}

/// A prior authorization's provider, insurer, coverage and requester (`enterer`) come with it
/// through `_include`, as a claim's do.
#[tokio::test]
async fn includes_bring_the_provider_insurer_coverage_and_requester() {
    let app = spawn_app().await;
    let token = app.token(JASON, "patient/*.read").await;
    let bundle: Value = app
        .get_with_token(
            "/r4/ExplanationOfBenefit?_id=pa-jason-argonaut-20261123-1&_include=ExplanationOfBenefit:provider&_include=ExplanationOfBenefit:insurer&_include=ExplanationOfBenefit:coverage&_include=ExplanationOfBenefit:enterer",
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    let mut included = entry_refs(&bundle, Some("include"));
    included.sort();
    assert_eq!(
        included,
        [
            "Coverage/coverage-jason-argonaut-medical",
            "Organization/org-charles-river-family-medicine",
            "Organization/org-demo-health-plan",
            "PractitionerRole/role-amelia-chen",
        ]
    );
}
