//! Isolation at scale (docs/access.md#scope-enforcement): for every test member, every resource type, every search form
//! and include, every read of every other member's resources and `$everything`, no response ever
//! carries a resource that belongs to another member. The oracle is computed here from the data,
//! independently of the server's compartment index.

use std::collections::{HashMap, HashSet};

use payer_sandbox::data::{DataSource, resources};
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

const TYPES: &[&str] = &[
    "Patient",
    "Coverage",
    "ExplanationOfBenefit",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Location",
    "RelatedPerson",
    "Observation",
    "Encounter",
    "Condition",
    "AllergyIntolerance",
    "Immunization",
    "MedicationRequest",
    "Procedure",
];

/// `Type/id` → the Patient id it belongs to, for every resource that belongs to one member.
fn owners() -> HashMap<String, String> {
    let data = resources(&DataSource::Embedded).unwrap();
    let patient_of = |v: &Value| {
        v["reference"]
            .as_str()
            .and_then(|r| r.strip_prefix("Patient/"))
            .map(str::to_owned)
    };
    let mut owners = HashMap::new();
    for r in &data {
        let t = r["resourceType"].as_str().unwrap();
        let id = r["id"].as_str().unwrap();
        let owner = match t {
            "Patient" => Some(id.to_owned()),
            "Coverage" => patient_of(&r["beneficiary"]),
            "ExplanationOfBenefit" | "AllergyIntolerance" | "Immunization" => {
                patient_of(&r["patient"])
            }
            "Observation" | "Encounter" | "Condition" | "MedicationRequest" | "Procedure" => {
                patient_of(&r["subject"])
            }
            _ => None,
        };
        if let Some(owner) = owner {
            owners.insert(format!("{t}/{id}"), owner);
        }
    }
    owners
}

