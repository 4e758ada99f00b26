//! The public provider directory and formulary (docs/directory.md), on a small data set of the
//! test's own: no token needed and a bearer ignored, member types unreachable, writes refused,
//! one-level chains, includes and revincludes, extension-valued parameters, paging; and the
//! start-up checks of the public folders.

use serde_json::{Value, json};

use crate::helpers::{TestApp, entry_refs, spawn_with};

const PLAN_NET: &str = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/";
const USDF: &str = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/";

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("payer-sandbox-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["directory", "formulary"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    dir
}

fn ndjson(resources: &[Value]) -> String {
    resources.iter().map(|r| format!("{r}\n")).collect()
}

fn directory() -> Vec<Value> {
    let mut out = vec![
        json!({"resourceType":"Organization","id":"net-ppo","name":"Demo PPO Network",
               "meta":{"profile":[format!("{PLAN_NET}plannet-Network")]}}),
        json!({"resourceType":"Organization","id":"org-boston","name":"Boston Clinic",
               "address":[{"city":"Boston","state":"MA"}]}),
        json!({"resourceType":"Location","id":"loc-boston","name":"Boston Clinic",
               "address":{"city":"Boston","state":"MA","postalCode":"02114"},
               "managingOrganization":{"reference":"Organization/org-boston"}}),
        json!({"resourceType":"Location","id":"loc-denver","name":"Denver Clinic",
               "address":{"city":"Denver","state":"CO","postalCode":"80203"}}),
        json!({"resourceType":"InsurancePlan","id":"plan-gold","name":"Demo Gold PPO",
               "ownedBy":{"reference":"Organization/org-boston"}}),
    ];
    for i in 0..30 {
        let city = if i % 3 == 0 { "denver" } else { "boston" };
        out.push(
            json!({"resourceType":"Practitioner","id":format!("pract-{i}"),
            "name":[{"family":format!("Family{i}"),"given":["Pat"]}]}),
        );
        out.push(
            json!({"resourceType":"PractitionerRole","id":format!("role-{i}"),
            "extension":[{"url":format!("{PLAN_NET}network-reference"),
                          "valueReference":{"reference":"Organization/net-ppo"}}],
            "practitioner":{"reference":format!("Practitioner/pract-{i}")},
            "location":[{"reference":format!("Location/loc-{city}")}],
            "specialty":[{"coding":[{"system":"http://nucc.org/provider-taxonomy",
                "code": if i % 2 == 0 { "207Q00000X" } else { "207R00000X" }}]}]}),
        );
    }
    out
}

fn formulary() -> Vec<Value> {
    vec![
        json!({"resourceType":"InsurancePlan","id":"formulary-gold","name":"Demo Gold Formulary",
               "meta":{"profile":[format!("{USDF}usdf-Formulary")]}}),
        json!({"resourceType":"MedicationKnowledge","id":"drug-metformin","status":"active",
               "code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"861007",
                                   "display":"metformin hydrochloride 500 MG Oral Tablet"}]}}),
        json!({"resourceType":"Basic","id":"item-metformin",
               "extension":[
                 {"url":format!("{USDF}usdf-FormularyReference-extension"),
                  "valueReference":{"reference":"InsurancePlan/formulary-gold"}},
                 {"url":format!("{USDF}usdf-DrugTierID-extension"),
                  "valueCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/us/davinci-drug-formulary/CodeSystem/usdf-DrugTierCS","code":"generic"}]}}],
               "code":{"coding":[{"system":"http://hl7.org/fhir/us/davinci-drug-formulary/CodeSystem/usdf-InsuranceItemTypeCS","code":"formulary-item"}]},
               "subject":{"reference":"MedicationKnowledge/drug-metformin"}}),
    ]
}

async fn spawn(name: &str) -> (TestApp, std::path::PathBuf) {
    let dir = temp_dir(name);
    std::fs::write(
        dir.join("members.json"),
        json!({"resourceType":"Patient","id":"p1","name":[{"family":"One","given":["Pat"]}],
               "address":[{"postalCode":"02114"}],
               "identifier":[{"type":{"coding":[{"code":"MB"}]},"value":"M-1"}]})
        .to_string(),
    )
    .unwrap();
    std::fs::write(dir.join("directory/data.ndjson"), ndjson(&directory())).unwrap();
    std::fs::write(dir.join("formulary/data.ndjson"), ndjson(&formulary())).unwrap();
    let app = spawn_with(|s| s.data = Some(dir.clone())).await;
    (app, dir)
}

