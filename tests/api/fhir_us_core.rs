//! US Core 6.1.0 searches on the embedded seed data (docs/fhir-api.md#search-parameters): the
//! parameters and combinations the US Core 6.1.0 server CapabilityStatement makes SHALL for the
//! clinical types (Observation by patient+category, patient+code and patient+category+date;
//! Condition by patient+category; Encounter by date+patient; MedicationRequest by
//! patient+intent(+status); Procedure by patient+date), the optional ones the server adds, and the
//! CapabilityStatement entries that declare them. Each search must return exactly the seed data's
//! resources, by id.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::fhir_support::{Fhir, match_set};
use crate::helpers::{JASON, TestApp, spawn_app};

const ROSA: &str = "08-testmemid2";
const OBS: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const COND: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
const US_CORE_COND: &str = "http://hl7.org/fhir/us/core/CodeSystem/condition-category";

fn set(resource_type: &str, ids: &[&str]) -> BTreeSet<String> {
    ids.iter()
        .map(|id| format!("{resource_type}/{id}"))
        .collect()
}

/// Runs `query` with `patient` as an id and as a reference: both must give `want`.
async fn check(fhir: &Fhir<'_>, patient: &str, query: &str, want: &BTreeSet<String>) {
    let (resource_type, rest) = query.split_once('?').unwrap();
    for form in [patient.to_owned(), format!("Patient/{patient}")] {
        let path = format!("{resource_type}?patient={form}&{rest}");
        assert_eq!(&match_set(&fhir.search(&path).await), want, "{path}");
    }
}

async fn member<'a>(app: &'a TestApp, member_id: &str) -> Fhir<'a> {
    Fhir::new(app, member_id, "patient/*.rs").await
}

#[tokio::test]
async fn observations_by_patient_and_category() {
    let app = spawn_app().await;
    let jason = member(&app, JASON).await;
    let labs = set(
        "Observation",
        &[
            "obs-jason-argonaut-a1c-20230214",
            "obs-jason-argonaut-ldl-20230214",
            "obs-jason-argonaut-wbc-20240118",
            "obs-jason-argonaut-potassium-20240118",
            "obs-jason-argonaut-pneumococcal-ag-20240118",
            "obs-jason-argonaut-blood-culture-20240118",
        ],
    );
    check(
        &jason,
        "jason-argonaut",
        &format!("Observation?category={OBS}|laboratory"),
        &labs,
    )
    .await;
    // The code alone, as clients often send it, selects the same.
    check(
        &jason,
        "jason-argonaut",
        "Observation?category=laboratory",
        &labs,
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        &format!("Observation?category={OBS}|vital-signs"),
        &set(
            "Observation",
            &[
                "obs-jason-argonaut-bp-20200209",
                "obs-jason-argonaut-heart-rate-20200209",
                "obs-jason-argonaut-bp-20260310",
                "obs-jason-argonaut-heart-rate-20260310",
                "obs-jason-argonaut-height-20260310",
                "obs-jason-argonaut-weight-20260310",
                "obs-jason-argonaut-bmi-20260310",
            ],
        ),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        &format!("Observation?category={OBS}|social-history"),
        &set("Observation", &["obs-jason-argonaut-smoking-20260310"]),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        &format!("Observation?category={OBS}|survey"),
        &set(
            "Observation",
            &[
                "obs-jason-argonaut-phq2-20260310",
                "obs-jason-argonaut-phq2-interest-20260310",
                "obs-jason-argonaut-phq2-down-20260310",
                "obs-jason-argonaut-phq2-score-20260310",
            ],
        ),
    )
    .await;

    let rosa = member(&app, ROSA).await;
    let a1c: Vec<String> = [
        "20230212", "20230812", "20240212", "20240812", "20250212", "20250812", "20260212",
        "20260812",
    ]
    .iter()
    .map(|d| format!("obs-rosa-delgado-a1c-{d}"))
    .collect();
    let a1c: Vec<&str> = a1c.iter().map(String::as_str).collect();
    check(
        &rosa,
        "rosa-delgado",
        &format!("Observation?category={OBS}|laboratory"),
        &set("Observation", &a1c),
    )
    .await;
    // The food insecurity screening is also in the US Core `sdoh` category.
    check(
        &rosa,
        "rosa-delgado",
        "Observation?category=http://hl7.org/fhir/us/core/CodeSystem/us-core-category|sdoh",
        &set(
            "Observation",
            &[
                "obs-rosa-delgado-hvs-20250812",
                "obs-rosa-delgado-hvs-worried-20250812",
                "obs-rosa-delgado-hvs-ran-out-20250812",
                "obs-rosa-delgado-hvs-risk-20250812",
                "obs-rosa-delgado-hvs-comment-20250812",
            ],
        ),
    )
    .await;
}

