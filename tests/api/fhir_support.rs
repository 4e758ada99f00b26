//! What the FHIR tests share: the two-member fixture, an HTTP client bound to one member's token,
//! bundle helpers, and an oracle computed independently of the server from the same data.

#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};

use payer_sandbox::data::{self, DataSource};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::{TestApp, spawn_with};

pub const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/two-members");
pub const ALICE: &str = "A-100";
pub const BOB: &str = "B-200";

pub async fn spawn_fixture() -> TestApp {
    spawn_with(|s| s.data = Some(FIXTURE.into())).await
}

pub fn fixture() -> Vec<Value> {
    data::resources(&DataSource::Directory(FIXTURE.into())).expect("fixture loads")
}

/// A FHIR client for one member's token.
pub struct Fhir<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl<'a> Fhir<'a> {
    pub async fn new(app: &'a TestApp, member_id: &str, scope: &str) -> Fhir<'a> {
        Fhir {
            app,
            token: app.token(member_id, scope).await,
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .app
            .get_with_token(&format!("/r4/{path}"), &self.token)
            .await;
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// A search that must succeed.
    pub async fn search(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        assert_eq!(body["resourceType"], "Bundle", "{path}");
        assert_eq!(body["type"], "searchset", "{path}");
        body
    }

    /// Every page of a search, following `next` links.
    pub async fn all_pages(&self, path: &str) -> Vec<Value> {
        let mut pages = vec![self.search(path).await];
        while let Some(next) = link(pages.last().expect("a page"), "next") {
            assert!(pages.len() < 1000, "runaway paging");
            let response = self
                .app
                .client
                .get(&next)
                .bearer_auth(&self.token)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 200, "{next}");
            pages.push(response.json().await.expect("json"));
        }
        pages
    }
}

pub fn link(bundle: &Value, relation: &str) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == relation)
        .and_then(|l| l["url"].as_str())
        .map(str::to_owned)
}

/// `Type/id` of the entries with `search.mode` = `mode`, in order.
pub fn entries(bundle: &Value, mode: &str) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["search"]["mode"] == mode)
                .map(|e| key(&e["resource"]))
                .collect()
        })
        .unwrap_or_default()
}

pub fn matches(bundle: &Value) -> Vec<String> {
    entries(bundle, "match")
}

pub fn match_set(bundle: &Value) -> BTreeSet<String> {
    matches(bundle).into_iter().collect()
}

pub fn includes(bundle: &Value) -> BTreeSet<String> {
    entries(bundle, "include").into_iter().collect()
}

pub fn key(resource: &Value) -> String {
    format!(
        "{}/{}",
        resource["resourceType"].as_str().unwrap_or_default(),
        resource["id"].as_str().unwrap_or_default()
    )
}

/// The expected answers, from the data alone.
pub struct Oracle {
    pub resources: Vec<Value>,
    by_key: HashMap<String, usize>,
}

const SHARED: &[&str] = &[
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Location",
    "RelatedPerson",
];

impl Oracle {
    pub fn new(resources: Vec<Value>) -> Oracle {
        let by_key = resources
            .iter()
            .enumerate()
            .map(|(i, r)| (key(r), i))
            .collect();
        Oracle { resources, by_key }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.by_key.get(key).map(|&i| &self.resources[i])
    }

    pub fn of_type<'a>(&'a self, resource_type: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.resources
            .iter()
            .filter(move |r| r["resourceType"] == resource_type)
    }

    /// docs/access.md#member-compartment, written out: the Patient; Coverage by beneficiary or subscriber; claims and
    /// clinical resources by patient or subject; then shared resources referenced, transitively.
    pub fn compartment(&self, patient_id: &str) -> BTreeSet<String> {
        let me = format!("Patient/{patient_id}");
        let mut inside: BTreeSet<String> = BTreeSet::new();
        for r in &self.resources {
            let t = r["resourceType"].as_str().unwrap_or_default();
            let owner_fields: &[&str] = match t {
                "Patient" => &[],
                "Coverage" => &["beneficiary", "subscriber"],
                "RelatedPerson"
                | "AllergyIntolerance"
                | "Immunization"
                | "ExplanationOfBenefit" => &["patient"],
                _ if SHARED.contains(&t) => continue,
                _ => &["subject"],
            };
            let mine = (t == "Patient" && key(r) == me)
                || owner_fields
                    .iter()
                    .any(|f| r[*f]["reference"].as_str() == Some(me.as_str()));
            if mine {
                inside.insert(key(r));
            }
        }
        let mut queue: Vec<String> = inside.iter().cloned().collect();
        while let Some(k) = queue.pop() {
            let mut refs = Vec::new();
            references(self.get(&k).expect("known"), &mut refs);
            for target in refs {
                let shared = SHARED.iter().any(|s| target.starts_with(&format!("{s}/")));
                if shared && self.get(&target).is_some() && inside.insert(target.clone()) {
                    queue.push(target);
                }
            }
        }
        inside
    }

    /// The member's resources of one type, in the default order (newest first, then id).
    pub fn visible(&self, patient_id: &str, resource_type: &str) -> Vec<String> {
        let prefix = format!("{resource_type}/");
        let keys: Vec<String> = self
            .compartment(patient_id)
            .into_iter()
            .filter(|k| k.starts_with(&prefix))
            .collect();
        self.default_order(keys)
    }

    pub fn default_order(&self, mut keys: Vec<String>) -> Vec<String> {
        keys.sort_by(|a, b| {
            let lu = |k: &String| {
                self.get(k)
                    .and_then(|r| r["meta"]["lastUpdated"].as_str())
                    .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
            };
            lu(b).cmp(&lu(a)).then_with(|| {
                let id = |k: &String| k.split_once('/').map(|(_, i)| i.to_owned());
                id(a).cmp(&id(b))
            })
        });
        keys
    }
}

pub fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("reference", Value::String(s)) => out.push(s.clone()),
                    _ => references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}
