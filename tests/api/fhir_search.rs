//! Search by token, reference, string and uri parameters, their modifiers, OR and AND, every
//! CARIN parameter alone and with `patient`, result controls, lenient and strict handling of
//! unknown parameters, and POST `_search` (docs/fhir-api.md#search). Expected answers come from the data.

use std::collections::BTreeSet;

use payer_sandbox::data::{self, DataSource, Members};
use serde_json::Value;

use crate::fhir_support::{
    ALICE, Fhir, Oracle, fixture, link, match_set, matches, references, spawn_fixture,
};
use crate::helpers::spawn_app;

const CLAIM_TYPE: &str = "http://terminology.hl7.org/CodeSystem/claim-type";

fn alice_eobs(oracle: &Oracle) -> Vec<Value> {
    oracle
        .visible("alice", "ExplanationOfBenefit")
        .iter()
        .map(|k| oracle.get(k).unwrap().clone())
        .collect()
}

fn keys(eobs: impl IntoIterator<Item = Value>) -> BTreeSet<String> {
    eobs.into_iter()
        .map(|e| crate::fhir_support::key(&e))
        .collect()
}

/// Runs the search alone, with `patient=alice` and with `patient=Patient/alice`: under
/// Alice's token all three must give `want`; with Bob named, nothing.
async fn check(fhir: &Fhir<'_>, query: &str, want: &BTreeSet<String>) {
    for extra in ["", "&patient=alice", "&patient=Patient/alice"] {
        let got = match_set(
            &fhir
                .search(&format!("ExplanationOfBenefit?{query}{extra}"))
                .await,
        );
        assert_eq!(&got, want, "{query}{extra}");
    }
    let bob = match_set(
        &fhir
            .search(&format!("ExplanationOfBenefit?{query}&patient=bob"))
            .await,
    );
    assert!(bob.is_empty(), "{query}&patient=bob: {bob:?}");
}

#[tokio::test]
async fn token_parameters_in_every_form() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let oracle = Oracle::new(fixture());
    let eobs = alice_eobs(&oracle);
    let of_type = |codes: &[&str]| {
        keys(
            eobs.iter()
                .filter(|e| codes.iter().any(|c| e["type"]["coding"][0]["code"] == *c))
                .cloned(),
        )
    };
    check(&fhir, "type=pharmacy", &of_type(&["pharmacy"])).await;
    check(
        &fhir,
        &format!("type={CLAIM_TYPE}|professional"),
        &of_type(&["professional"]),
    )
    .await;
    check(&fhir, "type=|professional", &BTreeSet::new()).await;
    check(
        &fhir,
        "type=http://wrong.example|professional",
        &BTreeSet::new(),
    )
    .await;
    check(&fhir, &format!("type={CLAIM_TYPE}|"), &keys(eobs.clone())).await;
    check(&fhir, "type=pharmacy,oral", &of_type(&["pharmacy", "oral"])).await;
    check(
        &fhir,
        "type:not=pharmacy",
        &of_type(&["institutional", "professional", "oral"]),
    )
    .await;
    check(&fhir, "type=pharmacy&type=oral", &BTreeSet::new()).await;
    assert!(!of_type(&["pharmacy", "oral"]).is_empty());

    for eob in &eobs {
        let identifier = &eob["identifier"][0];
        let value = identifier["value"].as_str().unwrap();
        let want = keys([eob.clone()]);
        check(&fhir, &format!("identifier={value}"), &want).await;
        check(
            &fhir,
            &format!("_id={}", eob["id"].as_str().unwrap()),
            &want,
        )
        .await;
        match identifier["system"].as_str() {
            Some(system) => {
                check(&fhir, &format!("identifier={system}|{value}"), &want).await;
                check(&fhir, &format!("identifier=|{value}"), &BTreeSet::new()).await;
            }
            None => check(&fhir, &format!("identifier=|{value}"), &want).await,
        }
    }
    check(
        &fhir,
        "_id=eob-a1,eob-a2,eob-b1",
        &keys(
            eobs.iter()
                .filter(|e| e["id"] == "eob-a1" || e["id"] == "eob-a2")
                .cloned(),
        ),
    )
    .await;
    check(&fhir, "identifier=CLM-eob-b1", &BTreeSet::new()).await;
    check(&fhir, "status=active", &keys(eobs.clone())).await;
}