async fn get(app: &TestApp, path: &str, bearer: Option<&str>) -> (u16, Value) {
    let mut request = app.client.get(app.at(path));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn ids(bundle: &Value, mode: &str) -> Vec<String> {
    let mut out = entry_refs(bundle, Some(mode));
    out.sort();
    out
}

#[tokio::test]
async fn anyone_reads_and_searches_without_a_token_and_nothing_else() {
    let (app, dir) = spawn("public-open").await;
    for bearer in [None, Some("not-a-token")] {
        let (status, body) = get(&app, "/directory/r4/Practitioner?_count=10", bearer).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total"], 30);
        assert!(
            body["link"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["relation"] == "next")
        );
        assert!(
            body["entry"][0]["fullUrl"]
                .as_str()
                .unwrap()
                .contains("/directory/r4/Practitioner/")
        );
        let (status, _) = get(
            &app,
            "/formulary/r4/MedicationKnowledge/drug-metformin",
            bearer,
        )
        .await;
        assert_eq!(status, 200);
    }
    // No member data, whatever the form: the member's Patient exists on /r4 only.
    for base in ["/directory/r4", "/formulary/r4"] {
        for path in [
            "Patient",
            "Patient/p1",
            "ExplanationOfBenefit?patient=p1",
            "Coverage",
            "Observation",
            "Patient/p1/$everything",
            "Patient/p1/_history",
        ] {
            let (status, body) = get(&app, &format!("{base}/{path}"), None).await;
            assert_eq!(status, 404, "{base}/{path}: {body}");
            assert_eq!(body["resourceType"], "OperationOutcome");
        }
        let response = app
            .client
            .post(app.at(&format!("{base}/Practitioner")))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
    }
    // ETags and conditional reads, and CORS open to any origin, as on /r4.
    let read = app
        .client
        .get(app.at("/directory/r4/Practitioner/pract-3"))
        .send()
        .await
        .unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "W/\"1\"");
    let again = app
        .client
        .get(app.at("/directory/r4/Practitioner/pract-3"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.at("/formulary/r4/Basic"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    // A directory type is not served on the other public API or on /r4.
    assert_eq!(get(&app, "/formulary/r4/Practitioner", None).await.0, 404);
    assert_eq!(get(&app, "/directory/r4/Basic", None).await.0, 404);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn chains_includes_and_extension_parameters() {
    let (app, dir) = spawn("public-search").await;
    let (_, boston) = get(
        &app,
        "/directory/r4/PractitionerRole?location.address-city=Boston&_count=100",
        None,
    )
    .await;
    assert_eq!(boston["total"], 20);
    let (_, denver_family) = get(
        &app,
        "/directory/r4/PractitionerRole?location.address-state=CO&specialty=207Q00000X",
        None,
    )
    .await;
    // Denver: i % 3 == 0 (10 roles); family medicine: i even: i in 0, 6, 12, 18, 24.
    assert_eq!(denver_family["total"], 5);
    let (_, named) = get(
        &app,
        "/directory/r4/PractitionerRole?practitioner.family=Family12",
        None,
    )
    .await;
    assert_eq!(ids(&named, "match"), ["PractitionerRole/role-12"]);
    let (_, network) = get(
        &app,
        "/directory/r4/PractitionerRole?network.name=Demo%20PPO&_summary=count",
        None,
    )
    .await;
    assert_eq!(network["total"], 30);
    let (_, by_network) = get(
        &app,
        "/directory/r4/PractitionerRole?network=Organization/net-ppo&_summary=count",
        None,
    )
    .await;
    assert_eq!(by_network["total"], 30);

    let (_, included) = get(&app, "/directory/r4/PractitionerRole?_id=role-12&_include=PractitionerRole:practitioner&_include=PractitionerRole:location&_include=PractitionerRole:network", None).await;
    assert_eq!(
        ids(&included, "include"),
        [
            "Location/loc-denver",
            "Organization/net-ppo",
            "Practitioner/pract-12"
        ]
    );
    let (_, rev) = get(
        &app,
        "/directory/r4/Practitioner?_id=pract-4&_revinclude=PractitionerRole:practitioner",
        None,
    )
    .await;
    assert_eq!(ids(&rev, "include"), ["PractitionerRole/role-4"]);

    let (_, tier) = get(&app, "/formulary/r4/Basic?drug-tier=generic&formulary=InsurancePlan/formulary-gold&_include=Basic:subject", None).await;
    assert_eq!(ids(&tier, "match"), ["Basic/item-metformin"]);
    assert_eq!(
        ids(&tier, "include"),
        ["MedicationKnowledge/drug-metformin"]
    );
    let (_, by_name) = get(
        &app,
        "/formulary/r4/MedicationKnowledge?drug-name=metformin",
        None,
    )
    .await;
    assert_eq!(by_name["total"], 1);
    let (_, chained) = get(&app, "/formulary/r4/Basic?subject.code=861007", None).await;
    assert_eq!(chained["total"], 1);

    // Unknown chains are reported, or refused under strict handling; bad values are a 400.
    let (status, body) = get(
        &app,
        "/directory/r4/PractitionerRole?practitioner.nope=x",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.to_string().contains("not a chained parameter"));
    let strict = app
        .client
        .get(app.at("/directory/r4/PractitionerRole?practitioner.nope=x"))
        .header("prefer", "handling=strict")
        .send()
        .await
        .unwrap();
    assert_eq!(strict.status(), 400);
    assert_eq!(
        get(&app, "/directory/r4/PractitionerRole?period=notadate", None)
            .await
            .0,
        400
    );
    // On the Patient Access API, chains stay unsupported.
    let token = app.token("M-1", "patient/*.read").await;
    let body: Value = app
        .get_with_token("/r4/PractitionerRole?location.address-city=Boston", &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body.to_string()
            .contains("not supported on the Patient Access API"),
        "{body}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn capability_statements_list_the_ig_types_and_parameters() {
    let (app, dir) = spawn("public-metadata").await;
    let (_, directory) = get(&app, "/directory/r4/metadata", None).await;
    assert_eq!(
        directory["instantiates"][0],
        "http://hl7.org/fhir/us/davinci-pdex-plan-net/CapabilityStatement/plan-net"
    );
    let types: Vec<&str> = directory["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Endpoint",
            "HealthcareService",
            "InsurancePlan",
            "Location",
            "Organization",
            "OrganizationAffiliation",
            "Practitioner",
            "PractitionerRole"
        ]
    );
    assert!(directory["rest"][0].get("security").is_none());
    let role = directory["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "PractitionerRole")
        .unwrap();
    for name in [
        "practitioner",
        "organization",
        "location",
        "service",
        "network",
        "endpoint",
        "role",
        "specialty",
        "_id",
        "_lastUpdated",
    ] {
        let param = role["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert!(
            param["definition"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}"
        );
    }
    for include in [
        "PractitionerRole:practitioner",
        "PractitionerRole:network",
        "PractitionerRole:service",
    ] {
        assert!(
            role["searchInclude"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i == include),
            "{include}"
        );
    }
    let (_, formulary) = get(&app, "/formulary/r4/metadata", None).await;
    let types: Vec<&str> = formulary["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["Basic", "InsurancePlan", "Location", "MedicationKnowledge"]
    );
    // /r4 still declares only the Patient Access types.
    let (_, r4) = get(&app, "/r4/metadata", None).await;
    assert!(!r4.to_string().contains("\"type\":\"InsurancePlan\""));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn bad_public_data_stops_start_up() {
    let dir = temp_dir("public-bad");
    std::fs::write(
        dir.join("members.json"),
        json!({"resourceType":"Patient","id":"p1"}).to_string(),
    )
    .unwrap();
    let build = |dir: std::path::PathBuf| async move {
        let mut settings = payer_sandbox::settings::Settings::for_tests();
        settings.data = Some(dir);
        match payer_sandbox::startup::Application::build(settings).await {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    };
    std::fs::write(
        dir.join("directory/a.json"),
        json!({"resourceType":"Patient","id":"p2"}).to_string(),
    )
    .unwrap();
    let error = build(dir.clone()).await;
    assert!(
        error.contains("Patient does not belong in the directory"),
        "{error}"
    );
    std::fs::write(
        dir.join("directory/a.json"),
        json!({"resourceType":"PractitionerRole","id":"r",
        "practitioner":{"reference":"Practitioner/missing"}})
        .to_string(),
    )
    .unwrap();
    let error = build(dir.clone()).await;
    assert!(
        error.contains("directory/a.json: 1 reference(s) resolve to nothing in the directory")
            && error.contains("Practitioner/missing"),
        "{error}"
    );
    std::fs::write(dir.join("formulary/b.json"), "{oops").unwrap();
    std::fs::write(
        dir.join("directory/a.json"),
        json!({"resourceType":"Practitioner","id":"x"}).to_string(),
    )
    .unwrap();
    let error = build(dir.clone()).await;
    assert!(error.contains("formulary/b.json: invalid JSON"), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}
