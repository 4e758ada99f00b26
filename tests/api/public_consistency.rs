//! The embedded directory and formulary agree with the members' claims (docs/directory.md#consistency):
//! every provider, organization and location a member's claims reference is in the directory
//! under the same id, NPI and name; every drug a pharmacy claim paid for is in the formulary, with its
//! NDC stated beside its RxNorm code and a tier; every member's coverage plan is a product of the
//! directory. Checked through the three APIs, as an app would.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

const NPI: &str = "http://hl7.org/fhir/sid/us-npi";
const NDC: &str = "http://hl7.org/fhir/sid/ndc";

async fn json(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let mut request = app.client.get(app.at(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// Every resource of every page.
async fn all(app: &TestApp, path: &str, token: Option<&str>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next = Some(app.at(path));
    while let Some(url) = next {
        let mut request = app.client.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let page: Value = request.send().await.unwrap().json().await.unwrap();
        out.extend(
            page["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["resource"].clone()),
        );
        next = page["link"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["relation"] == "next"))
            .and_then(|l| l["url"].as_str().map(str::to_owned));
    }
    out
}

fn npis(resource: &Value) -> BTreeSet<String> {
    resource["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["system"] == NPI)
        .filter_map(|i| i["value"].as_str().map(str::to_owned))
        .collect()
}

fn name(resource: &Value) -> String {
    match &resource["name"] {
        Value::String(s) => s.clone(),
        Value::Array(names) => format!(
            "{} {}",
            names[0]["given"][0].as_str().unwrap_or(""),
            names[0]["family"].as_str().unwrap_or("")
        ),
        _ => String::new(),
    }
}

#[tokio::test]
async fn the_directory_and_formulary_agree_with_the_claims() {
    let app = spawn_app().await;
    let mut providers_checked = BTreeSet::new();
    let mut drugs_checked = BTreeSet::new();
    let mut plans_checked = BTreeSet::new();
    for member in app.members().await {
        let token = app
            .token(member["member_id"].as_str().unwrap(), "patient/*.read")
            .await;
        let token = Some(token.as_str());
        let bundle = all(
            &app,
            "/r4/ExplanationOfBenefit?_include=ExplanationOfBenefit:*&_count=200",
            token,
        )
        .await;
        for resource in &bundle {
            let t = resource["resourceType"].as_str().unwrap();
            if [
                "Organization",
                "Practitioner",
                "Location",
                "PractitionerRole",
            ]
            .contains(&t)
            {
                let id = resource["id"].as_str().unwrap();
                if !providers_checked.insert(format!("{t}/{id}")) {
                    continue;
                }
                let listed = json(&app, &format!("/directory/r4/{t}/{id}"), None).await;
                assert_eq!(npis(&listed), npis(resource), "{t}/{id}: NPI");
                assert_eq!(name(&listed), name(resource), "{t}/{id}: name");
            }
            if t == "ExplanationOfBenefit" {
                for item in resource["item"].as_array().into_iter().flatten() {
                    // A line refused as not covered (an NCPDP reject reason) was not paid: its
                    // drug need not be on the formulary.
                    let rejected = item["adjudication"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|a| a["category"]["coding"][0]["code"] == "rejectreason");
                    if rejected {
                        continue;
                    }
                    for coding in item["productOrService"]["coding"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        if coding["system"] != NDC {
                            continue;
                        }
                        let ndc = coding["code"].as_str().unwrap();
                        if !drugs_checked.insert(ndc.to_owned()) {
                            continue;
                        }
                        let drugs = all(
                            &app,
                            &format!("/formulary/r4/MedicationKnowledge?code={NDC}|{ndc}"),
                            None,
                        )
                        .await;
                        assert_eq!(drugs.len(), 1, "NDC {ndc} in the formulary");
                        let codings = drugs[0]["code"]["coding"].as_array().unwrap();
                        assert!(
                            codings
                                .iter()
                                .any(|c| c["system"]
                                    == "http://www.nlm.nih.gov/research/umls/rxnorm"),
                            "{ndc}: RxNorm"
                        );
                        let id = drugs[0]["id"].as_str().unwrap();
                        let items = all(
                            &app,
                            &format!("/formulary/r4/Basic?subject=MedicationKnowledge/{id}"),
                            None,
                        )
                        .await;
                        assert!(!items.is_empty(), "{ndc}: on a formulary");
                        for item in items {
                            assert!(
                                item.to_string().contains("usdf-DrugTierID-extension"),
                                "{ndc}: a tier"
                            );
                        }
                    }
                }
            }
        }
        for coverage in all(&app, "/r4/Coverage", token).await {
            for class in coverage["class"].as_array().into_iter().flatten() {
                if class["type"]["coding"][0]["code"] != "plan" {
                    continue;
                }
                let plan = class["value"].as_str().unwrap();
                if plans_checked.insert(plan.to_owned()) {
                    let products = all(
                        &app,
                        &format!("/directory/r4/InsurancePlan?identifier={plan}"),
                        None,
                    )
                    .await;
                    assert_eq!(products.len(), 1, "plan {plan} in the directory");
                }
            }
        }
    }
    assert!(providers_checked.len() >= 20, "{}", providers_checked.len());
    assert!(drugs_checked.len() >= 5, "{drugs_checked:?}");
    assert!(plans_checked.len() >= 3, "{plans_checked:?}");
}

/// The directory is large enough to search and page for real.
#[tokio::test]
async fn the_embedded_directory_is_realistic_to_search() {
    let app = spawn_app().await;
    let practitioners = json(&app, "/directory/r4/Practitioner?_summary=count", None).await;
    assert!(
        practitioners["total"].as_u64().unwrap() >= 2000,
        "{practitioners}"
    );
    let boston = json(
        &app,
        "/directory/r4/PractitionerRole?location.address-city=Boston&_count=10",
        None,
    )
    .await;
    assert!(boston["total"].as_u64().unwrap() > 10);
    assert!(
        boston["link"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["relation"] == "next")
    );
    let family = json(&app, "/directory/r4/PractitionerRole?specialty=http://nucc.org/provider-taxonomy|207Q00000X&location.address-city=Boston&_include=PractitionerRole:practitioner&_include=PractitionerRole:location", None).await;
    let entries = family["entry"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["resource"]["resourceType"] == "Practitioner")
    );
    assert!(
        entries
            .iter()
            .any(|e| e["resource"]["resourceType"] == "Location")
    );
}