#[tokio::test]
async fn reference_parameters_by_id_type_and_url() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let oracle = Oracle::new(fixture());
    let eobs = alice_eobs(&oracle);
    type Read = fn(&Value) -> Vec<String>;
    let params: &[(&str, Read)] = &[
        ("provider", |e| refs(&e["provider"])),
        ("care-team", |e| {
            e["careTeam"]
                .as_array()
                .map(|c| c.iter().flat_map(|m| refs(&m["provider"])).collect())
                .unwrap_or_default()
        }),
        ("coverage", |e| {
            e["insurance"]
                .as_array()
                .map(|c| c.iter().flat_map(|m| refs(&m["coverage"])).collect())
                .unwrap_or_default()
        }),
        ("insurer", |e| refs(&e["insurer"])),
        ("payee", |e| refs(&e["payee"]["party"])),
        ("facility", |e| refs(&e["facility"])),
    ];
    for (param, read) in params {
        let targets: BTreeSet<String> = eobs.iter().flat_map(read).collect();
        assert!(!targets.is_empty(), "{param}");
        for target in &targets {
            let want = keys(eobs.iter().filter(|e| read(e).contains(target)).cloned());
            let (_, id) = target.split_once('/').unwrap();
            check(&fhir, &format!("{param}={target}"), &want).await;
            check(&fhir, &format!("{param}={id}"), &want).await;
            check(
                &fhir,
                &format!("{param}={}/{target}", app.fhir_base()),
                &want,
            )
            .await;
            let t = target.split('/').next().unwrap();
            check(&fhir, &format!("{param}:{t}={id}"), &want).await;
        }
        check(&fhir, &format!("{param}=does-not-exist"), &BTreeSet::new()).await;
        let missing = keys(eobs.iter().filter(|e| read(e).is_empty()).cloned());
        check(&fhir, &format!("{param}:missing=true"), &missing).await;
    }
    // OR across reference values; AND across parameters.
    let want = keys(
        eobs.iter()
            .filter(|e| {
                let p = refs(&e["provider"]);
                p.contains(&"Organization/org-hosp".to_owned())
                    || p.contains(&"Practitioner/pr-2".to_owned())
            })
            .cloned(),
    );
    check(
        &fhir,
        "provider=Organization/org-hosp,Practitioner/pr-2",
        &want,
    )
    .await;
    let want = keys(
        eobs.iter()
            .filter(|e| {
                refs(&e["provider"]).contains(&"Organization/org-hosp".to_owned())
                    && e["type"]["coding"][0]["code"] == "institutional"
                    && refs(&e["payee"]["party"]).contains(&"Patient/alice".to_owned())
            })
            .cloned(),
    );
    assert_eq!(want.len(), 1);
    check(
        &fhir,
        "provider=org-hosp&type=institutional&payee=Patient/alice",
        &want,
    )
    .await;
}

fn refs(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    references(value, &mut out);
    out
}

