//! Reads, vreads, conditional reads, the CapabilityStatement, and every error path of the FHIR
//! API (docs/fhir-api.md, docs/access.md#scope-enforcement): OperationOutcomes with R4 issue codes, never a 500.

use serde_json::Value;

use crate::fhir_support::{ALICE, Fhir, Oracle, fixture, spawn_fixture};
use crate::helpers::spawn_app;

fn issue_code(body: &Value) -> &str {
    assert_eq!(body["resourceType"], "OperationOutcome", "{body}");
    body["issue"][0]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn read_serves_the_resource_with_validators() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let oracle = Oracle::new(fixture());
    for key in oracle.compartment("alice") {
        let response = app.get_with_token(&format!("/r4/{key}"), &fhir.token).await;
        assert_eq!(response.status(), 200, "{key}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/fhir+json")
        );
        assert_eq!(response.headers()["etag"], "W/\"1\"");
        let last_modified = response.headers()["last-modified"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        let mut expected = oracle.get(&key).unwrap().clone();
        expected["meta"]["versionId"] = "1".into();
        assert_eq!(body, expected, "{key}");
        let lu = time::OffsetDateTime::parse(
            body["meta"]["lastUpdated"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let parsed = httpdate::parse_http_date(&last_modified).unwrap();
        let secs = parsed
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert_eq!(secs, lu.unix_timestamp(), "{key}");
    }
}

#[tokio::test]
async fn vread_and_conditional_reads() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let (status, body) = fhir.get("ExplanationOfBenefit/eob-a1/_history/1").await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], "eob-a1");
    assert_eq!(body["meta"]["versionId"], "1");
    let (status, body) = fhir.get("ExplanationOfBenefit/eob-a1/_history/2").await;
    assert_eq!((status, issue_code(&body)), (404, "not-found"));

    for tag in ["W/\"1\"", "\"1\"", "*", "W/\"7\", W/\"1\""] {
        let response = app
            .client
            .get(app.at("/r4/Patient/alice"))
            .bearer_auth(&fhir.token)
            .header("If-None-Match", tag)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 304, "{tag}");
        assert_eq!(response.headers()["etag"], "W/\"1\"");
    }
    let response = app
        .client
        .get(app.at("/r4/Patient/alice"))
        .bearer_auth(&fhir.token)
        .header("If-None-Match", "W/\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app
        .client
        .get(app.at("/r4/Patient/alice"))
        .bearer_auth(&fhir.token)
        .header("If-Modified-Since", "Sat, 01 Jun 2019 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    let app = spawn_fixture().await;
    let response = app.get("/r4/Patient/alice").await;
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(issue_code(&body), "login");

    for path in [
        "/r4/Patient/alice",
        "/r4/ExplanationOfBenefit",
        "/r4/Patient/alice/$everything",
    ] {
        let response = app
            .get_with_token(path, "0123456789abcdef0123456789abcdef")
            .await;
        assert_eq!(response.status(), 401, "{path}");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert_eq!(issue_code(&response.json().await.unwrap()), "login");
    }

    // An expired token is refused the same way.
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    app.advance_clock(3601).await;
    let (status, body) = fhir.get("Patient/alice").await;
    assert_eq!((status, issue_code(&body)), (401, "login"));
}

#[tokio::test]
async fn scopes_that_do_not_cover_a_type_are_403() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/Patient.read").await;
    for path in [
        "/r4/ExplanationOfBenefit",
        "/r4/ExplanationOfBenefit/eob-a1",
        "/r4/Coverage?patient=alice",
        "/r4/ExplanationOfBenefit/eob-a1/_history/1",
    ] {
        let response = app.get_with_token(path, &fhir.token).await;
        assert_eq!(response.status(), 403, "{path}");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert_eq!(issue_code(&response.json().await.unwrap()), "forbidden");
    }
    let (status, _) = fhir.get("Patient/alice").await;
    assert_eq!(status, 200);
    // The one type it may read is not brought in by includes of types it may not.
    let bundle = fhir
        .search("Patient?_revinclude=ExplanationOfBenefit:patient")
        .await;
    assert_eq!(crate::fhir_support::includes(&bundle).len(), 0);

    // SMART v2: read without search, and search without read.
    let read_only = Fhir::new(&app, ALICE, "patient/ExplanationOfBenefit.r").await;
    assert_eq!(read_only.get("ExplanationOfBenefit/eob-a1").await.0, 200);
    assert_eq!(read_only.get("ExplanationOfBenefit").await.0, 403);
    let search_only = Fhir::new(&app, ALICE, "patient/ExplanationOfBenefit.s").await;
    assert_eq!(search_only.get("ExplanationOfBenefit").await.0, 200);
    assert_eq!(search_only.get("ExplanationOfBenefit/eob-a1").await.0, 403);
}

