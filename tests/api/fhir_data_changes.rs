//! Data that changes (docs/data.md#data-that-changes): control-API decisions on prior
//! authorizations become new versions at once; `_history` and vread; the embedded timeline
//! under `clock/advance`; `_lastUpdated` sync returning exactly the changes; `clock/reset` and
//! `reset` restoring the data as loaded; retention a year after a prior authorization's last
//! change. Every server here runs on a frozen clock, so nothing depends on today's date.

use std::sync::Arc;

use payer_sandbox::clock::Clock;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::helpers::{JASON, TestApp, entry_refs, spawn_with_clock};

const ROSA: &str = "08-testmemid2";
const WALTER: &str = "08-testmemid5";
const MRI: &str = "pa-jason-argonaut-20261123-1";
const THERAPY: &str = "pa-jason-argonaut-20260727-1";
const SIXTH_VISIT: &str = "eob-jason-argonaut-20261124-professional";
const ROSA_REFILL: &str = "eob-rosa-delgado-20261103-pharmacy";
const DAY: i64 = 86_400;
/// When the test servers start.
const START: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

async fn spawn_app() -> TestApp {
    spawn_with_clock(Arc::new(Clock::frozen(START)), |_| {}).await
}

async fn get(app: &TestApp, member_id: &str, path: &str) -> (u16, Value) {
    let token = app.token(member_id, "patient/*.read").await;
    let response = app.get_with_token(path, &token).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn ids(bundle: &Value) -> Vec<String> {
    entry_refs(bundle, None)
}

fn units(pa: &Value, category: &str) -> Option<u64> {
    pa["item"][0]["adjudication"]
        .as_array()?
        .iter()
        .find(|a| a["category"]["coding"][0]["code"] == category)?["value"]
        .as_u64()
}

fn action(adjudication: &Value) -> String {
    let subs = adjudication[0]["extension"][0]["extension"]
        .as_array()
        .unwrap();
    subs.last().unwrap()["valueCodeableConcept"]["coding"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn control(app: &TestApp, pa: &str, what: &str, body: Value) -> (u16, Value) {
    let response = app
        .post_json(
            &format!("/sandbox/api/prior-authorizations/{pa}/{what}"),
            body,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_decision_is_a_new_version_at_once_with_its_history() {
    let app = spawn_app().await;
    let (status, before) = get(&app, JASON, &format!("/r4/ExplanationOfBenefit/{MRI}")).await;
    assert_eq!(status, 200);
    assert_eq!(before["meta"]["versionId"], "1");
    assert_eq!(before["outcome"], "queued");
    app.advance_clock(3_600).await;

    let (status, made) = control(&app, MRI, "decision", json!({"decision": "approve"})).await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["version_id"], "2");
    assert_eq!(made["last_updated"], "2026-12-01T13:00:00Z");

    let token = app.token(JASON, "patient/*.read").await;
    let response = app
        .get_with_token(&format!("/r4/ExplanationOfBenefit/{MRI}"), &token)
        .await;
    assert_eq!(response.headers()["etag"], "W/\"2\"");
    let now: Value = response.json().await.unwrap();
    assert_eq!(now, made["body"]);
    assert_eq!(now["meta"]["lastUpdated"], "2026-12-01T13:00:00Z");
    assert_eq!(now["outcome"], "complete");
    assert_eq!(action(&now["adjudication"]), "A1");
    assert_eq!(units(&now, "allowedunits"), Some(1));
    assert_eq!(now["preAuthRefPeriod"][0]["end"], "2027-02-28");
    // Everything but the decision and its bookkeeping is as it was.
    for key in [
        "identifier",
        "patient",
        "insurer",
        "provider",
        "insurance",
        "diagnosis",
    ] {
        assert_eq!(now[key], before[key], "{key}");
    }

    let history: Value = app
        .get_with_token(&format!("/r4/ExplanationOfBenefit/{MRI}/_history"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["type"], "history");
    assert_eq!(history["total"], 2);
    let versions: Vec<&str> = history["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["meta"]["versionId"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["2", "1"]);
    assert_eq!(history["entry"][0]["request"]["method"], "PUT");
    assert_eq!(history["entry"][1]["request"]["method"], "POST");
    assert_eq!(history["entry"][0]["response"]["etag"], "W/\"2\"");

    let old = app
        .get_with_token(
            &format!("/r4/ExplanationOfBenefit/{MRI}/_history/1"),
            &token,
        )
        .await;
    assert_eq!(old.status(), 200);
    assert_eq!(old.headers()["etag"], "W/\"1\"");
    assert_eq!(old.json::<Value>().await.unwrap(), before);
    let missing = app
        .get_with_token(
            &format!("/r4/ExplanationOfBenefit/{MRI}/_history/3"),
            &token,
        )
        .await;
    assert_eq!(missing.status(), 404);

    // Incremental sync: exactly the one change since before it.
    let (_, changed) = get(
        &app,
        JASON,
        "/r4/ExplanationOfBenefit?_lastUpdated=gt2026-12-01T12:30:00Z",
    )
    .await;
    assert_eq!(ids(&changed), [format!("ExplanationOfBenefit/{MRI}")]);
    let (_, everything) = get(
        &app,
        JASON,
        "/r4/Patient/jason-argonaut/$everything?_since=2026-12-01T12:30:00Z",
    )
    .await;
    assert_eq!(ids(&everything), [format!("ExplanationOfBenefit/{MRI}")]);
}

/// Search pages' entries are written once and kept (docs/fhir-api.md#bundles): a search made
/// before a change, made again after it, gives the changed resource, never the kept bytes.
#[tokio::test]
async fn the_same_search_after_a_change_gives_the_new_version() {
    let app = spawn_app().await;
    let search = "/r4/ExplanationOfBenefit?use=preauthorization&_include=ExplanationOfBenefit:*";
    let mri_in = |bundle: &Value| -> Value {
        bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["resource"]["id"] == MRI)
            .map(|e| e["resource"].clone())
            .unwrap()
    };
    let (_, first) = get(&app, JASON, search).await;
    let (_, again) = get(&app, JASON, search).await;
    assert_eq!(
        first["entry"], again["entry"],
        "the same page, the same entries"
    );
    assert_eq!(mri_in(&first)["meta"]["versionId"], "1");
    assert_eq!(mri_in(&first)["outcome"], "queued");

    let (status, made) = control(&app, MRI, "decision", json!({"decision": "approve"})).await;
    assert_eq!(status, 200, "{made}");
    let (_, after) = get(&app, JASON, search).await;
    assert_eq!(mri_in(&after)["meta"]["versionId"], "2");
    assert_eq!(mri_in(&after)["outcome"], "complete");
    assert_eq!(
        first["entry"].as_array().unwrap().len(),
        after["entry"].as_array().unwrap().len()
    );
}

#[tokio::test]
async fn every_decision_and_units_used_and_what_is_refused() {
    let app = spawn_app().await;
    let read = |id: &'static str| {
        let app = &app;
        async move {
            get(app, JASON, &format!("/r4/ExplanationOfBenefit/{id}"))
                .await
                .1
        }
    };

    // Partial, on a one-study request, is refused: nothing between 1 and 0.
    let (status, body) = control(
        &app,
        MRI,
        "decision",
        json!({"decision": "partial", "units": 1, "reason": "151"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = control(&app, MRI, "decision", json!({"decision": "deny"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("reason")
    );
    let (status, _) = control(
        &app,
        MRI,
        "decision",
        json!({"decision": "deny", "reason": "7"}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = control(&app, MRI, "decision", json!({"decision": "maybe"})).await;
    assert_eq!(status, 400);

    let (status, _) = control(
        &app,
        MRI,
        "decision",
        json!({"decision": "deny", "reason": "50"}),
    )
    .await;
    assert_eq!(status, 200);
    let denied = read(MRI).await;
    assert_eq!(denied["meta"]["versionId"], "2");
    assert_eq!(action(&denied["adjudication"]), "A3");
    assert!(denied.get("preAuthRefPeriod").is_none());
    let reason = &denied["item"][0]["adjudication"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["category"]["coding"][0]["code"] == "denialreason")
        .unwrap()["reason"]["coding"][0];
    assert_eq!(reason["code"], "50");
    assert_eq!(
        reason["system"],
        "https://x12.org/codes/claim-adjustment-reason-codes"
    );

    let (status, _) = control(&app, MRI, "decision", json!({"decision": "pend"})).await;
    assert_eq!(status, 200);
    let pended = read(MRI).await;
    assert_eq!(pended["outcome"], "queued");
    assert_eq!(pended["meta"]["versionId"], "3");

    // 12 visits approved, 5 used by claims: 7 more fit, 8 do not.
    let (status, body) = control(&app, THERAPY, "use", json!({"units": 8})).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = control(&app, THERAPY, "use", json!({"units": 7})).await;
    assert_eq!(status, 200, "{body}");
    let used = read(THERAPY).await;
    assert_eq!(units(&used, "consumedunits"), Some(12));
    let utilized = used["total"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["category"]["coding"][0]["code"] == "utilized")
        .unwrap();
    assert_eq!(utilized["extension"][0]["valueQuantity"]["value"], 12);
    // Approving fewer than are used is refused.
    let (status, _) = control(
        &app,
        THERAPY,
        "decision",
        json!({"decision": "partial", "units": 10, "reason": "151"}),
    )
    .await;
    assert_eq!(status, 409);

    let (status, _) = control(&app, THERAPY, "decision", json!({"decision": "cancel"})).await;
    assert_eq!(status, 200);
    let cancelled = read(THERAPY).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(action(&cancelled["adjudication"]), "C");
    let (status, _) = control(&app, THERAPY, "decision", json!({"decision": "approve"})).await;
    assert_eq!(status, 409);

    // Not a prior authorization; not there at all.
    let claim = "eob-jason-argonaut-20260915-professional";
    let (status, _) = control(&app, claim, "decision", json!({"decision": "approve"})).await;
    assert_eq!(status, 400);
    let (status, body) = control(&app, "nope", "use", json!({"units": 1})).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn the_timeline_brings_its_changes_as_the_clock_passes_them_and_reset_undoes_them() {
    let app = spawn_app().await;
    let changes: Value = app.get("/sandbox/api/changes").await.json().await.unwrap();
    let listed = changes["changes"].as_array().unwrap();
    assert_eq!(listed.len(), 5, "{changes}");
    assert!(listed.iter().all(|c| c["applied"] == false));
    assert_eq!(listed[0]["at"], "2026-12-02T12:00:00Z");
    assert_eq!(listed[0]["origin"], "seed-data/timeline.ndjson:4");

    let refill = format!("/r4/ExplanationOfBenefit/{ROSA_REFILL}");
    assert_eq!(get(&app, ROSA, &refill).await.0, 404);
    let (_, rosa_before) = get(&app, ROSA, "/r4/ExplanationOfBenefit?_summary=count").await;

    // Day 1: Rosa's refill claim posts, and only that.
    app.advance_clock(DAY + 1).await;
    let (status, claim) = get(&app, ROSA, &refill).await;
    assert_eq!(status, 200);
    assert_eq!(claim["meta"]["versionId"], "1");
    assert_eq!(claim["meta"]["lastUpdated"], "2026-12-02T12:00:00Z");
    let (_, rosa_after) = get(&app, ROSA, "/r4/ExplanationOfBenefit?_summary=count").await;
    assert_eq!(
        rosa_after["total"].as_u64().unwrap(),
        rosa_before["total"].as_u64().unwrap() + 1
    );
    let (_, since) = get(
        &app,
        ROSA,
        "/r4/ExplanationOfBenefit?_lastUpdated=gt2026-12-01T12:00:00Z",
    )
    .await;
    assert_eq!(ids(&since), [format!("ExplanationOfBenefit/{ROSA_REFILL}")]);
    let (_, jason_since) = get(
        &app,
        JASON,
        "/r4/ExplanationOfBenefit?_lastUpdated=gt2026-12-01T12:00:00Z",
    )
    .await;
    assert_eq!(ids(&jason_since), Vec::<String>::new());

    // Day 6: the MRI approved (day 3), the sixth visit's claim and its unit (day 6).
    app.advance_clock(5 * DAY).await;
    let (_, since) = get(
        &app,
        JASON,
        "/r4/ExplanationOfBenefit?_lastUpdated=gt2026-12-02T12:00:00Z&_sort=_lastUpdated",
    )
    .await;
    let mut changed = ids(&since);
    changed.sort();
    assert_eq!(
        changed,
        [
            format!("ExplanationOfBenefit/{SIXTH_VISIT}"),
            format!("ExplanationOfBenefit/{THERAPY}"),
            format!("ExplanationOfBenefit/{MRI}"),
        ]
    );
    let (_, mri) = get(&app, JASON, &format!("/r4/ExplanationOfBenefit/{MRI}")).await;
    assert_eq!(mri["meta"]["versionId"], "2");
    assert_eq!(mri["meta"]["lastUpdated"], "2026-12-04T12:00:00Z");
    assert_eq!(mri["outcome"], "complete");
    let (_, therapy) = get(&app, JASON, &format!("/r4/ExplanationOfBenefit/{THERAPY}")).await;
    assert_eq!(units(&therapy, "consumedunits"), Some(6));
    // The claims that cite the authorization now add up to the units it records used.
    let (_, citing) = get(&app, JASON, "/r4/ExplanationOfBenefit?use=claim&_count=200").await;
    let cited = citing["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["preAuthRef"][0] == "DHP-PA-2026-004001")
        .count();
    assert_eq!(cited, 6);

    // Day 21: Walter's coverage ends that day.
    app.advance_clock(15 * DAY).await;
    let (_, coverage) = get(&app, WALTER, "/r4/Coverage/coverage-walter-okafor-medical").await;
    assert_eq!(coverage["meta"]["versionId"], "2");
    assert_eq!(coverage["period"]["end"], "2026-12-22");
    let changes: Value = app.get("/sandbox/api/changes").await.json().await.unwrap();
    assert!(
        changes["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["applied"] == true),
        "{changes}"
    );

    // Back on the wall clock (frozen here): the data as loaded.
    let response = app.post_json("/sandbox/api/clock/reset", json!({})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(get(&app, ROSA, &refill).await.0, 404);
    let (_, mri) = get(&app, JASON, &format!("/r4/ExplanationOfBenefit/{MRI}")).await;
    assert_eq!(mri["meta"]["versionId"], "1");
    let (status, history) = get(
        &app,
        JASON,
        &format!("/r4/ExplanationOfBenefit/{MRI}/_history"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(history["total"], 1);
}

#[tokio::test]
async fn control_changes_are_forgotten_by_clock_reset_and_reset() {
    let app = spawn_app().await;
    for reset in ["/sandbox/api/clock/reset", "/sandbox/api/reset"] {
        let (status, _) = control(&app, MRI, "decision", json!({"decision": "approve"})).await;
        assert_eq!(status, 200);
        let (_, mri) = get(&app, JASON, &format!("/r4/ExplanationOfBenefit/{MRI}")).await;
        assert_eq!(mri["meta"]["versionId"], "2");
        assert_eq!(app.post_json(reset, json!({})).await.status(), 200);
        let (_, mri) = get(&app, JASON, &format!("/r4/ExplanationOfBenefit/{MRI}")).await;
        assert_eq!(mri["meta"]["versionId"], "1", "after {reset}");
    }
}

#[tokio::test]
async fn a_prior_authorization_leaves_the_api_a_year_after_its_last_change() {
    let app = spawn_app().await;
    let pas = |member: &'static str| {
        let app = &app;
        async move {
            let (_, bundle) =
                get(app, member, "/r4/ExplanationOfBenefit?use=preauthorization").await;
            ids(&bundle)
        }
    };
    let cgm = "ExplanationOfBenefit/pa-rosa-delgado-20260112-1";
    assert_eq!(pas(ROSA).await.len(), 3);
    assert!(pas(ROSA).await.contains(&cgm.to_owned()));

    // Its last change was 2026-01-14: on 2027-01-15 it is gone from search, reads, includes
    // and $everything; claims are not subject to the rule.
    let (_, claims_before) = get(
        &app,
        ROSA,
        "/r4/ExplanationOfBenefit?use=claim&_summary=count",
    )
    .await;
    app.advance_clock(45 * DAY).await;
    let left = pas(ROSA).await;
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(!left.contains(&cgm.to_owned()));
    assert_eq!(get(&app, ROSA, &format!("/r4/{cgm}")).await.0, 404);
    let (_, everything) = get(
        &app,
        ROSA,
        "/r4/Patient/rosa-delgado/$everything?_count=500",
    )
    .await;
    assert!(!ids(&everything).contains(&cgm.to_owned()));
    let (_, claims_after) = get(
        &app,
        ROSA,
        "/r4/ExplanationOfBenefit?use=claim&_summary=count",
    )
    .await;
    // The refill claim of the timeline posted meanwhile.
    assert_eq!(
        claims_after["total"].as_u64().unwrap(),
        claims_before["total"].as_u64().unwrap() + 1
    );

    // A change is a new last change: the authorization is back for another year.
    let (status, _) = control(
        &app,
        "pa-rosa-delgado-20260112-1",
        "decision",
        json!({"decision": "cancel"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(pas(ROSA).await.contains(&cgm.to_owned()));
}
