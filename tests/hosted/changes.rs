//! Data changes and rate limits across replicas (docs/hosted.md#data-changes,
//! docs/hosted.md#rate-limits): a change to a prior authorization made on one replica is what the
//! other serves on the very next request (read, search, history, `$everything`, the changes
//! list); two replicas changing one prior authorization at once take turns, so versions are
//! distinct and consecutive; a replica started later serves every change; `reset` and
//! `clock/reset` on one clear both; every replica has the same timeline; a Cascade token gets
//! exactly its limit in one second of the sandbox clock across both replicas.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::support::*;

/// Every replica's sandbox clock is frozen here (plus the shared offset), as in the API suite's
/// tests of data changes: the instants below are exact.
const START: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);
/// Jason Argonaut's lumbar MRI, waiting for a decision.
const MRI: &str = "pa-jason-argonaut-20261123-1";
/// Jason's physical therapy: 12 visits approved, 5 used by claims.
const THERAPY: &str = "pa-jason-argonaut-20260727-1";
/// Cascade Health Alliance's rate limit (docs/plans.md#embedded-plans).
const CASCADE_LIMIT: usize = 10;

/// A change through the control API at `url`: the status and the answer.
async fn change(
    client: &reqwest::Client,
    url: &str,
    pa: &str,
    what: &str,
    body: Value,
) -> (u16, Value) {
    post_json(
        client,
        &format!("{url}/sandbox/api/prior-authorizations/{pa}/{what}"),
        body,
    )
    .await
}

/// A FHIR GET of the default plan's at `url` with Jason's token: the status and the body.
async fn fhir(client: &reqwest::Client, url: &str, path: &str, token: &str) -> (u16, Value) {
    get_with_token(client, &format!("{url}/r4/{path}"), token).await
}

