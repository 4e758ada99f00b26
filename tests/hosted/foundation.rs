//! The foundation: migrations run once, start-up errors, readiness, the shared clock and the
//! shared app registrations.

use crate::support::*;

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn replicas_starting_together_apply_each_migration_once() {
    let database = fresh_database("payer_migrations").await;
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .count() as i64;
    for round in 0..5 {
        let (a, b) = tokio::join!(build(&database), build(&database));
        assert!(a.is_ok(), "round {round}: {:?}", a.err());
        assert!(b.is_ok(), "round {round}: {:?}", b.err());
        assert_eq!(count(&database, "_sqlx_migrations").await, migrations);
    }
    assert_eq!(
        count(&database, "replicas").await,
        10,
        "every replica registered"
    );
}

/// Needs no database: it proves what happens without one.
#[tokio::test]
async fn a_database_that_is_not_there_stops_start_up_naming_it_without_the_password() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("postgres://sandbox:s3cret-pw@127.0.0.1:{port}/payer");
    let error = build(&url).await.err().expect("start-up fails");
    assert!(
        error.contains(&format!(
            "--database postgres://sandbox:***@127.0.0.1:{port}/payer"
        )),
        "{error}"
    );
    assert!(error.contains("cannot connect"), "{error}");
    assert!(!error.contains("s3cret-pw"), "{error}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn readiness_follows_the_database_and_recovers_without_a_restart() {
    let database = fresh_database("payer_readiness").await;
    let url = replica(&database).await;
    let client = reqwest::Client::new();
    assert_eq!(ready(&client, &url).await.0, 200);

    run("PAYER_SANDBOX_TEST_PG_STOP");
    let (status, body) = ready(&client, &url).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"], "unreachable");
    let alive = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(
        alive.status(),
        200,
        "liveness does not depend on the database"
    );

    run("PAYER_SANDBOX_TEST_PG_START");
    // The pool reconnects on its own: ready again within seconds, with no restart.
    wait_until_ready(&client, &url).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_clock_move_on_one_replica_is_in_force_on_every_replica_for_the_next_request() {
    let database = fresh_database("payer_clock").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    for round in 1..=20 {
        let (mover, other) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let advanced = post(
            &client,
            &format!("{mover}/sandbox/api/clock/advance"),
            serde_json::json!({"seconds": 60}),
        )
        .await;
        assert_eq!(advanced, 200);
        assert_eq!(offset(&client, other).await, round * 60, "round {round}");
    }
    let reset = post(
        &client,
        &format!("{b}/sandbox/api/clock/reset"),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(reset, 200);
    assert_eq!(offset(&client, &a).await, 0);
    // A replica that starts later reads the shared clock before it serves.
    post(
        &client,
        &format!("{a}/sandbox/api/clock/advance"),
        serde_json::json!({"seconds": 3600}),
    )
    .await;
    let c = replica(&database).await;
    assert_eq!(offset(&client, &c).await, 3600);
    // And `reset` puts every replica back on the wall clock.
    assert_eq!(
        post(
            &client,
            &format!("{c}/sandbox/api/reset"),
            serde_json::json!({})
        )
        .await,
        200
    );
    assert_eq!(offset(&client, &a).await, 0);
    assert_eq!(offset(&client, &b).await, 0);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn an_app_registered_on_one_replica_signs_members_in_on_every_replica() {
    let database = fresh_database("payer_apps").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    for round in 0..10 {
        let (registrar, other) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let (_, registered) = post_json(
            &client,
            &format!("{registrar}/oauth2/register"),
            serde_json::json!({
                "client_name": format!("Shared app {round}"),
                "redirect_uris": ["https://app.example/cb"]
            }),
        )
        .await;
        let client_id = registered["client_id"].as_str().unwrap();
        let secret = registered["client_secret"].as_str().unwrap();
        // The very next request, on the other replica: a code for the app, then its tokens.
        let (_, code) = post_json(
            &client,
            &format!("{other}/sandbox/api/authorize"),
            serde_json::json!({"client_id": client_id, "member_id": "08-testmemid"}),
        )
        .await;
        let code = code["code"]
            .as_str()
            .unwrap_or_else(|| panic!("round {round}: {code}"));
        let token = client
            .post(format!("{other}/oauth2/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", client_id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(token.status(), 200, "round {round}");
    }
    // A replica that starts later has every app.
    let c = replica(&database).await;
    assert_eq!(count(&database, "apps").await, 10);
    // The sandbox page lists every app (the portal, a developer's, only one's own).
    let page = client
        .get(format!("{c}/sandbox"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Shared app 9"),
        "the new replica lists every app"
    );
}