#[tokio::test]
async fn other_types_parameters() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "user/*.read").await;
    let cases: &[(&str, &[&str])] = &[
        (
            "Coverage",
            &["Coverage/cov-alice", "Coverage/cov-bob-family"],
        ),
        ("Coverage?patient=alice", &["Coverage/cov-alice"]),
        (
            "Coverage?beneficiary=Patient/alice",
            &["Coverage/cov-alice"],
        ),
        ("Coverage?subscriber=alice", &["Coverage/cov-bob-family"]),
        (
            "Coverage?payor=Organization/org-payer",
            &["Coverage/cov-alice"],
        ),
        ("Coverage?_id=cov-bob", &[]),
        ("Patient", &["Patient/alice"]),
        ("Patient?_id=alice", &["Patient/alice"]),
        ("Patient?_id=bob", &[]),
        (
            "Patient?identifier=https://demohealthplan.example/member-id|A-100",
            &["Patient/alice"],
        ),
        ("Patient?identifier=B-200", &[]),
        ("Patient?name=ali", &["Patient/alice"]),
        ("Patient?name=ANDERS", &["Patient/alice"]),
        ("Patient?name:exact=anders", &[]),
        ("Patient?name:exact=Anders", &["Patient/alice"]),
        ("Patient?name:contains=nder", &["Patient/alice"]),
        ("Patient?family=anders&given=alice", &["Patient/alice"]),
        ("Patient?birthdate=1980-02-29", &["Patient/alice"]),
        ("Patient?birthdate=lt1980", &[]),
        ("Patient?gender=female", &["Patient/alice"]),
        ("Organization?_id=org-payer", &["Organization/org-payer"]),
        // Alice subscribes to a coverage of Bob's whose payor this is.
        (
            "Organization?_id=org-bob-only",
            &["Organization/org-bob-only"],
        ),
        ("Organization?_id=org-unreferenced", &[]),
        ("Organization?name=general", &["Organization/org-hosp"]),
        (
            "Organization?identifier=http://hl7.org/fhir/sid/us-npi|1000000003",
            &["Organization/org-clinic"],
        ),
        ("Practitioner?name=welby", &["Practitioner/pr-1"]),
        ("Practitioner?identifier=2000000003", &[]),
        (
            "Practitioner?_id=pr-1,pr-2,pr-bob",
            &["Practitioner/pr-1", "Practitioner/pr-2"],
        ),
        (
            "PractitionerRole?practitioner=Practitioner/pr-1",
            &["PractitionerRole/role-1"],
        ),
        (
            "PractitionerRole?organization=org-clinic",
            &["PractitionerRole/role-1"],
        ),
        ("PractitionerRole?organization=org-hosp", &[]),
        ("Location?organization=org-clinic", &["Location/loc-1"]),
        ("RelatedPerson?patient=alice", &["RelatedPerson/rp-a1"]),
        ("Observation?patient=alice", &["Observation/obs-a1"]),
        (
            "Observation?subject=Patient/alice&category=laboratory",
            &["Observation/obs-a1"],
        ),
        (
            "Observation?code=http://loinc.org|4548-4",
            &["Observation/obs-a1"],
        ),
        ("Observation?code=http://snomed.info/sct|4548-4", &[]),
        ("Observation?date=2021-03-03", &["Observation/obs-a1"]),
        ("Observation?date=gt2021-03-03T09:30:00Z", &[]),
        ("Observation?date=2021-03-04", &[]),
        ("Observation?patient=bob", &[]),
        ("Encounter?date=2021-03", &["Encounter/enc-a1"]),
        ("Encounter?class=AMB", &["Encounter/enc-a1"]),
        ("Condition?clinical-status=active", &["Condition/cond-a1"]),
        ("Condition?clinical-status=resolved", &[]),
        (
            "Condition?code=44054006&category=problem-list-item",
            &["Condition/cond-a1"],
        ),
        ("Condition?onset-date=2019", &["Condition/cond-a1"]),
        (
            "AllergyIntolerance?category=medication&date=2020-05-05",
            &["AllergyIntolerance/allergy-a1"],
        ),
        (
            "AllergyIntolerance?clinical-status=active",
            &["AllergyIntolerance/allergy-a1"],
        ),
        (
            "MedicationRequest?code=860975",
            &["MedicationRequest/medreq-a1"],
        ),
        (
            "MedicationRequest?authoredon=2021",
            &["MedicationRequest/medreq-a1"],
        ),
        ("Immunization", &[]),
        ("Procedure", &[]),
        (
            "ExplanationOfBenefit?_profile=http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Pharmacy",
            &["ExplanationOfBenefit/eob-a6"],
        ),
    ];
    for (query, want) in cases {
        let got = match_set(&fhir.search(query).await);
        let want: BTreeSet<String> = want.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(got, want, "{query}");
    }
}

