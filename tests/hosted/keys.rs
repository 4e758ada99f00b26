//! The keys every replica shares. Signing keys (docs/hosted.md#signing-keys): a rotation, a drop
//! of the previous key or a reset on one replica is what the other signs with and lists on the
//! very next request; a replica started later starts where the others are; each plan's keys are
//! its own; with the database gone a change is refused and nothing moves. Form tokens
//! (docs/hosted.md#form-tokens): a form served by one replica is accepted by another, and a
//! tampered token by neither.

use serde_json::{Value, json};

use crate::support::*;

/// The `kid` of an id_token issued and redeemed at `url`.
async fn id_token_kid(client: &reqwest::Client, url: &str) -> String {
    let tokens = tokens(client, url, url).await;
    let id_token = tokens["id_token"].as_str().expect("an id_token");
    jsonwebtoken::decode_header(id_token)
        .unwrap()
        .kid
        .expect("a kid")
}

/// Every `kid` the JWKS at `url` (a plan's base) lists, in its order.
async fn jwks_kids(client: &reqwest::Client, url: &str) -> Vec<String> {
    let jwks: Value = get_json(client, &format!("{url}/.well-known/jwks.json")).await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// A key change at `url` (`rotate` or `drop-previous`, `?plan=` in `query`): its answer.
async fn change(client: &reqwest::Client, url: &str, what: &str, query: &str) -> Value {
    let (status, body) = post_json(
        client,
        &format!("{url}/sandbox/api/keys/{what}{query}"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{what} at {url}: {body}");
    body
}

/// What `GET /sandbox/api/keys` says at `url`.
async fn keys(client: &reqwest::Client, url: &str, query: &str) -> Value {
    get_json(client, &format!("{url}/sandbox/api/keys{query}")).await
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_key_change_on_one_replica_is_what_every_replica_signs_with_and_lists_next() {
    let database = fresh_database("payer_keys").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    let first = id_token_kid(&client, &b).await;
    assert_eq!(jwks_kids(&client, &a).await, vec![first.clone()]);

    // Rotations alternate between the replicas, each checked on the other at once: the very
    // next id_token carries the new kid, and the JWKS lists both keys, newest first.
    let mut kids = vec![first.clone()];
    for round in 0..6 {
        let (changer, other) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let rotated = change(&client, changer, "rotate", "").await;
        let new = rotated["kid"].as_str().unwrap().to_owned();
        let old = kids.last().unwrap().clone();
        assert_ne!(new, old, "round {round}");
        assert_eq!(rotated["jwks_kids"], json!([new, old]), "round {round}");
        assert_eq!(id_token_kid(&client, other).await, new, "round {round}");
        assert_eq!(
            jwks_kids(&client, other).await,
            [new.clone(), old.clone()],
            "round {round}"
        );
        assert_eq!(keys(&client, other, "").await, rotated, "round {round}");
        kids.push(new);
    }
    // Three embedded rotation keys: the sixth rotation is back where the third was.
    assert_eq!(kids[6], kids[3]);

    // Dropping the previous key on A takes it out of B's JWKS.
    let current = kids.last().unwrap().clone();
    let dropped = change(&client, &a, "drop-previous", "").await;
    assert_eq!(dropped["jwks_kids"], json!([current]));
    assert_eq!(jwks_kids(&client, &b).await, vec![current.clone()]);
    assert_eq!(id_token_kid(&client, &b).await, current);

    // A replica started now starts with the keys as they are, overlap and all.
    let rotated = change(&client, &b, "rotate", "").await;
    let c = replica(&database).await;
    assert_eq!(keys(&client, &c, "").await, rotated);
    assert_eq!(
        id_token_kid(&client, &c).await,
        rotated["kid"].as_str().unwrap()
    );
    assert_eq!(jwks_kids(&client, &c).await.len(), 2);

    // Reset on A brings every replica back to the first key alone.
    assert_eq!(
        post(&client, &format!("{a}/sandbox/api/reset"), json!({})).await,
        200
    );
    for url in [&a, &b, &c] {
        assert_eq!(jwks_kids(&client, url).await, vec![first.clone()], "{url}");
        assert_eq!(id_token_kid(&client, url).await, first, "{url}");
    }
    // And a replica started after the reset too.
    let d = replica(&database).await;
    assert_eq!(jwks_kids(&client, &d).await, vec![first.clone()]);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn each_plan_s_keys_are_shared_and_move_on_their_own() {
    let database = fresh_database("payer_plan_keys").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    let cascade = |url: &str| format!("{url}/plans/cascade");
    let default_kids = jwks_kids(&client, &b).await;
    let cascade_first = jwks_kids(&client, &cascade(&b)).await;
    assert_ne!(
        default_kids, cascade_first,
        "each plan signs with its own key"
    );

    let rotated = change(&client, &a, "rotate", "?plan=cascade").await;
    let new = rotated["kid"].as_str().unwrap().to_owned();
    assert_eq!(
        jwks_kids(&client, &cascade(&b)).await,
        [new.clone(), cascade_first[0].clone()]
    );
    assert_eq!(keys(&client, &b, "?plan=cascade").await, rotated);
    let cascade_token = cascade_tokens(&client, &b, "Gunnar").await;
    let header = jsonwebtoken::decode_header(cascade_token["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.kid.as_deref(), Some(new.as_str()));
    // The default plan's keys did not move, on either replica.
    assert_eq!(jwks_kids(&client, &a).await, default_kids);
    assert_eq!(jwks_kids(&client, &b).await, default_kids);

    // A rotation of the default plan on B leaves Cascade's overlap as it was.
    change(&client, &b, "rotate", "").await;
    assert_eq!(jwks_kids(&client, &a).await.len(), 2);
    assert_eq!(keys(&client, &a, "?plan=cascade").await, rotated);

    change(&client, &b, "drop-previous", "?plan=cascade").await;
    assert_eq!(jwks_kids(&client, &cascade(&a)).await, [new]);
    assert_eq!(jwks_kids(&client, &a).await.len(), 2);

    // Reset brings both plans back, on both replicas.
    assert_eq!(
        post(&client, &format!("{b}/sandbox/api/reset"), json!({})).await,
        200
    );
    for url in [&a, &b] {
        assert_eq!(jwks_kids(&client, url).await, default_kids);
        assert_eq!(jwks_kids(&client, &cascade(url)).await, cascade_first);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn with_the_database_gone_a_key_change_is_refused_and_nothing_moves() {
    let database = fresh_database("payer_keys_outage").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = reqwest::Client::new();
    let before = change(&client, &a, "rotate", "").await;

    run("PAYER_SANDBOX_TEST_PG_STOP");
    for what in ["rotate", "drop-previous"] {
        let started = std::time::Instant::now();
        let (status, body) =
            post_json(&client, &format!("{a}/sandbox/api/keys/{what}"), json!({})).await;
        assert_eq!(status, 503, "{what}: {body}");
        assert_eq!(body["error"], "temporarily_unavailable", "{what}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{what} answered within 5 seconds"
        );
    }
    // What signs meanwhile is what signed before, on both.
    assert_eq!(keys(&client, &a, "").await, before);
    assert_eq!(keys(&client, &b, "").await, before);

    run("PAYER_SANDBOX_TEST_PG_START");
    wait_until_ready(&client, &a).await;
    wait_until_ready(&client, &b).await;
    assert_eq!(keys(&client, &a, "").await, before);
    assert_eq!(keys(&client, &b, "").await, before);
    // And the same change works again.
    let dropped = change(&client, &b, "drop-previous", "").await;
    assert_eq!(dropped["jwks_kids"], json!([before["kid"]]));
    assert_eq!(keys(&client, &a, "").await, dropped);
}

/// A form's token as a page at `url` serves it.
async fn form_token(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    hidden_input(&response.text().await.unwrap(), "csrf_token").expect("a csrf_token")
}

/// `token` with the last character of its `part`th dot-separated part changed.
fn tampered(token: &str, part: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let last = parts[part].pop().unwrap();
    parts[part].push(if last == '1' { '2' } else { '1' });
    parts.join(".")
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_form_served_by_one_replica_is_accepted_by_another_and_a_tampered_one_by_neither() {
    let database = fresh_database("payer_form_tokens").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let client = browser();

    // The sandbox page's clock button: served by A, posted to B.
    let token = form_token(&client, &format!("{a}/sandbox")).await;
    assert_eq!(token.split('.').count(), 3, "{token}");
    let advance = |url: String, token: String| {
        let client = client.clone();
        async move {
            client
                .post(format!("{url}/sandbox/actions"))
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("action", "advance"),
                    ("seconds", "60"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for part in 0..3 {
        for url in [&a, &b] {
            assert_eq!(
                advance(url.clone(), tampered(&token, part)).await,
                403,
                "part {part} changed, posted to {url}"
            );
        }
    }
    assert_eq!(offset(&client, &b).await, 0, "a refused form does nothing");
    assert_eq!(advance(b.clone(), token.clone()).await, 303);
    assert_eq!(offset(&client, &a).await, 60);
    // A replica started later has the same key: A's token works there too.
    let c = replica(&database).await;
    assert_eq!(advance(c.clone(), token).await, 303);
    assert_eq!(offset(&client, &a).await, 120);
    // And a token C served works on A.
    let token = form_token(&client, &format!("{c}/sandbox")).await;
    assert_eq!(advance(a.clone(), token).await, 303);
    assert_eq!(offset(&client, &b).await, 180);

    // The portal's sign-up form (hosted mode always has developer accounts), whose token is
    // also in the browser's form cookie: served by B, posted to A.
    let token = form_token(&client, &format!("{b}/portal/signup")).await;
    let sign_up = |url: String, token: String| {
        let client = client.clone();
        async move {
            client
                .post(format!("{url}/portal/signup"))
                .header("cookie", format!("payer_sandbox_form={token}"))
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("email", "cross@example.com"),
                    ("password", "correct horse battery"),
                    ("password_confirm", "correct horse battery"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for url in [&a, &b] {
        for part in 0..3 {
            let refused = sign_up(url.clone(), tampered(&token, part)).await;
            assert_eq!(refused, 403, "part {part} changed, posted to {url}");
        }
    }
    assert_eq!(sign_up(a.clone(), token).await, 303, "on to the code");
    let outbox: Vec<serde_json::Value> =
        get_json(&client, &format!("{b}/sandbox/api/outbox")).await;
    assert_eq!(
        outbox
            .iter()
            .filter(|m| m["to"] == "cross@example.com")
            .count(),
        1,
        "one sign-up, its code in the outbox seen from B"
    );
}
