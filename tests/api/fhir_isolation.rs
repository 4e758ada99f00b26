//! Compartment isolation (docs/access.md#scope-enforcement) with two members: for every resource type and every search
//! shape, one member's token never sees the other's data — reads are 404, searches, includes,
//! revincludes and `$everything` leave it out — and both patient/ and user/ scopes behave so.

use std::collections::BTreeSet;

use crate::fhir_support::{ALICE, BOB, Fhir, Oracle, entries, fixture, key, spawn_fixture};

const MEMBERS: [(&str, &str); 2] = [(ALICE, "alice"), (BOB, "bob")];

/// Every include and revinclude the server supports, iterated.
fn every_include() -> String {
    let mut parts = Vec::new();
    for def in crate::helpers::patient_access_types() {
        parts.push(format!("_include:iterate={}:*", def.name));
        for (_, p) in def.reference_params() {
            parts.push(format!("_revinclude:iterate={}:{}", def.name, p.name));
        }
    }
    parts.join("&")
}

#[tokio::test]
async fn a_member_never_sees_another_members_data() {
    let app = spawn_fixture().await;
    let oracle = Oracle::new(fixture());
    let all: BTreeSet<String> = oracle.resources.iter().map(key).collect();
    let include_all = every_include();
    for scope in ["patient/*.read", "user/*.read", "patient/*.rs"] {
        for (member, patient) in MEMBERS {
            let fhir = Fhir::new(&app, member, scope).await;
            let mine = oracle.compartment(patient);
            let other = if patient == "alice" { "bob" } else { "alice" };
            assert!(mine.len() > 5 && mine.len() < all.len());

            for k in &all {
                let (status, _) = fhir.get(k).await;
                let expected = if mine.contains(k) { 200 } else { 404 };
                assert_eq!(status, expected, "{scope} {member} read {k}");
                let (status, _) = fhir.get(&format!("{k}/_history/1")).await;
                assert_eq!(status, expected, "{scope} {member} vread {k}");
            }
            for t in crate::helpers::patient_access_types()
                .iter()
                .map(|d| d.name)
            {
                let prefix = format!("{t}/");
                let want: BTreeSet<String> = mine
                    .iter()
                    .filter(|k| k.starts_with(&prefix))
                    .cloned()
                    .collect();
                let others: Vec<String> = all
                    .iter()
                    .filter(|k| k.starts_with(&prefix) && !mine.contains(*k))
                    .map(|k| k.split_once('/').unwrap().1.to_owned())
                    .collect();
                let shapes = [
                    t.to_string(),
                    format!("{t}?_count=1"),
                    format!("{t}?_id={}", others.join(",")),
                    format!("{t}?_lastUpdated=gt1900"),
                    format!("{t}?patient={other}"),
                    format!("{t}?patient=Patient/{other}"),
                    format!("{t}?_summary=count"),
                    format!("{t}?{include_all}"),
                ];
                for shape in &shapes {
                    let pages = fhir.all_pages(shape).await;
                    for page in &pages {
                        for mode in ["match", "include"] {
                            for k in entries(page, mode) {
                                assert!(mine.contains(&k), "{scope} {member} {shape}: {mode} {k}");
                            }
                        }
                        if page.get("total").is_some() {
                            assert!(
                                page["total"].as_u64().unwrap() as usize <= want.len(),
                                "{shape}"
                            );
                        }
                    }
                }
                let plain: BTreeSet<String> = fhir
                    .all_pages(&format!("{t}?_count=2"))
                    .await
                    .iter()
                    .flat_map(crate::fhir_support::matches)
                    .collect();
                assert_eq!(plain, want, "{scope} {member} {t}");
            }
            let everything: BTreeSet<String> = fhir
                .all_pages(&format!("Patient/{patient}/$everything?_count=7"))
                .await
                .iter()
                .flat_map(crate::fhir_support::matches)
                .collect();
            assert_eq!(everything, mine, "{scope} {member} $everything");
            assert_eq!(
                fhir.get(&format!("Patient/{other}/$everything")).await.0,
                404
            );
        }
    }
}

#[tokio::test]
async fn narrow_scopes_narrow_everything_and_includes() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(
        &app,
        ALICE,
        "patient/Patient.read patient/ExplanationOfBenefit.read",
    )
    .await;
    assert_eq!(fhir.get("ExplanationOfBenefit").await.0, 200);
    assert_eq!(fhir.get("Coverage").await.0, 403);
    assert_eq!(fhir.get("Organization/org-payer").await.0, 403);
    let bundle = fhir
        .search("ExplanationOfBenefit?_include=ExplanationOfBenefit:*")
        .await;
    let included: BTreeSet<String> = crate::fhir_support::includes(&bundle);
    assert_eq!(included, BTreeSet::from(["Patient/alice".to_owned()]));
    let everything: BTreeSet<String> = fhir
        .all_pages("Patient/alice/$everything")
        .await
        .iter()
        .flat_map(crate::fhir_support::matches)
        .collect();
    assert!(
        everything
            .iter()
            .all(|k| k.starts_with("Patient/") || k.starts_with("ExplanationOfBenefit/"))
    );
    let eob_only = Fhir::new(&app, ALICE, "patient/ExplanationOfBenefit.read").await;
    assert_eq!(eob_only.get("Patient/alice/$everything").await.0, 403);
}