#[tokio::test]
async fn observations_by_patient_and_code() {
    let app = spawn_app().await;
    let jason = member(&app, JASON).await;
    check(
        &jason,
        "jason-argonaut",
        "Observation?code=http://loinc.org|85354-9",
        &set(
            "Observation",
            &[
                "obs-jason-argonaut-bp-20200209",
                "obs-jason-argonaut-bp-20260310",
            ],
        ),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        "Observation?code=http://loinc.org|4548-4",
        &set("Observation", &["obs-jason-argonaut-a1c-20230214"]),
    )
    .await;
    // OR within the parameter: the smoking status and the PHQ-2 score.
    check(
        &jason,
        "jason-argonaut",
        "Observation?code=http://loinc.org|72166-2,http://loinc.org|55758-7",
        &set(
            "Observation",
            &[
                "obs-jason-argonaut-smoking-20260310",
                "obs-jason-argonaut-phq2-score-20260310",
            ],
        ),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        "Observation?code=http://snomed.info/sct|85354-9",
        &BTreeSet::new(),
    )
    .await;

    let rosa = member(&app, ROSA).await;
    let weights: Vec<String> = [
        "20230212", "20230812", "20240212", "20240812", "20250212", "20250812", "20260212",
        "20260812",
    ]
    .iter()
    .map(|d| format!("obs-rosa-delgado-weight-{d}"))
    .collect();
    let weights: Vec<&str> = weights.iter().map(String::as_str).collect();
    check(
        &rosa,
        "rosa-delgado",
        "Observation?code=http://loinc.org|29463-7",
        &set("Observation", &weights),
    )
    .await;
}

#[tokio::test]
async fn observations_by_patient_category_and_date() {
    let app = spawn_app().await;
    let jason = member(&app, JASON).await;
    check(
        &jason,
        "jason-argonaut",
        &format!("Observation?category={OBS}|vital-signs&date=2026-03-10"),
        &set(
            "Observation",
            &[
                "obs-jason-argonaut-bp-20260310",
                "obs-jason-argonaut-heart-rate-20260310",
                "obs-jason-argonaut-height-20260310",
                "obs-jason-argonaut-weight-20260310",
                "obs-jason-argonaut-bmi-20260310",
            ],
        ),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        &format!("Observation?category={OBS}|vital-signs&date=lt2021"),
        &set(
            "Observation",
            &[
                "obs-jason-argonaut-bp-20200209",
                "obs-jason-argonaut-heart-rate-20200209",
            ],
        ),
    )
    .await;
    // The comparators US Core makes SHALL (gt, lt, ge, le), two of them as a range.
    check(
        &jason,
        "jason-argonaut",
        &format!("Observation?category={OBS}|laboratory&date=ge2024-01-01&date=le2024-01-31"),
        &set(
            "Observation",
            &[
                "obs-jason-argonaut-wbc-20240118",
                "obs-jason-argonaut-potassium-20240118",
                "obs-jason-argonaut-pneumococcal-ag-20240118",
                "obs-jason-argonaut-blood-culture-20240118",
            ],
        ),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        &format!("Observation?category={OBS}|laboratory&date=gt2024-01-18"),
        &BTreeSet::new(),
    )
    .await;

    let rosa = member(&app, ROSA).await;
    check(
        &rosa,
        "rosa-delgado",
        &format!("Observation?category={OBS}|laboratory&date=ge2025"),
        &set(
            "Observation",
            &[
                "obs-rosa-delgado-a1c-20250212",
                "obs-rosa-delgado-a1c-20250812",
                "obs-rosa-delgado-a1c-20260212",
                "obs-rosa-delgado-a1c-20260812",
            ],
        ),
    )
    .await;
}