#[tokio::test]
async fn default_order_sort_and_result_controls() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let oracle = Oracle::new(fixture());
    let all = oracle.visible("alice", "ExplanationOfBenefit");
    let bundle = fhir.search("ExplanationOfBenefit").await;
    assert_eq!(matches(&bundle), all, "newest first, ties by id");
    assert_eq!(bundle["total"], all.len());
    for entry in bundle["entry"].as_array().unwrap() {
        let url = entry["fullUrl"].as_str().unwrap();
        assert_eq!(
            url,
            format!(
                "{}/{}",
                app.fhir_base(),
                crate::fhir_support::key(&entry["resource"])
            )
        );
    }
    let asc = fhir.search("ExplanationOfBenefit?_sort=_lastUpdated").await;
    let mut by_lu: Vec<(String, String)> = all
        .iter()
        .map(|k| {
            (
                oracle.get(k).unwrap()["meta"]["lastUpdated"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                k.clone(),
            )
        })
        .collect();
    let got: Vec<String> = matches(&asc)
        .iter()
        .map(|k| {
            oracle.get(k).unwrap()["meta"]["lastUpdated"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    by_lu.sort();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted, "ascending lastUpdated");
    let created = fhir.search("ExplanationOfBenefit?_sort=-created").await;
    let instants: Vec<i128> = matches(&created)
        .iter()
        .map(|k| {
            time::OffsetDateTime::parse(
                oracle.get(k).unwrap()["created"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap()
            .unix_timestamp_nanos()
        })
        .collect();
    assert!(
        instants.windows(2).all(|w| w[0] >= w[1]),
        "newest created first"
    );
    let by_start = fhir
        .search("ExplanationOfBenefit?_sort=billable-period-start")
        .await;
    assert_eq!(
        matches(&by_start).last().unwrap(),
        "ExplanationOfBenefit/eob-a4",
        "no value sorts last"
    );

    for query in [
        "ExplanationOfBenefit?_summary=count",
        "ExplanationOfBenefit?_count=0",
    ] {
        let b = fhir.search(query).await;
        assert_eq!(b["total"], all.len(), "{query}");
        assert!(b.get("entry").is_none(), "{query}");
    }
    let b = fhir
        .search("ExplanationOfBenefit?_total=accurate&_count=2")
        .await;
    assert_eq!(b["total"], all.len());
    let b = fhir
        .search("ExplanationOfBenefit?_total=none&_count=2")
        .await;
    assert!(b.get("total").is_none());
    let b = fhir
        .search("ExplanationOfBenefit?_elements=type,patient&_count=1")
        .await;
    let r = &b["entry"][0]["resource"];
    assert!(r.get("type").is_some() && r.get("patient").is_some() && r.get("item").is_none());
    assert_eq!(r["meta"]["tag"][0]["code"], "SUBSETTED");
    let b = fhir.search("ExplanationOfBenefit?_count=500").await;
    assert_eq!(matches(&b).len(), all.len());
    assert!(link(&b, "self").unwrap().contains("_count=200"));
}

#[tokio::test]
async fn unknown_parameters_are_reported_or_refused() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let all = fhir.search("ExplanationOfBenefit").await;
    let lenient = fhir
        .search("ExplanationOfBenefit?foo=bar&_include=Nope:thing&patient.name=x")
        .await;
    assert_eq!(match_set(&lenient), match_set(&all));
    let outcome: Vec<&Value> = lenient["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == "outcome")
        .collect();
    assert_eq!(outcome.len(), 1);
    let issues = outcome[0]["resource"]["issue"].as_array().unwrap();
    assert_eq!(issues.len(), 3);
    assert!(issues.iter().all(|i| i["severity"] == "warning"));
    assert!(issues[0]["diagnostics"].as_str().unwrap().contains("foo"));

    for prefer in ["handling=strict", "return=representation, handling=strict"] {
        let response = app
            .client
            .get(app.at("/r4/ExplanationOfBenefit?foo=bar"))
            .bearer_auth(&fhir.token)
            .header("Prefer", prefer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{prefer}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["issue"][0]["code"], "invalid");
    }
    let response = app
        .client
        .get(app.at("/r4/ExplanationOfBenefit?type=oral"))
        .bearer_auth(&fhir.token)
        .header("Prefer", "handling=strict")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "known parameters pass under strict");
    let lenient = app
        .client
        .get(app.at("/r4/ExplanationOfBenefit?foo=bar"))
        .bearer_auth(&fhir.token)
        .header("Prefer", "handling=lenient")
        .send()
        .await
        .unwrap();
    assert_eq!(lenient.status(), 200);
}

#[tokio::test]
async fn post_search_takes_a_form_body() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let get = fhir
        .search("ExplanationOfBenefit?type=professional&service-date=ge2021-01-01T00:00:00%2B00:00")
        .await;
    let response = app
        .client
        .post(app.at("/r4/ExplanationOfBenefit/_search"))
        .bearer_auth(&fhir.token)
        .form(&[
            ("type", "professional"),
            ("service-date", "ge2021-01-01T00:00:00+00:00"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let post: Value = response.json().await.unwrap();
    assert_eq!(matches(&post), matches(&get));
    assert!(!matches(&post).is_empty());
    let response = app
        .client
        .post(app.at("/r4/ExplanationOfBenefit/_search?_count=1"))
        .bearer_auth(&fhir.token)
        .form(&[("type", "professional")])
        .send()
        .await
        .unwrap();
    let post: Value = response.json().await.unwrap();
    assert_eq!(matches(&post).len(), 1);
    let next = link(&post, "next").expect("a GET link to the next page");
    let page2: Value = app
        .client
        .get(&next)
        .bearer_auth(&fhir.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(matches(&page2).len(), 1);
    assert_ne!(matches(&page2), matches(&post));
}

/// Whatever data is embedded, each member sees exactly its compartment, type by type, in order.
#[tokio::test]
async fn embedded_data_searches_match_the_oracle() {
    let app = spawn_app().await;
    let resources = data::resources(&DataSource::Embedded).unwrap();
    let (members, _) = Members::derive(&resources);
    let oracle = Oracle::new(resources);
    assert!(!members.all().is_empty());
    for member in members.all() {
        let fhir = Fhir::new(&app, &member.member_id, "patient/*.read").await;
        for t in crate::helpers::patient_access_types()
            .iter()
            .map(|d| &d.name)
        {
            let want = oracle.visible(&member.patient_id, t);
            let mut got = Vec::new();
            for page in fhir.all_pages(&format!("{t}?_count=200")).await {
                got.extend(matches(&page));
            }
            assert_eq!(got, want, "{} {t}", member.member_id);
            if *t == "ExplanationOfBenefit" || *t == "Coverage" {
                let with = fhir
                    .all_pages(&format!("{t}?patient={}&_count=200", member.patient_id))
                    .await;
                let with: Vec<String> = with.iter().flat_map(matches).collect();
                let owned: Vec<String> = want
                    .iter()
                    .filter(|k| {
                        let r = oracle.get(k).unwrap();
                        let field = if *t == "Coverage" {
                            "beneficiary"
                        } else {
                            "patient"
                        };
                        r[field]["reference"] == format!("Patient/{}", member.patient_id)
                    })
                    .cloned()
                    .collect();
                assert_eq!(with, owned, "{} {t}?patient", member.member_id);
            }
        }
    }
}

/// FHIR R4 search: the `self` link shows the parameters the server used, so an ignored unknown
/// parameter, an ignored `_include` item or an unsupported `_sort` key is not in it.
#[tokio::test]
async fn self_link_shows_only_the_parameters_used() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let bundle = fhir
        .search(
            "ExplanationOfBenefit?foo=bar&type=oral&_include=Nope:thing,ExplanationOfBenefit:patient&_sort=nope,-service-date&_count=5",
        )
        .await;
    let url = link(&bundle, "self").unwrap();
    let query: Vec<(String, String)> = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let names: Vec<&str> = query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["type", "_include", "_sort", "_count"], "{url}");
    assert_eq!(query[1].1, "ExplanationOfBenefit:patient");
    assert_eq!(query[2].1, "-service-date");
}

/// `$everything` reports unknown parameters like a search, and refuses them under
/// `Prefer: handling=strict`; its paging links leave them out.
#[tokio::test]
async fn everything_handles_unknown_parameters_like_a_search() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let path = "/r4/Patient/alice/$everything?foo=bar&_count=2";
    let strict = app
        .client
        .get(app.at(path))
        .bearer_auth(&fhir.token)
        .header("Prefer", "handling=strict")
        .send()
        .await
        .unwrap();
    assert_eq!(strict.status(), 400);
    let body: Value = strict.json().await.unwrap();
    assert_eq!(body["issue"][0]["code"], "invalid");
    assert!(
        body["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("foo")
    );

    let lenient = fhir
        .search("Patient/alice/$everything?foo=bar&_count=2")
        .await;
    let outcomes = lenient["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == "outcome")
        .count();
    assert_eq!(outcomes, 1);
    for relation in ["self", "next"] {
        let url = link(&lenient, relation).unwrap();
        assert!(!url.contains("foo"), "{relation}: {url}");
    }
}

/// docs/data.md#test-members: Noelle Ferreira has nothing on file but her Patient. Every search of
/// a compartment type is an empty searchset (`total` 0, no entries), with and without `patient`;
/// her Patient is found; `$everything` holds nothing of hers but the Patient.
#[tokio::test]
async fn a_member_with_nothing_on_file_gets_empty_searchsets_everywhere() {
    use payer_sandbox::fhir::search_params::RESOURCES;
    let app = spawn_app().await;
    let tokens = app.login(crate::helpers::NOELLE, "patient/*.read").await;
    let (token, patient) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["patient"].as_str().unwrap(),
    );
    assert_eq!(patient, "noelle-ferreira");
    let app = &app;
    let bundle = |path: String| async move {
        let response = app.get_with_token(&path, token).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json::<Value>().await.unwrap()
    };
    let compartment_types: Vec<&str> = RESOURCES
        .iter()
        .filter(|r| !r.compartment.is_empty())
        .map(|r| r.name)
        .collect();
    assert!(compartment_types.contains(&"ExplanationOfBenefit"));
    assert!(compartment_types.contains(&"Coverage"));
    for name in compartment_types {
        for path in [
            format!("/r4/{name}?patient={patient}"),
            format!("/r4/{name}"),
        ] {
            let found = bundle(path.clone()).await;
            assert_eq!(found["type"], "searchset", "{path}");
            assert_eq!(found["total"], 0, "{path}");
            assert!(found.get("entry").is_none(), "{path}: {found}");
        }
    }
    let me = bundle(format!("/r4/Patient?_id={patient}")).await;
    assert_eq!(me["total"], 1);
    let everything = bundle(format!("/r4/Patient/{patient}/$everything")).await;
    let types: BTreeSet<&str> = everything["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert!(types.contains("Patient"));
    assert!(
        types
            .iter()
            .all(|t| matches!(*t, "Patient" | "Organization")),
        "only her Patient and the plan it names: {types:?}"
    );
}

/// FHIR R4 operations accept POST: `POST Patient/{id}/$everything` with an empty body, a
/// `Parameters` resource or a form body gives what GET gives with the same parameters; a body
/// that is none of these is a 400 OperationOutcome, and POST to `_history` stays a 405 write.
#[tokio::test]
async fn everything_by_post_is_everything_by_get() {
    let app = &spawn_app().await;
    let tokens = app.login(crate::helpers::JASON, "patient/*.read").await;
    let (token, patient) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["patient"].as_str().unwrap(),
    );
    let path = &format!("/r4/Patient/{patient}/$everything");
    let post = |body: Option<(&'static str, String)>| {
        let mut request = app.client.post(app.at(path)).bearer_auth(token);
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        async move { request.send().await.unwrap() }
    };
    let entries = |bundle: &Value| -> (Value, Vec<String>) {
        let urls = bundle["entry"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| e["fullUrl"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        (bundle["total"].clone(), urls)
    };
    let get = |query: &'static str| {
        let url = format!("{path}{query}");
        async move {
            let response = app.get_with_token(&url, token).await;
            assert_eq!(response.status(), 200, "{url}");
            response.json::<Value>().await.unwrap()
        }
    };

    let by_get = get("").await;
    let empty = post(None).await;
    assert_eq!(empty.status(), 200);
    assert_eq!(entries(&empty.json().await.unwrap()), entries(&by_get));

    let narrowed = get("?_type=Coverage,ExplanationOfBenefit&_count=5").await;
    assert!(
        narrowed["link"].to_string().contains("next"),
        "several pages"
    );
    let parameters = serde_json::json!({"resourceType": "Parameters", "parameter": [
        {"name": "_type", "valueString": "Coverage,ExplanationOfBenefit"},
        {"name": "_count", "valueInteger": 5}]});
    let by_parameters = post(Some(("application/fhir+json", parameters.to_string()))).await;
    assert_eq!(by_parameters.status(), 200);
    let by_parameters: Value = by_parameters.json().await.unwrap();
    assert_eq!(entries(&by_parameters), entries(&narrowed));
    assert_eq!(by_parameters["link"], narrowed["link"], "the same links");
    let by_form = post(Some((
        "application/x-www-form-urlencoded",
        "_type=Coverage,ExplanationOfBenefit&_count=5".to_owned(),
    )))
    .await;
    assert_eq!(entries(&by_form.json().await.unwrap()), entries(&narrowed));

    for bad in [
        "{not json",
        r#"{"resourceType": "Patient"}"#,
        r#"{"resourceType": "Parameters", "parameter": [{"name": "_count", "valueCodeableConcept": {}}]}"#,
    ] {
        let refused = post(Some(("application/fhir+json", bad.to_owned()))).await;
        assert_eq!(refused.status(), 400, "{bad}");
        let outcome: Value = refused.json().await.unwrap();
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{bad}");
    }
    let write = app
        .client
        .post(app.at(&format!("/r4/Patient/{patient}/_history")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 405);
}

/// Da Vinci PDex's `use` parameter splits a member's ExplanationOfBenefits into claims and prior
/// authorizations: each search returns only its kind, the two together are all of them, and the
/// CapabilityStatement declares it with the PDex SearchParameter's canonical.
#[tokio::test]
async fn eob_use_separates_claims_from_prior_authorizations() {
    let app = spawn_app().await;
    let token = app.token(crate::helpers::JASON, "patient/*.read").await;
    let search = |query: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let response = app
                .get_with_token(
                    &format!("/r4/ExplanationOfBenefit?_count=200{query}"),
                    &token,
                )
                .await;
            assert_eq!(response.status(), 200, "{query}");
            response.json::<Value>().await.unwrap()
        }
    };
    let all = search("").await;
    let claims = search("&use=claim").await;
    let prior_auths = search("&use=preauthorization").await;
    let total = |b: &Value| b["total"].as_u64().unwrap();
    assert!(total(&claims) > 0);
    // Jason's two: physical therapy (approved) and an MRI (pending); see docs/data.md.
    assert_eq!(total(&prior_auths), 2);
    assert_eq!(total(&claims) + total(&prior_auths), total(&all));
    for (bundle, wanted) in [(&claims, "claim"), (&prior_auths, "preauthorization")] {
        for entry in bundle["entry"].as_array().into_iter().flatten() {
            if entry["search"]["mode"] == "match" {
                assert_eq!(entry["resource"]["use"], wanted);
            }
        }
    }
    let metadata: Value = app.get("/r4/metadata").await.json().await.unwrap();
    let eob = metadata["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "ExplanationOfBenefit")
        .unwrap();
    let declared = eob["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "use")
        .expect("use is declared");
    assert_eq!(
        declared["definition"],
        "http://hl7.org/fhir/us/davinci-pdex/SearchParameter/explanationofbenefit-use"
    );
    assert_eq!(declared["type"], "token");
}

/// A Bundle is written piece by piece, straight from the stored resources
/// (docs/fhir-api.md#bundles): still one body of exactly its `Content-Length`, not chunked, and
/// the same JSON as the resources read one by one.
#[tokio::test]
async fn a_bundle_written_in_pieces_has_its_exact_length_and_the_stored_resources() {
    let app = spawn_app().await;
    let token = app.login(crate::helpers::JASON, "patient/*.read").await;
    let access = token["access_token"].as_str().unwrap();
    let patient = token["patient"].as_str().unwrap();
    let search =
        format!("/r4/ExplanationOfBenefit?patient={patient}&_include=ExplanationOfBenefit:*");
    let response = app.get_with_token(&search, access).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("transfer-encoding").is_none());
    let length: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len(), length);
    assert!(length > 10_000, "a Bundle of many pieces: {length} bytes");
    let bundle: Value = serde_json::from_slice(&body).unwrap();
    let entries = bundle["entry"].as_array().unwrap();
    assert!(entries.len() > 5);
    for entry in entries.iter().take(5) {
        let url = entry["fullUrl"].as_str().unwrap();
        let path = &url[url.find("/r4/").unwrap()..];
        let read: Value = app.get_with_token(path, access).await.json().await.unwrap();
        assert_eq!(entry["resource"], read, "{path}");
    }
}
