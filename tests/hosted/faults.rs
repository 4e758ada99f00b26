//! Faults and the request log shared by every replica (docs/hosted.md#faults,
//! docs/hosted.md#the-request-log): two replicas on one database, requests alternating and
//! racing between them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::support::*;

/// A FHIR request that needs no token: the faults below aim at it.
const METADATA: &str = "/r4/metadata";
const JASON: &str = "08-testmemid";

fn metadata_fault(count: u32) -> Value {
    json!({"target": "fhir", "path": METADATA, "status": 503, "count": count})
}

async fn add_fault(client: &reqwest::Client, url: &str, fault: Value) -> Value {
    let (status, body) = post_json(client, &format!("{url}/sandbox/api/faults"), fault).await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn faults(client: &reqwest::Client, url: &str) -> Vec<Value> {
    get_json(client, &format!("{url}/sandbox/api/faults")).await
}

async fn requests(client: &reqwest::Client, url: &str) -> Vec<Value> {
    get_json(client, &format!("{url}/sandbox/api/requests")).await
}

async fn delete(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = client.delete(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The status of `GET {url}/r4/metadata{query}`.
async fn metadata(client: &reqwest::Client, url: &str, query: &str) -> u16 {
    client
        .get(format!("{url}{METADATA}{query}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `n` requests at once, alternating between the replicas: each one's status.
async fn race(client: &reqwest::Client, replicas: [&str; 2], n: usize) -> Vec<u16> {
    let mut set = JoinSet::new();
    for i in 0..n {
        let (client, url) = (client.clone(), replicas[i % 2].to_owned());
        set.spawn(async move { metadata(&client, &url, &format!("?race={i}")).await });
    }
    let mut statuses = Vec::new();
    while let Some(status) = set.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_fault_with_count_n_fires_exactly_n_times_when_replicas_race() {
    let database = fresh_database("payer_faults_count").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    let mut fired_by_id = std::collections::HashMap::new();
    for round in 0..5 {
        let adder = if round % 2 == 0 { &a } else { &b };
        let fault = add_fault(&client, adder, metadata_fault(7)).await;
        let statuses = race(&client, [&a, &b], 20).await;
        let fired = statuses.iter().filter(|s| **s == 503).count();
        assert_eq!(fired, 7, "round {round}: {statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 13);
        // Spent: gone from both replicas' lists, and neither fires it again.
        assert_eq!(faults(&client, &a).await, Vec::<Value>::new());
        assert_eq!(faults(&client, &b).await, Vec::<Value>::new());
        assert_eq!(metadata(&client, &a, "").await, 200, "round {round}");
        assert_eq!(metadata(&client, &b, "").await, 200, "round {round}");
        fired_by_id.insert(fault["id"].as_u64().unwrap(), 0);
    }
    // Harder: 100 requests at once for a count of 37.
    let fault = add_fault(&client, &b, metadata_fault(37)).await;
    let statuses = race(&client, [&a, &b], 100).await;
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 37);
    fired_by_id.insert(fault["id"].as_u64().unwrap(), 0);
    // The shared log names the fault of each firing: 7 for each of the first five, 37 for the
    // last.
    for entry in requests(&client, &a).await {
        if let Some(id) = entry["fault"].as_u64() {
            *fired_by_id.get_mut(&id).expect("a fault of this test") += 1;
        }
    }
    assert_eq!(fired_by_id.len(), 6, "fault ids are unique across replicas");
    let mut counts: Vec<usize> = fired_by_id.values().copied().collect();
    counts.sort();
    assert_eq!(counts, [7, 7, 7, 7, 7, 37], "{fired_by_id:?}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_fault_change_on_one_replica_is_in_force_on_the_other_for_the_very_next_request() {
    let database = fresh_database("payer_faults_next").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    let mut ids = HashSet::new();
    for round in 0..10 {
        let (here, there) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        // Added here: fires there on the very next request.
        let fault = add_fault(&client, here, metadata_fault(1000)).await;
        assert!(
            ids.insert(fault["id"].as_u64().unwrap()),
            "a new id: {fault}"
        );
        assert_eq!(metadata(&client, there, "").await, 503, "round {round}");
        assert_eq!(faults(&client, there).await[0]["remaining"], 999);
        // Cleared there: stopped here on the very next request.
        let (status, cleared) = delete(&client, &format!("{there}/sandbox/api/faults")).await;
        assert_eq!(
            (status, cleared),
            (200, json!({"deleted": 1})),
            "round {round}"
        );
        assert_eq!(metadata(&client, here, "").await, 200, "round {round}");
        // Removed by id on the other replica than the one that added it.
        let fault = add_fault(&client, there, metadata_fault(1000)).await;
        assert!(
            ids.insert(fault["id"].as_u64().unwrap()),
            "a new id: {fault}"
        );
        assert_eq!(metadata(&client, here, "").await, 503, "round {round}");
        let one = format!("{here}/sandbox/api/faults/{}", fault["id"]);
        assert_eq!(delete(&client, &one).await.0, 200, "round {round}");
        assert_eq!(metadata(&client, there, "").await, 200, "round {round}");
        assert_eq!(delete(&client, &one).await.0, 404, "already removed");
    }
    // A replica started later has the faults there are before it serves.
    add_fault(&client, &a, metadata_fault(2)).await;
    let c = replica(&database).await;
    assert_eq!(metadata(&client, &c, "").await, 503);
    assert_eq!(metadata(&client, &b, "").await, 503);
    assert_eq!(
        metadata(&client, &a, "").await,
        200,
        "spent after two firings"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn the_request_log_on_either_replica_shows_every_replicas_requests_in_order() {
    let database = fresh_database("payer_request_log").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    // One after the other, alternating: read at once, on either replica, in the order sent.
    for i in 0..10 {
        let url = if i % 2 == 0 { &a } else { &b };
        assert_eq!(metadata(&client, url, &format!("?n={i}")).await, 200);
    }
    let on_a = requests(&client, &a).await;
    let queries: Vec<&str> = on_a.iter().map(|e| e["query"].as_str().unwrap()).collect();
    let sent: Vec<String> = (0..10).map(|i| format!("n={i}")).collect();
    assert_eq!(queries, sent);
    let seqs: Vec<u64> = on_a.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<u64>>());
    assert_eq!(
        requests(&client, &b).await,
        on_a,
        "both replicas list the same log"
    );

    // Racing: every one of them, each with its own seq, one after another.
    race(&client, [&a, &b], 20).await;
    let on_b = requests(&client, &b).await;
    assert_eq!(on_b.len(), 30);
    let seqs: Vec<u64> = on_b.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=30).collect::<Vec<u64>>());

    // Cleared on one replica: empty on both; a seq is never given again.
    let (status, cleared) = delete(&client, &format!("{b}/sandbox/api/requests")).await;
    assert_eq!((status, cleared), (200, json!({"deleted": 30})));
    assert_eq!(requests(&client, &a).await, Vec::<Value>::new());
    metadata(&client, &a, "?after=clear").await;
    let after = requests(&client, &b).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["query"], "after=clear");
    assert_eq!(after[0]["seq"], 31);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn the_log_names_a_fault_fired_on_the_other_replica_and_stays_bounded() {
    let database = fresh_database("payer_request_log_bound").await;
    let a = replica_with(&database, |s| s.request_log_size = 5).await;
    let b = replica_with(&database, |s| s.request_log_size = 5).await;
    let client = reqwest::Client::new();
    let fault = json!({"target": "fhir", "path": METADATA, "status": 429, "retry_after": 2});
    let fault = add_fault(&client, &a, fault).await;
    assert_eq!(metadata(&client, &b, "?n=0").await, 429);
    let log = requests(&client, &a).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["fault"], fault["id"]);
    assert_eq!(
        (&log[0]["status"], &log[0]["retry_after"]),
        (&json!(429), &json!(2))
    );
    for i in 1..12 {
        let url = if i % 2 == 0 { &a } else { &b };
        assert_eq!(metadata(&client, url, &format!("?n={i}")).await, 200);
    }
    let log = requests(&client, &b).await;
    let queries: Vec<&str> = log.iter().map(|e| e["query"].as_str().unwrap()).collect();
    assert_eq!(
        queries,
        ["n=7", "n=8", "n=9", "n=10", "n=11"],
        "the newest five"
    );
    assert_eq!(log[4]["seq"], 12);
    assert_eq!(
        count(&database, "request_log").await,
        5,
        "the table is bounded too"
    );
    let report: Value = get_json(&client, &format!("{a}/sandbox/api/report")).await;
    assert_eq!(report["requests"], 5, "{report}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_next_link_offered_by_one_replica_and_followed_on_the_other_counts_as_followed() {
    let database = fresh_database("payer_request_log_next").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    let log = follow_on_b_a_link_offered_on_a(&client, &a, &b).await;
    only_the_follow_is_marked(&log);
    let report: Value = get_json(
        &client,
        &format!("{b}/sandbox/api/report?client_id=sandbox-app"),
    )
    .await;
    // The second page offers the third.
    assert_eq!(report["fhir"]["next_links_offered"], 2, "{report} {log:?}");
    assert_eq!(report["fhir"]["next_links_followed"], 1, "{report} {log:?}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_next_link_counts_as_followed_though_the_offering_replicas_clock_runs_ahead() {
    // Two replicas whose clocks are frozen (real time too) half a second apart: the one that
    // offers the link says it did so after the other answered the request that followed it.
    let database = fresh_database("payer_request_log_next_skew").await;
    let behind = time::macros::datetime!(2026-12-01 12:00 UTC);
    let a = replica_at(&database, behind + time::Duration::milliseconds(500)).await;
    let b = replica_at(&database, behind).await;
    let client = reqwest::Client::new();
    only_the_follow_is_marked(&follow_on_b_a_link_offered_on_a(&client, &a, &b).await);

    // Beyond a second of difference the clocks are not trusted to be that far apart.
    let database = fresh_database("payer_request_log_next_far").await;
    let a = replica_at(&database, behind + time::Duration::seconds(3)).await;
    let b = replica_at(&database, behind).await;
    let log = follow_on_b_a_link_offered_on_a(&client, &a, &b).await;
    // The follow is in the log (so the check below is not of an empty list), and not marked.
    let follows: Vec<&Value> = log
        .iter()
        .filter(|e| e["query"].as_str().is_some_and(|q| q.contains("_offset")))
        .collect();
    assert_eq!(follows.len(), 1, "{log:?}");
    assert!(
        log.iter().all(|e| e["followed_next"] != true),
        "a link offered 3 s after the request by the clocks: {log:?}"
    );
}

/// The `next` link of the first page of the member's EOBs (one a page) at `url`.
async fn next_link_at(client: &reqwest::Client, url: &str, token: &str) -> String {
    let page: Value = client
        .get(format!("{url}/r4/ExplanationOfBenefit?_count=1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .unwrap_or_else(|| panic!("a next link: {page}"))["url"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A search on `a` offers a `next` link, which the client follows on `b` (tokens are still
/// each replica's own, docs/hosted.md): the log, read on `a`.
async fn follow_on_b_a_link_offered_on_a(client: &reqwest::Client, a: &str, b: &str) -> Vec<Value> {
    let token_a = token(client, a).await;
    let token_b = token(client, b).await;
    let next = next_link_at(client, a, &token_a).await.replacen(a, b, 1);
    let followed = client
        .get(&next)
        .bearer_auth(&token_b)
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), 200);
    requests(client, a).await
}

/// Of the two searches in `log`, the follow (the one with the link's `_offset`), and only it, is
/// marked `followed_next`, whichever order the two replicas' clocks put them in.
fn only_the_follow_is_marked(log: &[Value]) {
    let searches: Vec<&Value> = log
        .iter()
        .filter(|e| e["path"] == "/r4/ExplanationOfBenefit")
        .collect();
    assert_eq!(searches.len(), 2, "{log:?}");
    for search in searches {
        let follows = search["query"]
            .as_str()
            .unwrap_or_default()
            .contains("_offset");
        assert_eq!(
            search["followed_next"] == true,
            follows,
            "only the request with the offered link's _offset follows it: {log:?}"
        );
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_clock_move_on_one_replica_is_on_every_replicas_timeline_between_the_requests() {
    let database = fresh_database("payer_request_log_moves").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    let timeline = |url: &str| {
        let (client, url) = (client.clone(), url.to_owned());
        async move {
            let page = client
                .get(format!("{url}/sandbox/timeline?client_id=sandbox-app"))
                .send()
                .await
                .unwrap();
            assert_eq!(page.status(), 200);
            page.text().await.unwrap()
        }
    };
    metadata(&client, &b, "?client_id=sandbox-app&n=1").await;
    let advanced = post(
        &client,
        &format!("{a}/sandbox/api/clock/advance"),
        json!({"seconds": 120}),
    )
    .await;
    assert_eq!(advanced, 200);
    metadata(&client, &b, "?client_id=sandbox-app&n=2").await;
    for url in [&a, &b] {
        let page = timeline(url).await;
        let moved = page.find("moved forward 120 s").expect("the move, on both");
        let (first, second) = (page.find("n=1").unwrap(), page.find("n=2").unwrap());
        // Within a session, oldest first: the first request, the move, the second.
        assert!(first < moved && moved < second, "{url}");
    }
    assert_eq!(
        post(&client, &format!("{b}/sandbox/api/reset"), json!({})).await,
        200
    );
    metadata(&client, &a, "?client_id=sandbox-app&n=3").await;
    metadata(&client, &b, "?client_id=sandbox-app&n=4").await;
    assert!(
        !timeline(&a).await.contains("moved forward"),
        "reset forgets the moves"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn reset_on_one_replica_clears_the_faults_and_the_log_of_both() {
    let database = fresh_database("payer_faults_reset").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    add_fault(&client, &a, metadata_fault(10)).await;
    assert_eq!(metadata(&client, &b, "").await, 503);
    assert_eq!(metadata(&client, &a, "").await, 503);
    assert_eq!(
        post(&client, &format!("{b}/sandbox/api/reset"), json!({})).await,
        200
    );
    assert_eq!(faults(&client, &a).await, Vec::<Value>::new());
    assert_eq!(requests(&client, &a).await, Vec::<Value>::new());
    assert_eq!(metadata(&client, &a, "").await, 200);
    assert_eq!(requests(&client, &b).await.len(), 1);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn without_the_database_a_fault_is_refused_and_does_not_fire_and_the_log_waits() {
    let database = fresh_database("payer_faults_down").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    let fault = add_fault(&client, &a, metadata_fault(5)).await;

    run("PAYER_SANDBOX_TEST_PG_STOP");
    let (status, body) = post_json(
        &client,
        &format!("{b}/sandbox/api/faults"),
        metadata_fault(1),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    // The fault matches, but no firing can be claimed: it does not fire, the request is served.
    assert_eq!(metadata(&client, &a, "?while=down").await, 200);
    assert_eq!(metadata(&client, &b, "?while=down").await, 200);
    let response = client
        .get(format!("{a}/sandbox/api/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);

    run("PAYER_SANDBOX_TEST_PG_START");
    // Back: the requests answered meanwhile reach the log, and the fault has all five firings.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = client
            .get(format!("{b}/sandbox/api/requests?path=/r4"))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            let log: Vec<Value> = response.json().await.unwrap();
            if log.len() == 2 {
                assert!(log.iter().all(|e| e["query"] == "while=down"), "{log:?}");
                break;
            }
        }
        assert!(Instant::now() < deadline, "the log did not catch up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let listed = faults(&client, &b).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], fault["id"]);
    assert_eq!(listed[0]["remaining"], 5);
    assert_eq!(metadata(&client, &b, "").await, 503);
}

/// An access token for Jason from the built-in app, on `url`.
async fn token(client: &reqwest::Client, url: &str) -> String {
    let (_, code) = post_json(
        client,
        &format!("{url}/sandbox/api/authorize"),
        json!({"client_id": "sandbox-app", "member_id": JASON, "scope": "patient/*.read"}),
    )
    .await;
    let token: Value = client
        .post(format!("{url}/oauth2/token"))
        .basic_auth("sandbox-app", Some("sandbox-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code["code"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{token}"))
        .to_owned()
}