#[tokio::test]
async fn writes_are_405_and_xml_is_406() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let client = &app.client;
    let requests = [
        client.post(app.at("/r4/Patient")),
        client.put(app.at("/r4/Patient/alice")),
        client.patch(app.at("/r4/Patient/alice")),
        client.delete(app.at("/r4/Patient/alice")),
        client.post(app.at("/r4/ExplanationOfBenefit")),
        client.delete(app.at("/r4/ExplanationOfBenefit?patient=alice")),
        client.put(app.at("/r4/metadata")),
    ];
    for request in requests {
        let response = request
            .bearer_auth(&fhir.token)
            .header("content-type", "application/fhir+json")
            .body("{\"resourceType\":\"Patient\"}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(issue_code(&response.json().await.unwrap()), "not-supported");
    }
    for (path, accept) in [
        ("/r4/Patient/alice", "application/fhir+xml"),
        ("/r4/metadata", "application/xml"),
        ("/r4/ExplanationOfBenefit", "text/xml"),
        ("/r4/Patient/alice?_format=xml", "application/fhir+json"),
        ("/r4/metadata?_format=application/fhir%2Bxml", "*/*"),
    ] {
        let response = client
            .get(app.at(path))
            .bearer_auth(&fhir.token)
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 406, "{path} {accept}");
        assert_eq!(issue_code(&response.json().await.unwrap()), "not-supported");
    }
    for path in [
        "/r4/Patient/alice?_format=json",
        "/r4/Patient/alice?_format=application/fhir%2Bjson",
        "/r4/Patient/alice?_format=application/json",
    ] {
        let response = app.get_with_token(path, &fhir.token).await;
        assert_eq!(response.status(), 200, "{path}");
    }
    let response = client
        .get(app.at("/r4/Patient/alice"))
        .bearer_auth(&fhir.token)
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn unknown_things_are_404_and_junk_is_never_a_500() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "user/*.read").await;
    for path in [
        "Patient/nobody",
        "Patient/bob",
        "Foo/1",
        "Foo",
        "ExplanationOfBenefit/eob-b1",
        "Patient/bob/_history",
        "Patient/alice/_history/2",
        "Patient/alice/$nope",
        "ExplanationOfBenefit/eob-a1/$everything",
        "Patient/bob/$everything",
        "a/b/c/d/e/f",
    ] {
        let (status, body) = fhir.get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(issue_code(&body), "not-found");
    }
    let junk = [
        "Patient/%ff%fe",
        "Patient/%",
        "Patient/%zz",
        "Patient/..%2F..%2Fetc",
        "Patient/\u{202e}x",
        "ExplanationOfBenefit?service-date=%ff",
        "ExplanationOfBenefit?service-date=zz2020",
        "ExplanationOfBenefit?service-date=ge",
        "ExplanationOfBenefit?service-date=2020-02-30",
        "ExplanationOfBenefit?service-date=99999-01-01",
        "ExplanationOfBenefit?service-date=2020-01-01T10:00:00.1234567891Z",
        "ExplanationOfBenefit?_count=99999999999999999999999999",
        "ExplanationOfBenefit?_count=-5",
        "ExplanationOfBenefit?_count=1e3",
        "ExplanationOfBenefit?_offset=99999999999999999999999999",
        "ExplanationOfBenefit?patient=%%%",
        "ExplanationOfBenefit?patient=a/b/c/d",
        "ExplanationOfBenefit?_include=%00:%00",
        "ExplanationOfBenefit?_include=ExplanationOfBenefit:*:*:*",
        "ExplanationOfBenefit?_sort=%ff",
        "ExplanationOfBenefit?type=%7C%7C%7C",
        "ExplanationOfBenefit?identifier=\\\\\\",
        "ExplanationOfBenefit?=&&&=",
        "ExplanationOfBenefit?_elements=,,,",
        "Patient?name:exact=%C3%A9",
        "Patient?birthdate=ap0001",
        "Patient?birthdate=sa9999-12-31",
        "Patient/alice/$everything?_count=abc",
        "Patient/alice/$everything?_since=yesterday",
    ];
    for path in junk {
        let response = app
            .get_with_token(&format!("/r4/{path}"), &fhir.token)
            .await;
        let status = response.status().as_u16();
        assert!(matches!(status, 200 | 400 | 404), "{path}: {status}");
        let body: Value = response.json().await.unwrap();
        if status != 200 {
            assert!(
                ["invalid", "not-found"].contains(&issue_code(&body)),
                "{path}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn capability_statement_is_complete_and_needs_no_token() {
    let app = spawn_app().await;
    let response = app.get("/r4/metadata").await;
    assert_eq!(response.status(), 200);
    let cs: Value = response.json().await.unwrap();
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["status"], "active");
    assert_eq!(cs["kind"], "instance");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    assert!(cs["date"].as_str().is_some_and(|d| d.len() == 10));
    assert!(cs["format"].as_array().unwrap().contains(&"json".into()));
    assert_eq!(cs["implementation"]["url"], app.fhir_base());
    assert_eq!(
        cs["instantiates"],
        serde_json::json!(["http://hl7.org/fhir/us/carin-bb/CapabilityStatement/c4bb"])
    );
    // Only R4 CapabilityStatement elements.
    let allowed = [
        "resourceType",
        "id",
        "meta",
        "implicitRules",
        "language",
        "text",
        "contained",
        "extension",
        "modifierExtension",
        "url",
        "version",
        "name",
        "title",
        "status",
        "experimental",
        "date",
        "publisher",
        "contact",
        "description",
        "useContext",
        "jurisdiction",
        "purpose",
        "copyright",
        "kind",
        "instantiates",
        "imports",
        "software",
        "implementation",
        "fhirVersion",
        "format",
        "patchFormat",
        "implementationGuide",
        "rest",
        "messaging",
        "document",
    ];
    for k in cs.as_object().unwrap().keys() {
        assert!(allowed.contains(&k.as_str()), "unknown key {k}");
    }
    let rest = &cs["rest"][0];
    assert_eq!(rest["mode"], "server");
    let resource_keys = [
        "id",
        "extension",
        "modifierExtension",
        "type",
        "profile",
        "supportedProfile",
        "documentation",
        "interaction",
        "versioning",
        "readHistory",
        "updateCreate",
        "conditionalCreate",
        "conditionalRead",
        "conditionalUpdate",
        "conditionalDelete",
        "referencePolicy",
        "searchInclude",
        "searchRevInclude",
        "searchParam",
        "operation",
    ];
    let types: Vec<&str> = rest["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            for k in r.as_object().unwrap().keys() {
                assert!(resource_keys.contains(&k.as_str()), "unknown key {k}");
            }
            r["type"].as_str().unwrap()
        })
        .collect();
    for t in crate::helpers::patient_access_types()
        .iter()
        .map(|d| d.name)
    {
        assert!(types.contains(&t), "{t} missing");
    }
    let eob = rest["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "ExplanationOfBenefit")
        .unwrap();
    let params: Vec<&str> = eob["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in [
        "_id",
        "patient",
        "_lastUpdated",
        "type",
        "identifier",
        "service-date",
        "service-start-date",
        "billable-period-start",
        "provider",
        "care-team",
        "coverage",
        "insurer",
        "created",
    ] {
        assert!(params.contains(&p), "{p}");
    }
    let includes = eob["searchInclude"].as_array().unwrap();
    for i in [
        "ExplanationOfBenefit:patient",
        "ExplanationOfBenefit:provider",
        "ExplanationOfBenefit:care-team",
        "ExplanationOfBenefit:coverage",
        "ExplanationOfBenefit:insurer",
        "ExplanationOfBenefit:payee",
        "ExplanationOfBenefit:*",
    ] {
        assert!(includes.contains(&i.into()), "{i}");
    }
    assert!(
        eob["supportedProfile"]
            .as_array()
            .unwrap()
            .contains(&"http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Pharmacy".into())
    );
    let patient = rest["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Patient")
        .unwrap();
    let revs = patient["searchRevInclude"].as_array().unwrap();
    assert!(revs.contains(&"ExplanationOfBenefit:patient".into()));
    assert!(revs.contains(&"Observation:patient".into()));

    // SMART: the oauth-uris extension agrees with the discovery document.
    let smart: Value = app
        .get("/.well-known/smart-configuration")
        .await
        .json()
        .await
        .unwrap();
    let ext = &rest["security"]["extension"][0];
    assert_eq!(
        ext["url"],
        "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    );
    let uri = |name: &str| {
        ext["extension"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["url"] == name)
            .map(|e| e["valueUri"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(uri("authorize"), smart["authorization_endpoint"]);
    assert_eq!(uri("token"), smart["token_endpoint"]);
    assert_eq!(uri("register"), smart["registration_endpoint"]);
    assert_eq!(uri("introspect"), smart["introspection_endpoint"]);
    assert_eq!(uri("revoke"), smart["revocation_endpoint"]);
    assert_eq!(
        rest["security"]["service"][0]["coding"][0]["code"],
        "SMART-on-FHIR"
    );
}
