//! `GET /sandbox/api/report` (docs/sandbox-tools.md#report): a scripted client's behaviour, set against what CARIN
//! expects of a client, as a contract test would assert on it.

use serde_json::{Value, json};

use crate::helpers::{JASON, TestApp, spawn_app};

async fn report(app: &TestApp, client_id: &str) -> Value {
    let response = app
        .get(&format!("/sandbox/api/report?client_id={client_id}"))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn status(report: &Value, check: &str) -> String {
    report["checks"][check]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("no check {check} in {report}"))
        .to_owned()
}

#[tokio::test]
async fn a_well_behaved_client_meets_the_expectations_it_was_tested_on() {
    let app = spawn_app().await;
    // Discovery carries no credentials: the report counts it for every client.
    app.get("/.well-known/smart-configuration").await;
    let token = app.login(JASON, "patient/*.read").await;
    let patient_id = token["patient"].as_str().unwrap();
    let mut access = token["access_token"].as_str().unwrap().to_owned();
    let patient = format!("/r4/Patient/{patient_id}");
    app.get_with_token(&patient, &access).await;
    app.get_with_token(
        &format!("/r4/ExplanationOfBenefit?patient={patient_id}&_include=ExplanationOfBenefit:*"),
        &access,
    )
    .await;
    app.get_with_token(&format!("/r4/Coverage?patient={patient_id}"), &access)
        .await;

    // A 429 with Retry-After: 2, honoured on the sandbox clock instead of sleeping.
    app.post_json(
        "/sandbox/api/faults",
        json!({"target": "fhir", "status": 429, "retry_after": 2, "client_id": "sandbox-app"}),
    )
    .await;
    assert_eq!(app.get_with_token(&patient, &access).await.status(), 429);
    app.advance_clock(2).await;
    assert_eq!(app.get_with_token(&patient, &access).await.status(), 200);

    // The token expires: 401, refresh, repeat.
    app.advance_clock(3601).await;
    assert_eq!(app.get_with_token(&patient, &access).await.status(), 401);
    let refreshed: Value = app
        .refresh(token["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    access = refreshed["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_with_token(&patient, &access).await.status(), 200);

    let report = report(&app, "sandbox-app").await;
    assert_eq!(report["client_id"], "sandbox-app");
    for check in [
        "discovery",
        "patient_read",
        "eob_search",
        "eob_include",
        "coverage",
        "references",
        "token_refresh",
        "handles_401",
        "handles_429",
        "one_client_auth_method",
        "tokens_not_in_urls",
    ] {
        assert_eq!(status(&report, check), "met", "{check}: {report}");
    }
    for check in ["paging", "handles_5xx"] {
        assert_eq!(status(&report, check), "not_applicable", "{check}");
    }
    let fhir = &report["fhir"];
    assert_eq!(fhir["resources"]["Patient"]["read"], 5);
    assert_eq!(fhir["resources"]["ExplanationOfBenefit"]["search"], 1);
    assert_eq!(
        fhir["resources"]["ExplanationOfBenefit"]["search_params"],
        json!(["_include", "patient"])
    );
    assert_eq!(fhir["includes"], json!(["ExplanationOfBenefit:*"]));
    assert_eq!(fhir["statuses"]["429"], 1);
    assert_eq!(report["oauth"]["code_exchanges"], 1);
    assert_eq!(report["oauth"]["refreshes"], 1);
    let throttled = &report["error_handling"]["throttled"];
    assert_eq!(throttled["received"], 1);
    assert_eq!(throttled["retried_too_early"], 0);
    assert_eq!(report["error_handling"]["unauthorized"]["recovered"], 1);
    for check in report["checks"].as_object().unwrap().values() {
        assert!(check["expectation"].is_string() && check["detail"].is_string());
    }
}

#[tokio::test]
async fn an_impatient_client_that_skips_the_claims_is_caught() {
    let app = spawn_app().await;
    let token = app.login(JASON, "patient/*.read").await;
    let access = token["access_token"].as_str().unwrap();
    let patient = format!("/r4/Patient/{}", token["patient"].as_str().unwrap());
    app.post_json(
        "/sandbox/api/faults",
        json!({"target": "fhir", "status": 429, "retry_after": 2}),
    )
    .await;
    app.get_with_token(&patient, access).await;
    app.get_with_token(&patient, access).await;
    app.post_json(
        "/sandbox/api/faults",
        json!({"target": "fhir", "status": 503}),
    )
    .await;
    app.get_with_token(&patient, access).await;

    let report = report(&app, "sandbox-app").await;
    assert_eq!(status(&report, "handles_429"), "not_met");
    assert_eq!(
        report["error_handling"]["throttled"]["retried_too_early"],
        1
    );
    assert_eq!(status(&report, "handles_5xx"), "not_met", "never repeated");
    // Each names the request it is about in `offending`: the log holds the token exchange (1;
    // headless authorize is a sandbox tool, not logged), then the reads: the 429 (2), its early
    // repeat (3) and the 503 (4).
    let seqs = |check: &str| report["checks"][check]["offending"].clone();
    assert_eq!(seqs("handles_429"), json!([2]));
    assert_eq!(seqs("handles_5xx"), json!([4]));
    for check in [
        "eob_search",
        "eob_include",
        "coverage",
        "token_refresh",
        "discovery",
    ] {
        assert_eq!(status(&report, check), "not_met", "{check}");
    }
    assert_eq!(status(&report, "handles_401"), "not_applicable");

    let nobody = self::report(&app, "someone-else").await;
    assert_eq!(nobody["requests"], 0);
    let everyone: Value = app.get("/sandbox/api/report").await.json().await.unwrap();
    assert!(everyone["client_id"].is_null());
    assert_eq!(everyone["requests"], 4);
}

/// The checks over each request's own parameters: a client that sends `state`, a `nonce` with
/// `openid` and its token in the header meets them; one that forgets `state` and `nonce` and
/// puts its token in the URL is caught, with the offending requests named.
#[tokio::test]
async fn state_nonce_and_tokens_in_urls_are_checked_per_request() {
    let app = spawn_app().await;
    let careful = app
        .get("/oauth2/authorize/test?client_id=sandbox-app&redirect_uri=http://localhost/cb&scope=openid%20patient/*.read&state=s1&nonce=n1")
        .await;
    assert_eq!(careful.status(), 303);
    let access = app.token(JASON, "patient/*.read").await;
    app.get_with_token("/r4/Coverage", &access).await;
    let found = report(&app, "sandbox-app").await;
    for check in ["authorize_state", "authorize_nonce", "tokens_not_in_urls"] {
        assert_eq!(status(&found, check), "met", "{check}: {found}");
    }

    let app = spawn_app().await;
    app.post_form(
        "/oauth2/authorize/test",
        &[
            ("client_id", "sandbox-app"),
            ("redirect_uri", "http://localhost/cb"),
            ("scope", "openid patient/*.read"),
        ],
    )
    .await;
    let access = app.token(JASON, "patient/*.read").await;
    let in_url = app
        .get(&format!(
            "/r4/Coverage?access_token={access}&client_id=sandbox-app"
        ))
        .await;
    assert_eq!(in_url.status(), 401, "a token in the URL is not read");
    let log: Vec<Value> = app.get("/sandbox/api/requests").await.json().await.unwrap();
    let seq_of = |path: &str| {
        log.iter()
            .find(|e| e["path"].as_str().unwrap().starts_with(path))
            .map(|e| e["seq"].clone())
            .unwrap()
    };
    let found = report(&app, "sandbox-app").await;
    for (check, path) in [
        ("authorize_state", "/oauth2/authorize"),
        ("authorize_nonce", "/oauth2/authorize"),
        ("tokens_not_in_urls", "/r4/Coverage"),
    ] {
        assert_eq!(status(&found, check), "not_met", "{check}: {found}");
        assert_eq!(
            found["checks"][check]["offending"],
            json!([seq_of(path)]),
            "{check}"
        );
    }
}

/// `?format=junit`: the same checks as JUnit XML that a CI test reporter reads: one test case per
/// check, a failure naming the offending requests for each check not met, a skipped case for each
/// not applicable. Parsed with an XML parser, as a CI tool would.
#[tokio::test]
async fn the_report_in_junit_xml() {
    let app = spawn_app().await;
    app.get("/oauth2/authorize/test?client_id=sandbox-app&redirect_uri=http://localhost/cb")
        .await;
    let json = report(&app, "sandbox-app").await;
    let response = app
        .get("/sandbox/api/report?client_id=sandbox-app&format=junit")
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/xml; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let checks = json["checks"].as_object().unwrap();
    let cases: Vec<roxmltree::Node> = suites
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), checks.len());
    for case in &cases {
        let name = case.attribute("name").unwrap();
        let status = checks[name]["status"].as_str().unwrap();
        let failure = case.children().find(|n| n.has_tag_name("failure"));
        let skipped = case.children().any(|n| n.has_tag_name("skipped"));
        assert_eq!(failure.is_some(), status == "not_met", "{name}");
        assert_eq!(skipped, status == "not_applicable", "{name}");
    }
    let failures = checks.values().filter(|c| c["status"] == "not_met").count();
    assert_eq!(suites.attribute("failures").unwrap(), failures.to_string());
    let state = cases
        .iter()
        .find(|c| c.attribute("name") == Some("authorize_state"))
        .unwrap();
    let failure = state
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure
            .text()
            .unwrap()
            .contains("GET /oauth2/authorize/test?client_id=sandbox-app"),
        "{text}"
    );
    assert_eq!(
        app.get("/sandbox/api/report?format=yaml").await.status(),
        400
    );
}