#[tokio::test]
async fn conditions_by_patient_and_category() {
    let app = spawn_app().await;
    let jason = member(&app, JASON).await;
    check(
        &jason,
        "jason-argonaut",
        &format!("Condition?category={COND}|problem-list-item"),
        &set("Condition", &["cond-jason-argonaut-asthma"]),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        &format!("Condition?category={COND}|encounter-diagnosis"),
        &set(
            "Condition",
            &[
                "cond-jason-argonaut-appendicitis",
                "cond-jason-argonaut-pneumonia",
            ],
        ),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        &format!("Condition?category={US_CORE_COND}|health-concern"),
        &BTreeSet::new(),
    )
    .await;

    let rosa = member(&app, ROSA).await;
    check(
        &rosa,
        "rosa-delgado",
        &format!("Condition?category={COND}|problem-list-item"),
        &set(
            "Condition",
            &[
                "cond-rosa-delgado-diabetes",
                "cond-rosa-delgado-hypertension",
                "cond-rosa-delgado-hyperlipidemia",
            ],
        ),
    )
    .await;
    let concern = set("Condition", &["cond-rosa-delgado-food-insecurity"]);
    check(
        &rosa,
        "rosa-delgado",
        &format!("Condition?category={US_CORE_COND}|health-concern"),
        &concern,
    )
    .await;
    // health-concern is US Core's code: in the terminology.hl7.org system it matches nothing.
    check(
        &rosa,
        "rosa-delgado",
        &format!("Condition?category={COND}|health-concern"),
        &BTreeSet::new(),
    )
    .await;
    // patient+category+clinical-status (SHOULD): the concern is resolved.
    check(
        &rosa,
        "rosa-delgado",
        &format!("Condition?category={US_CORE_COND}|health-concern&clinical-status=resolved"),
        &concern,
    )
    .await;
}

#[tokio::test]
async fn the_other_us_core_combinations() {
    let app = spawn_app().await;
    let jason = member(&app, JASON).await;
    // Encounter: date+patient (SHALL), identifier, location, discharge-disposition.
    check(
        &jason,
        "jason-argonaut",
        "Encounter?date=2024-01",
        &set("Encounter", &["enc-jason-argonaut-20240118"]),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        "Encounter?identifier=https://beaconhillgeneral.example.org/encounter-id|enc-jason-argonaut-20200209",
        &set("Encounter", &["enc-jason-argonaut-20200209"]),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        "Encounter?location=Location/loc-charles-river-family-medicine",
        &set(
            "Encounter",
            &["enc-jason-argonaut-20220322", "enc-jason-argonaut-20260310"],
        ),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        "Encounter?discharge-disposition=http://www.nubc.org/patient-discharge|01",
        &set(
            "Encounter",
            &["enc-jason-argonaut-20210711", "enc-jason-argonaut-20240118"],
        ),
    )
    .await;
    // Condition: patient+category+encounter, abatement-date.
    check(
        &jason,
        "jason-argonaut",
        &format!(
            "Condition?category={COND}|encounter-diagnosis&encounter=Encounter/enc-jason-argonaut-20240118"
        ),
        &set("Condition", &["cond-jason-argonaut-pneumonia"]),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        "Condition?abatement-date=lt2022",
        &set("Condition", &["cond-jason-argonaut-appendicitis"]),
    )
    .await;
    // MedicationRequest: patient+intent and patient+intent+status (SHALL), +encounter.
    check(
        &jason,
        "jason-argonaut",
        "MedicationRequest?intent=order&status=completed",
        &set(
            "MedicationRequest",
            &[
                "medrx-jason-argonaut-omeprazole",
                "medrx-jason-argonaut-azithromycin",
            ],
        ),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        "MedicationRequest?intent=order&encounter=enc-jason-argonaut-20240118",
        &set("MedicationRequest", &["medrx-jason-argonaut-azithromycin"]),
    )
    .await;
    let rosa = member(&app, ROSA).await;
    check(
        &rosa,
        "rosa-delgado",
        "MedicationRequest?intent=plan",
        &set("MedicationRequest", &["medrx-rosa-delgado-aspirin"]),
    )
    .await;
    // Immunization by patient+status: the shingles vaccine Rosa declined.
    check(
        &rosa,
        "rosa-delgado",
        "Immunization?status=not-done",
        &set("Immunization", &["imm-rosa-delgado-zoster-2024"]),
    )
    .await;
    // Procedure: patient+date (SHALL).
    check(
        &jason,
        "jason-argonaut",
        "Procedure?date=2021-07-11",
        &set("Procedure", &["proc-jason-argonaut-appendectomy"]),
    )
    .await;
    check(
        &jason,
        "jason-argonaut",
        "Procedure?date=gt2021-07-11",
        &BTreeSet::new(),
    )
    .await;
}