/// The `Type/id` of each entry of a Bundle.
fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    format!(
                        "{}/{}",
                        e["resource"]["resourceType"].as_str().unwrap(),
                        e["resource"]["id"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every version id of a `_history` Bundle, in its order.
fn version_ids(history: &Value) -> Vec<String> {
    history["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["resource"]["meta"]["versionId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The changes `GET /sandbox/api/changes` lists at `url` that the control API made.
async fn made_changes(client: &reqwest::Client, url: &str) -> Vec<Value> {
    let listed: Value = get_json(client, &format!("{url}/sandbox/api/changes")).await;
    listed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["origin"] == "control API")
        .cloned()
        .collect()
}

/// The units of the first item's adjudication of `category` (`consumedunits`, `allowedunits`).
fn units(pa: &Value, category: &str) -> Option<u64> {
    pa["item"][0]["adjudication"]
        .as_array()?
        .iter()
        .find(|a| a["category"]["coding"][0]["code"] == category)?["value"]
        .as_u64()
}

/// Jason's access token, issued and redeemed at `url` (codes and tokens are shared).
async fn jason(client: &reqwest::Client, url: &str) -> String {
    tokens(client, url, url).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_change_made_on_one_replica_is_what_the_other_serves_on_the_very_next_request() {
    let database = fresh_database("payer_changes_next").await;
    let a = replica_at(&database, START).await;
    let b = replica_at(&database, START).await;
    let client = reqwest::Client::new();
    let token = jason(&client, &a).await;
    let steps = [
        (MRI, "decision", json!({"decision": "deny", "reason": "50"})),
        (MRI, "decision", json!({"decision": "pend"})),
        (THERAPY, "use", json!({"units": 2})),
        (MRI, "decision", json!({"decision": "approve"})),
        (THERAPY, "use", json!({"units": 1})),
        (MRI, "decision", json!({"decision": "pend"})),
        (THERAPY, "use", json!({"units": 3})),
        (MRI, "decision", json!({"decision": "deny", "reason": "50"})),
    ];
    let (mut mri, mut therapy) = (1, 1);
    for (round, (pa, what, body)) in steps.into_iter().enumerate() {
        let (maker, other) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        // A minute apart, so that each change is the only one after the one before it.
        let moved = post(
            &client,
            &format!("{maker}/sandbox/api/clock/advance"),
            json!({"seconds": 60}),
        )
        .await;
        assert_eq!(moved, 200);
        let (status, made) = change(&client, maker, pa, what, body).await;
        assert_eq!(status, 200, "round {round}: {made}");
        let expected = if pa == MRI {
            mri += 1;
            mri
        } else {
            therapy += 1;
            therapy
        };
        assert_eq!(made["version_id"], expected.to_string(), "round {round}");
        let since = made["last_updated"].as_str().unwrap().to_owned();
        assert_eq!(
            OffsetDateTime::parse(&since, &time::format_description::well_known::Rfc3339).unwrap(),
            START + time::Duration::minutes(round as i64 + 1),
            "round {round}: the change is due at the shared clock's now"
        );

        // The very next request, on the other replica: the new version.
        let (status, read) = fhir(
            &client,
            other,
            &format!("ExplanationOfBenefit/{pa}"),
            &token,
        )
        .await;
        assert_eq!(status, 200, "round {round}");
        assert_eq!(read, made["body"], "round {round}");
        let (_, found) = fhir(
            &client,
            other,
            &format!("ExplanationOfBenefit?_id={pa}"),
            &token,
        )
        .await;
        assert_eq!(found["entry"][0]["resource"], made["body"], "round {round}");
        let (_, synced) = fhir(
            &client,
            other,
            &format!("ExplanationOfBenefit?_lastUpdated=ge{since}"),
            &token,
        )
        .await;
        assert_eq!(
            ids(&synced),
            [format!("ExplanationOfBenefit/{pa}")],
            "round {round}"
        );
        let (_, everything) = fhir(
            &client,
            other,
            &format!("Patient/jason-argonaut/$everything?_since={since}"),
            &token,
        )
        .await;
        assert_eq!(
            ids(&everything),
            [format!("ExplanationOfBenefit/{pa}")],
            "round {round}"
        );
        let (_, history) = fhir(
            &client,
            other,
            &format!("ExplanationOfBenefit/{pa}/_history"),
            &token,
        )
        .await;
        assert_eq!(history["total"], expected, "round {round}");
        assert!(
            version_ids(&history).contains(&expected.to_string()),
            "round {round}"
        );
        let (status, vread) = fhir(
            &client,
            other,
            &format!("ExplanationOfBenefit/{pa}/_history/{expected}"),
            &token,
        )
        .await;
        assert_eq!(status, 200, "round {round}");
        assert_eq!(vread, made["body"], "round {round}");
        let listed = made_changes(&client, other).await;
        assert_eq!(listed.len(), round + 1, "round {round}");
        assert_eq!(
            listed[round]["version_id"],
            expected.to_string(),
            "round {round}"
        );
        assert_eq!(listed, made_changes(&client, maker).await, "round {round}");
    }
    // Both replicas agree on where the changes left the authorizations.
    let (_, used) = fhir(
        &client,
        &a,
        &format!("ExplanationOfBenefit/{THERAPY}"),
        &token,
    )
    .await;
    assert_eq!(units(&used, "consumedunits"), Some(11));
    assert_eq!(
        used,
        fhir(
            &client,
            &b,
            &format!("ExplanationOfBenefit/{THERAPY}"),
            &token
        )
        .await
        .1
    );
    assert_eq!(count(&database, "data_changes").await, 8);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn concurrent_changes_to_one_prior_authorization_on_both_replicas_get_distinct_consecutive_versions()
 {
    let database = fresh_database("payer_changes_race").await;
    let a = replica_at(&database, START).await;
    let b = replica_at(&database, START).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .build()
        .unwrap();
    for round in 0..10 {
        // From the data as loaded each round: 12 visits approved, 5 used, so 7 more fit.
        let resetter = if round % 2 == 0 { &a } else { &b };
        assert_eq!(
            post(&client, &format!("{resetter}/sandbox/api/reset"), json!({})).await,
            200
        );
        let token = jason(&client, &a).await;
        let mut running = Vec::new();
        // Eight units used one at a time, four on each replica, all at once: seven fit.
        for i in 0..8 {
            let url = if i % 2 == 0 { a.clone() } else { b.clone() };
            let client = client.clone();
            running.push(tokio::spawn(async move {
                change(&client, &url, THERAPY, "use", json!({"units": 1})).await
            }));
        }
        let mut versions = Vec::new();
        let mut refused = 0;
        for answer in running {
            match answer.await.unwrap() {
                (200, made) => {
                    versions.push(made["version_id"].as_str().unwrap().parse::<u32>().unwrap())
                }
                (409, _) => refused += 1,
                (status, body) => panic!("round {round}: {status} {body}"),
            }
        }
        versions.sort_unstable();
        assert_eq!(versions, (2..=8).collect::<Vec<_>>(), "round {round}");
        assert_eq!(refused, 1, "round {round}: the eighth unit does not fit");
        for url in [&a, &b] {
            let (_, read) = fhir(
                &client,
                url,
                &format!("ExplanationOfBenefit/{THERAPY}"),
                &token,
            )
            .await;
            assert_eq!(read["meta"]["versionId"], "8", "round {round}");
            assert_eq!(units(&read, "consumedunits"), Some(12), "round {round}");
            let (_, history) = fhir(
                &client,
                url,
                &format!("ExplanationOfBenefit/{THERAPY}/_history"),
                &token,
            )
            .await;
            let mut listed = version_ids(&history);
            listed.sort_by_key(|v| v.parse::<u32>().unwrap());
            assert_eq!(
                listed,
                ["1", "2", "3", "4", "5", "6", "7", "8"],
                "round {round}"
            );
        }
        assert_eq!(
            made_changes(&client, &a).await,
            made_changes(&client, &b).await
        );
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_replica_started_later_serves_every_change() {
    let database = fresh_database("payer_changes_later").await;
    let a = replica_at(&database, START).await;
    let client = reqwest::Client::new();
    let steps = [
        (MRI, "decision", json!({"decision": "deny", "reason": "50"})),
        (THERAPY, "use", json!({"units": 1})),
        (MRI, "decision", json!({"decision": "pend"})),
        (THERAPY, "use", json!({"units": 2})),
        (MRI, "decision", json!({"decision": "approve"})),
    ];
    let mut made = Vec::new();
    for (pa, what, body) in steps {
        assert_eq!(
            post(
                &client,
                &format!("{a}/sandbox/api/clock/advance"),
                json!({"seconds": 3600})
            )
            .await,
            200
        );
        let (status, answer) = change(&client, &a, pa, what, body).await;
        assert_eq!(status, 200, "{answer}");
        made.push((pa, answer));
    }
    let b = replica_at(&database, START).await;
    // Issued after the clock moved five hours.
    let token = jason(&client, &a).await;
    // Every version of each, as the replica that made them answered them.
    for pa in [MRI, THERAPY] {
        let (_, history) = fhir(
            &client,
            &b,
            &format!("ExplanationOfBenefit/{pa}/_history"),
            &token,
        )
        .await;
        for (_, answer) in made.iter().filter(|(of, _)| *of == pa) {
            let version = answer["version_id"].as_str().unwrap();
            let (status, vread) = fhir(
                &client,
                &b,
                &format!("ExplanationOfBenefit/{pa}/_history/{version}"),
                &token,
            )
            .await;
            assert_eq!(status, 200);
            assert_eq!(&vread, &answer["body"]);
            assert!(version_ids(&history).contains(&version.to_owned()));
        }
        let newest = &made.iter().rev().find(|(of, _)| *of == pa).unwrap().1;
        assert_eq!(
            fhir(&client, &b, &format!("ExplanationOfBenefit/{pa}"), &token)
                .await
                .1,
            newest["body"]
        );
    }
    let listed = made_changes(&client, &b).await;
    assert_eq!(listed.len(), 5);
    assert_eq!(listed, made_changes(&client, &a).await);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn reset_or_clock_reset_on_either_replica_clears_the_changes_on_both() {
    let database = fresh_database("payer_changes_reset").await;
    let a = replica_at(&database, START).await;
    let b = replica_at(&database, START).await;
    let client = reqwest::Client::new();
    for (round, reset) in ["reset", "clock/reset", "reset", "clock/reset"]
        .into_iter()
        .enumerate()
    {
        let (maker, resetter) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let (status, made) = change(
            &client,
            maker,
            MRI,
            "decision",
            json!({"decision": "approve"}),
        )
        .await;
        assert_eq!(status, 200, "{made}");
        assert_eq!(made["version_id"], "2", "round {round}");
        assert_eq!(
            post(
                &client,
                &format!("{resetter}/sandbox/api/{reset}"),
                json!({})
            )
            .await,
            200
        );
        // `reset` ends every token too.
        let token = jason(&client, &a).await;
        for url in [&a, &b] {
            let (_, read) =
                fhir(&client, url, &format!("ExplanationOfBenefit/{MRI}"), &token).await;
            assert_eq!(
                read["meta"]["versionId"], "1",
                "round {round}: after {reset}"
            );
            assert_eq!(read["outcome"], "queued");
            assert!(made_changes(&client, url).await.is_empty(), "round {round}");
        }
    }
    // A replica started after the reset has nothing to replay.
    let c = replica_at(&database, START).await;
    assert!(made_changes(&client, &c).await.is_empty());
    assert_eq!(
        count(&database, "data_changes").await,
        1,
        "only the forget is left"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn every_replica_has_the_same_timeline_whenever_it_started() {
    let database = fresh_database("payer_changes_timeline").await;
    let a = replica(&database).await;
    // A replica started later still counts the timeline from the first one's start.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    let timeline = |url: String| {
        let client = client.clone();
        async move {
            let listed: Value = get_json(&client, &format!("{url}/sandbox/api/changes")).await;
            listed["changes"].clone()
        }
    };
    let first = timeline(a.clone()).await;
    assert!(!first.as_array().unwrap().is_empty());
    assert_eq!(first, timeline(b.clone()).await);
    // Three days on, the MRI's approval is due on both, as the same version.
    assert_eq!(
        post(
            &client,
            &format!("{b}/sandbox/api/clock/advance"),
            json!({"seconds": 3 * 86_400 + 60})
        )
        .await,
        200
    );
    let token = jason(&client, &a).await;
    let (_, on_a) = fhir(&client, &a, &format!("ExplanationOfBenefit/{MRI}"), &token).await;
    let (_, on_b) = fhir(&client, &b, &format!("ExplanationOfBenefit/{MRI}"), &token).await;
    assert_eq!(on_a["meta"]["versionId"], "2");
    assert_eq!(on_a, on_b);
    assert_eq!(timeline(a).await, timeline(b).await);
}

/// `count` requests of Cascade's Coverage search with `token`, alternating between the
/// replicas and all sent at once: the statuses.
async fn burst(
    client: &reqwest::Client,
    replicas: [&str; 2],
    token: &str,
    count: usize,
) -> Vec<(u16, Value, Option<String>)> {
    let mut running = Vec::new();
    for i in 0..count {
        let url = format!("{}/plans/cascade/r4/Coverage", replicas[i % 2]);
        let (client, token) = (client.clone(), token.to_owned());
        running.push(tokio::spawn(async move {
            let response = client.get(url).bearer_auth(token).send().await.unwrap();
            let status = response.status().as_u16();
            let retry = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, response.json().await.unwrap_or(Value::Null), retry)
        }));
    }
    let mut answers = Vec::new();
    for answer in running {
        answers.push(answer.await.unwrap());
    }
    answers
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_cascade_token_gets_exactly_its_limit_in_one_second_across_both_replicas() {
    let database = fresh_database("payer_rate_limit").await;
    let a = replica_at(&database, START).await;
    let b = replica_at(&database, START).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let gunnar = cascade_tokens(&client, &a, "Gunnar").await;
    let token = gunnar["access_token"].as_str().unwrap();
    for second in 0..5 {
        // Three times the limit, half on each replica, in one second of the frozen clock.
        let answers = burst(&client, [&a, &b], token, 3 * CASCADE_LIMIT).await;
        let ok = answers
            .iter()
            .filter(|(status, _, _)| *status == 200)
            .count();
        assert_eq!(ok, CASCADE_LIMIT, "second {second}");
        for (status, outcome, retry) in answers.iter().filter(|(status, _, _)| *status != 200) {
            assert_eq!(*status, 429, "second {second}: {outcome}");
            assert_eq!(outcome["issue"][0]["code"], "throttled");
            assert_eq!(retry.as_deref(), Some("1"));
        }
        // Per token: another member's is not limited by Gunnar's requests.
        if second == 0 {
            let theo = cascade_tokens(&client, &b, "Theo").await;
            let url = format!("{a}/plans/cascade/r4/Coverage");
            let (status, _) =
                get_with_token(&client, &url, theo["access_token"].as_str().unwrap()).await;
            assert_eq!(status, 200);
        }
        // The next second of the sandbox clock opens a new window, on both replicas.
        let mover = if second % 2 == 0 { &b } else { &a };
        assert_eq!(
            post(
                &client,
                &format!("{mover}/sandbox/api/clock/advance"),
                json!({"seconds": 1})
            )
            .await,
            200
        );
    }
    // Back to the start and forward again to a second already used up: its old count was
    // counted before the clock went back, and does not count again.
    assert_eq!(
        post(&client, &format!("{a}/sandbox/api/clock/reset"), json!({})).await,
        200
    );
    assert_eq!(
        post(
            &client,
            &format!("{b}/sandbox/api/clock/advance"),
            json!({"seconds": 4})
        )
        .await,
        200
    );
    let answers = burst(&client, [&a, &b], token, 2 * CASCADE_LIMIT).await;
    let ok = answers
        .iter()
        .filter(|(status, _, _)| *status == 200)
        .count();
    assert_eq!(ok, CASCADE_LIMIT, "the second after clock/reset");
    // Only a plan with a limit counts in the database: the default plan's requests do not.
    let counted = count(&database, "rate_counts").await;
    let token = jason(&client, &a).await;
    for url in [&a, &b] {
        for _ in 0..20 {
            assert_eq!(fhir(&client, url, "Coverage", &token).await.0, 200);
        }
    }
    assert_eq!(count(&database, "rate_counts").await, counted);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn with_the_database_gone_a_rate_limited_request_is_a_503_and_a_change_is_not_made() {
    let database = fresh_database("payer_rate_limit_gone").await;
    let a = replica_at(&database, START).await;
    let client = reqwest::Client::new();
    let gunnar = cascade_tokens(&client, &a, "Gunnar").await;
    let token = gunnar["access_token"].as_str().unwrap();
    let url = format!("{a}/plans/cascade/r4/Coverage");
    assert_eq!(get_with_token(&client, &url, token).await.0, 200);
    run("PAYER_SANDBOX_TEST_PG_STOP");
    // The token is cached here, so only the count needs the database: it cannot be counted, so
    // it is not served.
    let (status, outcome) = get_with_token(&client, &url, token).await;
    let (changed, answer) =
        change(&client, &a, MRI, "decision", json!({"decision": "approve"})).await;
    run("PAYER_SANDBOX_TEST_PG_START");
    assert_eq!(status, 503, "{outcome}");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "transient");
    assert_eq!(changed, 503, "{answer}");
    assert_eq!(answer["error"], "temporarily_unavailable");
    // Back without a restart; the change that was refused was not made.
    let mut status = 0;
    for _ in 0..100 {
        status = get_with_token(&client, &url, token).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
    let jason = jason(&client, &a).await;
    let (_, read) = fhir(&client, &a, &format!("ExplanationOfBenefit/{MRI}"), &jason).await;
    assert_eq!(read["meta"]["versionId"], "1");
    assert!(made_changes(&client, &a).await.is_empty());
}
