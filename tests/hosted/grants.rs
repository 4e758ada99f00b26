//! Codes and tokens across replicas (docs/hosted.md#codes-and-tokens): a code from one replica
//! is redeemed on another, once only even when two race for it; revocation, `expire-grants` and
//! `reset` on one are in force on the other for the very next request, though it had the token
//! cached; refresh-token rotation and reuse detection hold across replicas.

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_code_from_one_replica_is_redeemed_on_the_other_and_its_tokens_work_on_both() {
    let database = fresh_database("payer_grants_cross").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    for round in 0..10 {
        let (issuer, redeemer) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let issued = tokens(&client, issuer, redeemer).await;
        assert_eq!(read_at(&client, &a, &issued).await, 200, "round {round}");
        assert_eq!(read_at(&client, &b, &issued).await, 200, "round {round}");
        // The refresh token too, at the replica that did not issue it.
        let refresh = issued["refresh_token"].as_str().unwrap();
        let (status, refreshed) = token_at(
            &client,
            issuer,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", APP.0),
                ("client_secret", APP.1),
            ],
        )
        .await;
        assert_eq!(status, 200, "round {round}: {refreshed}");
        assert_eq!(read_at(&client, redeemer, &refreshed).await, 200);
    }
    assert_eq!(count(&database, "oauth_codes").await, 10);
    // Introspection, on either replica, knows a token from the other.
    let issued = tokens(&client, &a, &a).await;
    let introspected: Value = client
        .post(format!("{b}/oauth2/introspect"))
        .form(&[
            ("token", issued["access_token"].as_str().unwrap()),
            ("client_id", APP.0),
            ("client_secret", APP.1),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true, "{introspected}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn two_replicas_racing_to_redeem_one_code_exactly_one_wins_over_1000_races() {
    let database = fresh_database("payer_grants_race").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let races = 1000;
    let mut wins = [0usize; 2];
    // Eight races at a time; each is two requests for one code, one per replica, sent at once.
    for batch in 0..races / 8 {
        let mut running = Vec::new();
        for i in 0..8 {
            let (client, a, b) = (client.clone(), a.clone(), b.clone());
            let issuer = if (batch + i) % 2 == 0 {
                a.clone()
            } else {
                b.clone()
            };
            running.push(tokio::spawn(async move {
                let code = code_at(&client, &issuer, APP.0).await;
                let (at_a, at_b) =
                    tokio::join!(redeem_at(&client, &a, &code), redeem_at(&client, &b, &code));
                (at_a, at_b)
            }));
        }
        for race in running {
            let ((status_a, body_a), (status_b, body_b)) = race.await.unwrap();
            let outcome = (status_a, status_b);
            assert!(
                outcome == (200, 400) || outcome == (400, 200),
                "exactly one wins: {outcome:?} {body_a} {body_b}"
            );
            let loser = if status_a == 400 { &body_a } else { &body_b };
            assert_eq!(loser["error"], "invalid_grant", "{loser}");
            wins[usize::from(status_b == 200)] += 1;
        }
    }
    assert_eq!(wins[0] + wins[1], races);
    println!(
        "1000 races: replica A won {}, replica B won {}",
        wins[0], wins[1]
    );
    // RFC 6749 §10.5: the second redemption revoked what the first was given, on both replicas.
    let code = code_at(&client, &a, APP.0).await;
    let (status, winner) = redeem_at(&client, &a, &code).await;
    assert_eq!(status, 200);
    assert_eq!(read_at(&client, &b, &winner).await, 200);
    assert_eq!(redeem_at(&client, &b, &code).await.0, 400);
    assert_eq!(read_at(&client, &a, &winner).await, 401);
    assert_eq!(read_at(&client, &b, &winner).await, 401);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_revocation_on_one_replica_is_in_force_on_the_other_for_the_next_request() {
    let database = fresh_database("payer_grants_revoke").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    for round in 0..20 {
        let (revoker, other) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let issued = tokens(&client, revoker, revoker).await;
        // The other replica has the token cached: it served a read with it.
        assert_eq!(read_at(&client, other, &issued).await, 200, "round {round}");
        let (kind, token) = if round % 4 < 2 {
            ("access", issued["access_token"].as_str().unwrap())
        } else {
            ("refresh", issued["refresh_token"].as_str().unwrap())
        };
        let revoked = client
            .post(format!("{revoker}/oauth2/revoke"))
            .form(&[
                ("token", token),
                ("client_id", APP.0),
                ("client_secret", APP.1),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
        // Revoking the refresh token takes its access tokens along (docs/oauth.md).
        assert_eq!(
            read_at(&client, other, &issued).await,
            401,
            "round {round}: the {kind} token revoked on one replica still worked on the other"
        );
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn expire_grants_and_reset_on_one_replica_end_every_token_on_the_other() {
    let database = fresh_database("payer_grants_expire").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    let first = tokens(&client, &a, &a).await;
    let second = tokens(&client, &b, &b).await;
    assert_eq!(read_at(&client, &a, &second).await, 200);
    assert_eq!(read_at(&client, &b, &first).await, 200);
    let (status, expired) = post_json(
        &client,
        &format!("{b}/sandbox/api/members/{MEMBER}/expire-grants"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{expired}");
    assert_eq!(expired["revoked"], 4, "two access and two refresh tokens");
    assert_eq!(read_at(&client, &a, &first).await, 401);
    assert_eq!(read_at(&client, &a, &second).await, 401);
    let refreshed = token_at(
        &client,
        &a,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
            ("client_id", APP.0),
            ("client_secret", APP.1),
        ],
    )
    .await;
    assert_eq!(refreshed.0, 400, "{}", refreshed.1);

    let third = tokens(&client, &a, &b).await;
    assert_eq!(read_at(&client, &a, &third).await, 200);
    assert_eq!(
        post(&client, &format!("{b}/sandbox/api/reset"), json!({})).await,
        200
    );
    assert_eq!(read_at(&client, &a, &third).await, 401);
    assert_eq!(count(&database, "oauth_access_tokens").await, 0);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_rotated_refresh_token_reused_on_the_other_replica_revokes_the_authorization() {
    let database = fresh_database("payer_grants_rotation").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    // Public apps use PKCE.
    use base64::Engine;
    use sha2::Digest;
    let verifier = "a-verifier-of-at-least-forty-three-characters-for-pkce";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let (status, authorized) = post_json(
        &client,
        &format!("{a}/sandbox/api/authorize"),
        json!({"client_id": PUBLIC_APP, "member_id": MEMBER, "scope": SCOPE,
            "code_challenge": challenge, "code_challenge_method": "S256"}),
    )
    .await;
    assert_eq!(status, 200, "{authorized}");
    let (status, first) = token_at(
        &client,
        &b,
        &[
            ("grant_type", "authorization_code"),
            ("code", authorized["code"].as_str().unwrap()),
            ("code_verifier", verifier),
            ("client_id", PUBLIC_APP),
        ],
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let refresh = |token: String, url: String| {
        let client = client.clone();
        async move {
            token_at(
                &client,
                &url,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &token),
                    ("client_id", PUBLIC_APP),
                ],
            )
            .await
        }
    };
    let old = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = refresh(old.clone(), a.clone()).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"], "rotated");
    assert_eq!(read_at(&client, &b, &second).await, 200);
    // The replaced token, presented at the other replica: reuse.
    let (status, reused) = refresh(old, b.clone()).await;
    assert_eq!(status, 400, "{reused}");
    assert_eq!(reused["error"], "invalid_grant");
    assert_eq!(read_at(&client, &a, &second).await, 401);
    assert_eq!(read_at(&client, &b, &second).await, 401);
    let (status, _) = refresh(second["refresh_token"].as_str().unwrap().to_owned(), a).await;
    assert_eq!(status, 400, "the whole authorization is revoked");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn with_the_database_gone_token_requests_and_unknown_tokens_get_503_then_recover() {
    let database = fresh_database("payer_grants_outage").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    let cached = tokens(&client, &a, &a).await;
    let uncached = tokens(&client, &a, &a).await;
    assert_eq!(read_at(&client, &b, &cached).await, 200);
    let code = code_at(&client, &a, APP.0).await;

    run("PAYER_SANDBOX_TEST_PG_STOP");
    // A token B has never seen cannot be checked: 503, not 401 (the app should retry, not
    // sign the member in again).
    let patient = uncached["patient"].as_str().unwrap();
    let response = client
        .get(format!("{b}/r4/Patient/{patient}"))
        .bearer_auth(uncached["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "transient");
    let (status, body) = redeem_at(&client, &b, &code).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    let (status, body) = post_json(
        &client,
        &format!("{a}/sandbox/api/authorize"),
        json!({"client_id": APP.0, "member_id": MEMBER}),
    )
    .await;
    assert_eq!(status, 503, "{body}");

    run("PAYER_SANDBOX_TEST_PG_START");
    // Recovery without a restart: the code that could not be redeemed while the database was
    // gone is redeemed now (it was never used), and the uncached token is known again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (status, body) = loop {
        let (status, body) = redeem_at(&client, &b, &code).await;
        if status != 503 || std::time::Instant::now() > deadline {
            break (status, body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(status, 200, "{body}");
    assert_eq!(read_at(&client, &b, &uncached).await, 200);
    assert_eq!(read_at(&client, &b, &body).await, 200);
}
