//! `_include`, `_include:iterate` and `_revinclude` (docs/fhir-api.md#includes): each required form, compared with
//! what the data says the page's matches reference, limited to the member's compartment.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::fhir_support::{
    ALICE, Fhir, Oracle, fixture, includes, match_set, matches, references, spawn_fixture,
};

fn refs_at(resource: &Value, path: &[&str]) -> Vec<String> {
    let mut nodes = vec![resource.clone()];
    for step in path {
        nodes = nodes
            .into_iter()
            .flat_map(|n| match &n[*step] {
                Value::Array(items) => items.clone(),
                Value::Null => vec![],
                other => vec![other.clone()],
            })
            .collect();
    }
    let mut out = Vec::new();
    for n in nodes {
        references(&n, &mut out);
    }
    out
}

fn eob_paths(param: &str) -> Vec<&'static [&'static str]> {
    match param {
        "patient" => vec![&["patient"]],
        "provider" => vec![&["provider"]],
        "care-team" => vec![&["careTeam", "provider"]],
        "coverage" => vec![&["insurance", "coverage"]],
        "insurer" => vec![&["insurer"]],
        "payee" => vec![&["payee", "party"]],
        "facility" => vec![&["facility"]],
        "*" => [
            "patient",
            "provider",
            "care-team",
            "coverage",
            "insurer",
            "payee",
            "facility",
        ]
        .into_iter()
        .flat_map(eob_paths)
        .collect(),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn each_explanation_of_benefit_include() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let oracle = Oracle::new(fixture());
    let mine = oracle.compartment("alice");
    for param in [
        "patient",
        "provider",
        "care-team",
        "coverage",
        "insurer",
        "payee",
        "facility",
        "*",
    ] {
        for count in [3, 50] {
            let bundle = fhir
                .search(&format!(
                    "ExplanationOfBenefit?_include=ExplanationOfBenefit:{param}&_count={count}"
                ))
                .await;
            let page = matches(&bundle);
            let page_set: BTreeSet<String> = page.iter().cloned().collect();
            let want: BTreeSet<String> = page
                .iter()
                .flat_map(|k| {
                    let eob = oracle.get(k).unwrap();
                    eob_paths(param)
                        .into_iter()
                        .flat_map(|p| refs_at(eob, p))
                        .collect::<Vec<_>>()
                })
                .filter(|t| mine.contains(t) && !page_set.contains(t))
                .collect();
            assert!(
                count < 50 || !want.is_empty(),
                "{param}: the fixture exercises it"
            );
            assert_eq!(includes(&bundle), want, "{param} _count={count}");
        }
    }
    // A target type narrows the include.
    let bundle = fhir
        .search("ExplanationOfBenefit?_include=ExplanationOfBenefit:care-team:PractitionerRole")
        .await;
    assert_eq!(
        includes(&bundle),
        BTreeSet::from(["PractitionerRole/role-1".to_owned()])
    );
}

#[tokio::test]
async fn iterate_follows_includes_of_includes() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let plain = fhir
        .search(
            "ExplanationOfBenefit?_include=ExplanationOfBenefit:coverage&_include=Coverage:payor",
        )
        .await;
    let coverages: BTreeSet<String> = ["Coverage/cov-alice", "Coverage/cov-bob-family"]
        .map(str::to_owned)
        .into();
    assert_eq!(
        includes(&plain),
        coverages,
        "without :iterate, Coverage:payor has no Coverage matches"
    );
    let iterated = fhir
        .search("ExplanationOfBenefit?_include=ExplanationOfBenefit:coverage&_include:iterate=Coverage:payor")
        .await;
    let mut want = coverages.clone();
    want.insert("Organization/org-payer".to_owned());
    want.insert("Organization/org-bob-only".to_owned());
    assert_eq!(includes(&iterated), want);
    // Two hops: provider PractitionerRole, then its practitioner and organization.
    let two = fhir
        .search("ExplanationOfBenefit?_id=eob-a3&_include=ExplanationOfBenefit:provider&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:organization")
        .await;
    assert_eq!(
        includes(&two),
        [
            "PractitionerRole/role-1",
            "Practitioner/pr-1",
            "Organization/org-clinic"
        ]
        .map(str::to_owned)
        .into()
    );
    let coverage = fhir
        .search("Coverage?_include=Coverage:payor&_include=Coverage:beneficiary")
        .await;
    assert_eq!(match_set(&coverage), coverages);
    assert_eq!(
        includes(&coverage),
        [
            "Organization/org-payer",
            "Organization/org-bob-only",
            "Patient/alice"
        ]
        .map(str::to_owned)
        .into(),
        "Bob, the beneficiary of the family coverage, is not brought in"
    );
}

#[tokio::test]
async fn revincludes_stay_in_the_compartment() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let oracle = Oracle::new(fixture());
    let set = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        (
            "Patient?_revinclude=ExplanationOfBenefit:patient",
            set(oracle.visible("alice", "ExplanationOfBenefit")),
        ),
        (
            "Patient?_revinclude=Coverage:beneficiary",
            set(vec!["Coverage/cov-alice".into()]),
        ),
        (
            "Patient?_revinclude=Coverage:subscriber",
            set(vec!["Coverage/cov-bob-family".into()]),
        ),
        (
            "Patient?_revinclude=Observation:patient",
            set(vec!["Observation/obs-a1".into()]),
        ),
        (
            "Patient?_revinclude=Condition:patient&_revinclude=AllergyIntolerance:patient&_revinclude=MedicationRequest:patient&_revinclude=Encounter:patient",
            set(vec![
                "Condition/cond-a1".into(),
                "AllergyIntolerance/allergy-a1".into(),
                "MedicationRequest/medreq-a1".into(),
                "Encounter/enc-a1".into(),
            ]),
        ),
        (
            "Patient?_revinclude=Immunization:patient&_revinclude=Procedure:patient",
            BTreeSet::new(),
        ),
        (
            "Coverage?_id=cov-bob-family&_revinclude=ExplanationOfBenefit:coverage",
            set(vec!["ExplanationOfBenefit/eob-a7".into()]),
        ),
        (
            "Organization?_id=org-payer&_revinclude=ExplanationOfBenefit:insurer",
            set(oracle.visible("alice", "ExplanationOfBenefit")),
        ),
        (
            "Practitioner?_revinclude=PractitionerRole:practitioner",
            set(vec!["PractitionerRole/role-1".into()]),
        ),
    ];
    for (query, want) in cases {
        let bundle = fhir.search(query).await;
        assert_eq!(includes(&bundle), want, "{query}");
    }
}