/// After a 503 without `Retry-After`, repeating at once is a tight loop (not met); waiting a
/// second on the sandbox clock is the back-off expected (met).
#[tokio::test]
async fn a_tight_retry_loop_after_a_5xx_is_caught_even_without_retry_after() {
    for wait in [0, 1] {
        let app = spawn_app().await;
        let token = app.login(JASON, "patient/*.read").await;
        let access = token["access_token"].as_str().unwrap();
        let patient = format!("/r4/Patient/{}", token["patient"].as_str().unwrap());
        app.post_json(
            "/sandbox/api/faults",
            json!({"target": "fhir", "status": 503}),
        )
        .await;
        assert_eq!(app.get_with_token(&patient, access).await.status(), 503);
        if wait > 0 {
            app.advance_clock(wait).await;
        }
        assert_eq!(app.get_with_token(&patient, access).await.status(), 200);
        let found = report(&app, "sandbox-app").await;
        let expected = if wait == 0 { "not_met" } else { "met" };
        assert_eq!(
            status(&found, "handles_5xx"),
            expected,
            "waited {wait} s: {found}"
        );
    }
}

/// A client that sends its access token after `expires_in` has passed, without refreshing first,
/// is named; one that refreshes once the hour is over meets the check.
#[tokio::test]
async fn a_token_sent_after_its_expires_in_is_caught() {
    for refreshes_first in [false, true] {
        let app = spawn_app().await;
        let token = app.login(JASON, "patient/*.read").await;
        let patient = format!("/r4/Patient/{}", token["patient"].as_str().unwrap());
        let mut access = token["access_token"].as_str().unwrap().to_owned();
        assert_eq!(app.get_with_token(&patient, &access).await.status(), 200);
        app.advance_clock(3600).await;
        if refreshes_first {
            let refreshed: Value = app
                .refresh(token["refresh_token"].as_str().unwrap())
                .await
                .json()
                .await
                .unwrap();
            access = refreshed["access_token"].as_str().unwrap().to_owned();
        }
        let late = app.get_with_token(&patient, &access).await.status();
        let found = report(&app, "sandbox-app").await;
        let check = &found["checks"]["refreshes_before_expiry"];
        if refreshes_first {
            assert_eq!(late, 200);
            assert_eq!(check["status"], "met", "{found}");
        } else {
            assert_eq!(late, 401);
            assert_eq!(check["status"], "not_met", "{found}");
            assert_eq!(check["offending"].as_array().unwrap().len(), 1, "{check}");
        }
    }
}