#[tokio::test]
async fn locations_by_address() {
    let app = spawn_app().await;
    let jason = member(&app, JASON).await;
    // Jason's compartment holds the Locations his records reference.
    for query in [
        "Location?address:contains=Cambridge",
        "Location?address=55%20Cambridge&address-city=Boston",
        "Location?address-postalcode=02114&address-state=MA&name:exact=Beacon%20Hill%20General%20Hospital",
    ] {
        assert_eq!(
            match_set(&jason.search(query).await),
            set("Location", &["loc-beacon-hill-general"]),
            "{query}"
        );
    }
}

fn statement_entry<'a>(cs: &'a Value, resource_type: &str) -> &'a Value {
    cs["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == resource_type)
        .unwrap()
}

#[tokio::test]
async fn the_capability_statement_declares_us_core() {
    let app = spawn_app().await;
    let cs: Value = app.get("/r4/metadata").await.json().await.unwrap();
    assert!(cs["implementationGuide"].as_array().unwrap().contains(
        &"http://hl7.org/fhir/us/core/ImplementationGuide/hl7.fhir.us.core|6.1.0".into()
    ));
    let us_core =
        |name: &str| format!("http://hl7.org/fhir/us/core/StructureDefinition/{name}|6.1.0");
    for (resource_type, profile, params) in [
        (
            "Observation",
            "us-core-observation-lab",
            &["patient", "category", "code", "date", "status"][..],
        ),
        (
            "Condition",
            "us-core-condition-encounter-diagnosis",
            &["patient", "category", "clinical-status", "encounter"],
        ),
        (
            "Encounter",
            "us-core-encounter",
            &["_id", "patient", "date", "identifier", "location"],
        ),
        ("Immunization", "us-core-immunization", &["patient", "date"]),
        (
            "AllergyIntolerance",
            "us-core-allergyintolerance",
            &["patient", "clinical-status"],
        ),
        (
            "MedicationRequest",
            "us-core-medicationrequest",
            &["patient", "intent", "status", "encounter"],
        ),
        (
            "Procedure",
            "us-core-procedure",
            &["patient", "date", "code"],
        ),
        ("Location", "us-core-location", &["name", "address"]),
        (
            "PractitionerRole",
            "us-core-practitionerrole",
            &["practitioner", "specialty"],
        ),
    ] {
        let entry = statement_entry(&cs, resource_type);
        assert!(
            entry["supportedProfile"]
                .as_array()
                .unwrap()
                .contains(&us_core(profile).into()),
            "{resource_type}: {profile}"
        );
        let declared: Vec<&str> = entry["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for param in params {
            assert!(declared.contains(param), "{resource_type}:{param}");
        }
    }
    let category = statement_entry(&cs, "Observation")["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "category")
        .unwrap();
    assert_eq!(
        category["definition"],
        "http://hl7.org/fhir/us/core/SearchParameter/us-core-observation-category"
    );
}
