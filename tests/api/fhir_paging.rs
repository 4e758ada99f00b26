//! Paging (docs/fhir-api.md#paging): a member with well over a hundred claims, walked forwards and backwards
//! through stateless links, with no duplicate and no gap; `$everything` paged the same way. The
//! data set is generated here and served with `--data`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::fhir_support::{Fhir, Oracle, link, matches};
use crate::helpers::{TestApp, spawn_with};

const CLAIMS: usize = 133;

fn generated() -> Vec<Value> {
    let mut out = vec![
        json!({"resourceType":"Organization","id":"payer","meta":{"lastUpdated":"2020-01-01T00:00:00Z"},"name":"Payer"}),
    ];
    for (id, mb) in [("pager", "P-1"), ("other", "P-2")] {
        out.push(json!({"resourceType":"Patient","id":id,"meta":{"lastUpdated":"2020-01-01T00:00:00Z"},
            "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MB"}]},"value":mb}],
            "name":[{"family":"Page","given":[id]}],"address":[{"postalCode":"12345"}]}));
        out.push(json!({"resourceType":"Coverage","id":format!("cov-{id}"),"meta":{"lastUpdated":"2020-01-01T00:00:00Z"},
            "status":"active","beneficiary":{"reference":format!("Patient/{id}")},"payor":[{"reference":"Organization/payer"}]}));
    }
    for n in 0..CLAIMS {
        // Every third claim shares its lastUpdated with the next, so ties are ordered by id.
        let day = 1 + (n / 3) % 28;
        let month = 1 + (n / 84) % 12;
        out.push(
            json!({"resourceType":"ExplanationOfBenefit","id":format!("c{n:03}"),
            "meta":{"lastUpdated":format!("2021-{month:02}-{day:02}T00:00:00Z")},
            "status":"active","patient":{"reference":"Patient/pager"},
            "insurer":{"reference":"Organization/payer"},
            "insurance":[{"focal":true,"coverage":{"reference":"Coverage/cov-pager"}}],
            "billablePeriod":{"start":format!("2020-{month:02}-{day:02}")}}),
        );
    }
    for n in 0..5 {
        out.push(
            json!({"resourceType":"ExplanationOfBenefit","id":format!("o{n}"),
            "meta":{"lastUpdated":"2021-01-01T00:00:00Z"},"status":"active",
            "patient":{"reference":"Patient/other"},"insurer":{"reference":"Organization/payer"}}),
        );
    }
    out
}

async fn spawn_generated() -> (TestApp, Oracle) {
    let resources = generated();
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "payer-sandbox-paging-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ndjson: String = resources.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(dir.join("data.ndjson"), ndjson).unwrap();
    let app = spawn_with(|s| s.data = Some(dir.clone())).await;
    // Loaded once at start-up: the files are no longer needed.
    let _ = std::fs::remove_dir_all(&dir);
    (app, Oracle::new(resources))
}

/// Distinct per spawn within this test process.
fn rand_suffix() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[tokio::test]
async fn pages_cover_every_match_once_in_order() {
    let (app, oracle) = spawn_generated().await;
    let fhir = Fhir::new(&app, "P-1", "patient/*.read").await;
    let want = oracle.visible("pager", "ExplanationOfBenefit");
    assert_eq!(want.len(), CLAIMS);
    for count in [10, 50, 7] {
        let pages = fhir
            .all_pages(&format!(
                "ExplanationOfBenefit?_count={count}&_include=ExplanationOfBenefit:coverage"
            ))
            .await;
        assert_eq!(pages.len(), CLAIMS.div_ceil(count), "_count={count}");
        let got: Vec<String> = pages.iter().flat_map(matches).collect();
        assert_eq!(got, want, "_count={count}: every match once, in order");
        for page in &pages {
            assert_eq!(page["total"], CLAIMS);
            assert_eq!(
                crate::fhir_support::includes(page),
                BTreeSet::from(["Coverage/cov-pager".to_owned()])
            );
        }
        // Walking back from the last page gives the same pages.
        let mut back = vec![pages.last().unwrap().clone()];
        while let Some(previous) = link(back.last().unwrap(), "previous") {
            let page: Value = app
                .client
                .get(&previous)
                .bearer_auth(&fhir.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            back.push(page);
        }
        back.reverse();
        let back: Vec<String> = back.iter().flat_map(matches).collect();
        assert_eq!(back, want);
        let last = link(&pages[0], "last").unwrap();
        assert_eq!(last, link(pages.last().unwrap(), "self").unwrap());
    }
    // Paging with a filter and a sort keeps both.
    let pages = fhir
        .all_pages("ExplanationOfBenefit?billable-period-start=ge2020-06&_sort=billable-period-start&_count=9")
        .await;
    let got: Vec<String> = pages.iter().flat_map(matches).collect();
    let unique: BTreeSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len());
    let starts: Vec<String> = got
        .iter()
        .map(|k| {
            oracle.get(k).unwrap()["billablePeriod"]["start"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    assert!(starts.iter().all(|s| s.as_str() >= "2020-06"));
    assert_eq!(pages[0]["total"], got.len());
}

#[tokio::test]
async fn everything_pages_through_the_compartment() {
    let (app, oracle) = spawn_generated().await;
    let fhir = Fhir::new(&app, "P-1", "patient/*.read").await;
    let want = oracle.compartment("pager");
    let pages = fhir.all_pages("Patient/pager/$everything?_count=25").await;
    let got: Vec<String> = pages.iter().flat_map(matches).collect();
    assert_eq!(got[0], "Patient/pager");
    let set: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(set.len(), got.len(), "no duplicates");
    assert_eq!(set, want);
    assert_eq!(pages[0]["total"], want.len());
    let only = fhir
        .all_pages("Patient/pager/$everything?_type=Coverage,Organization")
        .await;
    let only: BTreeSet<String> = only.iter().flat_map(matches).collect();
    assert_eq!(
        only,
        BTreeSet::from([
            "Coverage/cov-pager".to_owned(),
            "Organization/payer".to_owned()
        ])
    );
    let other = Fhir::new(&app, "P-2", "patient/*.read").await;
    assert_eq!(other.get("Patient/pager/$everything").await.0, 404);
}