/// Every `Type/id` a response carries: the resource itself, or a Bundle's entries.
fn carried(body: &Value) -> Vec<String> {
    if body["resourceType"] == "Bundle" {
        body["entry"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| {
                        Some(format!(
                            "{}/{}",
                            e["resource"]["resourceType"].as_str()?,
                            e["resource"]["id"].as_str()?
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else if let (Some(t), Some(id)) = (body["resourceType"].as_str(), body["id"].as_str()) {
        vec![format!("{t}/{id}")]
    } else {
        Vec::new()
    }
}

struct Checker<'a> {
    app: &'a TestApp,
    owners: &'a HashMap<String, String>,
    requests: usize,
    /// Resources of the calling member seen: proof the searches return data at all.
    own_seen: usize,
}

impl Checker<'_> {
    /// GETs `path` (and every `next` page) as `patient`; fails on any resource of another member.
    async fn get(&mut self, path: &str, token: &str, patient: &str) -> u16 {
        let mut url = self.app.at(path);
        let mut first_status = 0;
        for _ in 0..20 {
            let response = self
                .app
                .client
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            self.requests += 1;
            let status = response.status().as_u16();
            if first_status == 0 {
                first_status = status;
            }
            assert!(status < 500, "{path}: {status}");
            let body: Value = response.json().await.unwrap_or(Value::Null);
            for reference in carried(&body) {
                if let Some(owner) = self.owners.get(&reference) {
                    assert_eq!(
                        owner, patient,
                        "{patient}'s token received {reference} (of {owner}) from {path}"
                    );
                    self.own_seen += 1;
                }
            }
            match body["link"]
                .as_array()
                .and_then(|l| l.iter().find(|l| l["relation"] == "next"))
            {
                Some(next) => url = next["url"].as_str().unwrap().to_owned(),
                None => break,
            }
        }
        first_status
    }

    async fn post_search(
        &mut self,
        resource_type: &str,
        form: &[(&str, &str)],
        token: &str,
        patient: &str,
    ) {
        let response = self
            .app
            .client
            .post(self.app.at(&format!("/r4/{resource_type}/_search")))
            .bearer_auth(token)
            .form(form)
            .send()
            .await
            .unwrap();
        self.requests += 1;
        assert!(response.status().as_u16() < 500);
        let body: Value = response.json().await.unwrap_or(Value::Null);
        for reference in carried(&body) {
            if let Some(owner) = self.owners.get(&reference) {
                assert_eq!(
                    owner, patient,
                    "{patient}'s token received {reference} from POST {resource_type}/_search {form:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn no_member_ever_receives_another_members_resources() {
    let app = spawn_app().await;
    let owners = owners();
    let members = app.members().await;
    assert!(members.len() >= 4);
    let mut by_patient: HashMap<String, Vec<String>> = HashMap::new();
    for (reference, owner) in &owners {
        by_patient
            .entry(owner.clone())
            .or_default()
            .push(reference.clone());
    }
    let mut checker = Checker {
        app: &app,
        owners: &owners,
        requests: 0,
        own_seen: 0,
    };
    let mut pairs = HashSet::new();
    for member in &members {
        let token = app
            .token(member["member_id"].as_str().unwrap(), "patient/*.read")
            .await;
        let me = member["patient_id"].as_str().unwrap();
        for other in &members {
            let them = other["patient_id"].as_str().unwrap();
            if them == me {
                continue;
            }
            pairs.insert((me.to_owned(), them.to_owned()));
            for reference in by_patient.get(them).into_iter().flatten() {
                let status = checker.get(&format!("/r4/{reference}"), &token, me).await;
                assert_eq!(status, 404, "{me} read {reference}");
            }
            assert_eq!(
                checker
                    .get(&format!("/r4/Patient/{them}/$everything"), &token, me)
                    .await,
                404
            );
            for t in TYPES {
                for query in [
                    format!("patient={them}"),
                    format!("patient=Patient/{them}"),
                    format!("subject={them}"),
                    format!("beneficiary={them}"),
                ] {
                    checker.get(&format!("/r4/{t}?{query}"), &token, me).await;
                }
            }
            let their_eob = by_patient
                .get(them)
                .into_iter()
                .flatten()
                .find(|r| r.starts_with("ExplanationOfBenefit/"));
            if let Some(eob) = their_eob {
                let id = eob.trim_start_matches("ExplanationOfBenefit/");
                checker
                    .get(&format!("/r4/ExplanationOfBenefit?_id={id}"), &token, me)
                    .await;
                checker
                    .post_search("ExplanationOfBenefit", &[("_id", id)], &token, me)
                    .await;
            }
            checker
                .post_search(
                    "Coverage",
                    &[("patient", them), ("_include", "Coverage:payor")],
                    &token,
                    me,
                )
                .await;
        }
        let seen_before = checker.own_seen;
        for t in TYPES {
            checker
                .get(&format!("/r4/{t}?_count=200"), &token, me)
                .await;
            checker
                .get(&format!("/r4/{t}?_include={t}:*&_revinclude=*"), &token, me)
                .await;
        }
        for path in [
            "/r4/ExplanationOfBenefit?_include=ExplanationOfBenefit:*&_include:iterate=Coverage:payor&_include:iterate=Coverage:beneficiary".to_owned(),
            "/r4/Patient?_revinclude=ExplanationOfBenefit:patient&_revinclude=Coverage:beneficiary&_revinclude=Observation:patient&_revinclude=Condition:patient".to_owned(),
            "/r4/Coverage?_include=Coverage:beneficiary&_include=Coverage:payor".to_owned(),
            "/r4/Organization?_revinclude=ExplanationOfBenefit:insurer&_revinclude=Coverage:payor".to_owned(),
            "/r4/Practitioner?_revinclude=ExplanationOfBenefit:care-team&_revinclude=PractitionerRole:practitioner".to_owned(),
            format!("/r4/Patient/{me}/$everything?_count=50"),
        ] {
            checker.get(&path, &token, me).await;
        }
        let own = by_patient.get(me).map_or(0, Vec::len);
        assert!(
            checker.own_seen - seen_before >= own,
            "{me}'s own {own} resources were all served to {me}"
        );
    }
    assert_eq!(pairs.len(), members.len() * (members.len() - 1));
    assert!(checker.requests > 500, "only {} requests", checker.requests);
}

/// `Type/id` → owner of every resource the embedded timeline brings (new claims, new versions).
fn timeline_owners() -> HashMap<String, String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data/timeline.ndjson"),
    )
    .unwrap();
    let mut out = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let entry: Value = serde_json::from_str(line).unwrap();
        let r = &entry["resource"];
        let owner = r["patient"]["reference"]
            .as_str()
            .or(r["beneficiary"]["reference"].as_str())
            .and_then(|p| p.strip_prefix("Patient/"));
        if let (Some(t), Some(id), Some(owner)) =
            (r["resourceType"].as_str(), r["id"].as_str(), owner)
        {
            out.insert(format!("{t}/{id}"), owner.to_owned());
        }
    }
    out
}

/// The same rule once the data has changed (docs/data.md#data-that-changes): after the timeline
/// has run and the control API has decided on a prior authorization of every member who has
/// one, no member reaches another's versions (`_history`, vread), new resources or changes
/// (`_lastUpdated`, `$everything?_since`), while each reaches their own.
#[tokio::test]
async fn no_member_reaches_another_members_versions_or_changes() {
    let start = time::macros::datetime!(2026-12-01 12:00 UTC);
    let app = crate::helpers::spawn_with_clock(
        std::sync::Arc::new(payer_sandbox::clock::Clock::frozen(start)),
        |_| {},
    )
    .await;
    let mut owners = owners();
    owners.extend(timeline_owners());
    app.advance_clock(31 * 86_400).await;
    let pas: Vec<&String> = owners
        .keys()
        .filter(|r| r.starts_with("ExplanationOfBenefit/pa-"))
        .collect();
    let mut decided: HashMap<String, String> = HashMap::new();
    for pa in pas {
        let owner = &owners[pa.as_str()];
        if decided.contains_key(owner) {
            continue;
        }
        let id = pa.trim_start_matches("ExplanationOfBenefit/");
        let response = app
            .post_json(
                &format!("/sandbox/api/prior-authorizations/{id}/decision"),
                serde_json::json!({"decision": "pend"}),
            )
            .await;
        if response.status() == 200 {
            decided.insert(owner.clone(), pa.clone());
        }
    }
    assert!(decided.len() >= 4, "{decided:?}");
    let changes: Value = app.get("/sandbox/api/changes").await.json().await.unwrap();
    let changed: Vec<String> = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["version_id"].is_string())
        .map(|c| c["resource"].as_str().unwrap().to_owned())
        .collect();
    assert!(changed.len() >= 9, "{changed:?}");

    let members = app.members().await;
    let mut checker = Checker {
        app: &app,
        owners: &owners,
        requests: 0,
        own_seen: 0,
    };
    for member in &members {
        let token = app
            .token(member["member_id"].as_str().unwrap(), "patient/*.read")
            .await;
        let me = member["patient_id"].as_str().unwrap();
        for reference in &changed {
            let Some(owner) = owners.get(reference) else {
                continue;
            };
            let expected = if owner == me { 200 } else { 404 };
            for path in [
                format!("/r4/{reference}/_history"),
                format!("/r4/{reference}/_history/1"),
                format!("/r4/{reference}/_history/2"),
                format!("/r4/{reference}"),
            ] {
                let status = checker.get(&path, &token, me).await;
                if path.ends_with("_history/2") && reference.contains("eob-") {
                    continue; // a new claim has one version
                }
                assert_eq!(status, expected, "{me}: {path}");
            }
        }
        for path in [
            "/r4/ExplanationOfBenefit?_lastUpdated=gt2026-12-01T12:00:00Z".to_owned(),
            "/r4/Coverage?_lastUpdated=gt2026-12-01T12:00:00Z".to_owned(),
            "/r4/ExplanationOfBenefit?_lastUpdated=gt2026-12-01T12:00:00Z&_include=ExplanationOfBenefit:*".to_owned(),
            format!("/r4/Patient/{me}/$everything?_since=2026-12-01T12:00:00Z"),
        ] {
            checker.get(&path, &token, me).await;
        }
    }
    assert!(checker.own_seen >= changed.len(), "{}", checker.own_seen);
}