/// `rejects_flawed_id_token`: a careful client validates each id_token, throws away a token
/// response whose id_token fails and signs in again (met, no false alarm); a client that does
/// not validate uses the access token that came with a flawed id_token (caught, its request
/// named).
#[tokio::test]
async fn a_client_that_goes_on_with_a_flawed_id_token_is_caught() {
    for careful in [true, false] {
        let app = spawn_app().await;
        let login = || async {
            let code = app
                .headless_code(
                    "sandbox-app",
                    JASON,
                    json!({"scope": "openid patient/*.read", "nonce": "n-7"}),
                )
                .await;
            app.exchange_code(&code)
                .await
                .json::<Value>()
                .await
                .unwrap()
        };
        let fault: Value = app
            .post_json(
                "/sandbox/api/faults",
                json!({"target": "token", "id_token": "wrong_iss"}),
            )
            .await
            .json()
            .await
            .unwrap();
        let mut tokens = login().await;
        let valid = app
            .validate_id_token(tokens["id_token"].as_str().unwrap())
            .await
            .is_ok();
        assert!(!valid, "the fault fired");
        if careful {
            tokens = login().await;
            app.validate_id_token(tokens["id_token"].as_str().unwrap())
                .await
                .expect("the second id_token is good");
        }
        let patient = format!("/r4/Patient/{}", tokens["patient"].as_str().unwrap());
        let read = app
            .get_with_token(&patient, tokens["access_token"].as_str().unwrap())
            .await;
        assert_eq!(read.status(), 200);

        let log: Vec<Value> = app.get("/sandbox/api/requests").await.json().await.unwrap();
        let flawed = log
            .iter()
            .find(|e| e["id_token_flaw"] == "wrong_iss")
            .expect("the log names the flaw");
        assert_eq!(flawed["fault"], fault["id"]);
        let read_seq = log.last().unwrap()["seq"].clone();

        let report = report(&app, "sandbox-app").await;
        let check = &report["checks"]["rejects_flawed_id_token"];
        if careful {
            assert_eq!(check["status"], "met", "{check}");
            assert!(check.get("offending").is_none());
        } else {
            assert_eq!(check["status"], "not_met", "{check}");
            assert_eq!(check["offending"], json!([read_seq]));
            assert!(
                check["detail"].as_str().unwrap().contains("wrong_iss"),
                "{check}"
            );
        }
    }
}
