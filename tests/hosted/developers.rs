//! Developer accounts shared by every replica (docs/hosted.md#developer-accounts): accounts are
//! always on in hosted mode; every page of docs/developer-accounts.md with each step on the other
//! replica; one sign-up code posted on both replicas at once making one account; the sign-in
//! limit counted across replicas; two developers who never see each other's apps on any replica;
//! an edit and a rotation racing on two replicas, neither undoing the other; a deletion that ends
//! the app and its tokens everywhere; reset; and a database that goes away and comes back.

use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::support::*;

const PASSWORD: &str = "correct horse battery";

/// A developer's browser: its own cookie store (cookies are per host, so both replicas, on one
/// host, see them as one site's), no redirects followed.
#[derive(Clone)]
struct Browser {
    client: reqwest::Client,
    email: String,
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// The text between `id="{id}">` and the next `<`.
fn code_with_id(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].split('<').next()?.to_owned())
}

/// The newest sign-up code the outbox (read at `at`) holds for `email`.
async fn code_for(at: &str, email: &str) -> String {
    let outbox: Vec<Value> = get_json(&browser(), &format!("{at}/sandbox/api/outbox")).await;
    outbox
        .iter()
        .rev()
        .find(|m| m["to"] == email && m["kind"] == "developer")
        .and_then(|m| m["code"].as_str())
        .unwrap_or_else(|| panic!("no code for {email} in {outbox:?}"))
        .to_owned()
}

impl Browser {
    fn new(email: &str) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            email: email.to_owned(),
        }
    }

    async fn get(&self, at: &str, path: &str) -> reqwest::Response {
        self.client.get(format!("{at}{path}")).send().await.unwrap()
    }

    async fn post(&self, at: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{at}{path}"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn html(&self, at: &str, path: &str) -> String {
        let response = self.get(at, path).await;
        assert_eq!(response.status(), 200, "GET {at}{path}");
        response.text().await.unwrap()
    }

    /// The anti-CSRF token of the form on the page at `path`, read on `at`.
    async fn csrf(&self, at: &str, path: &str) -> String {
        hidden_input(&self.html(at, path).await, "csrf_token").expect("a csrf token")
    }

    /// The sign-up form read on `form_at` and posted on `post_at`: its verification page.
    async fn open_sign_up(&self, form_at: &str, post_at: &str) -> String {
        let csrf = self.csrf(form_at, "/portal/signup").await;
        let response = self
            .post(
                post_at,
                "/portal/signup",
                &[
                    ("csrf_token", &csrf),
                    ("email", &self.email),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(response.status(), 303, "sign-up accepted");
        location(&response)
    }

    /// The code entered on `verify` (a verification page) at `at`.
    async fn enter_code(&self, at: &str, verify: &str, code: &str) -> reqwest::Response {
        let csrf = self.csrf(at, verify).await;
        self.post(at, verify, &[("csrf_token", &csrf), ("code", code)])
            .await
    }

    /// Signs up on `a` and `b` in turn, every step on the other replica: signed in afterwards.
    async fn sign_up(&self, a: &str, b: &str) {
        let verify = self.open_sign_up(a, b).await;
        let code = code_for(a, &self.email).await;
        let response = self.enter_code(b, &verify, &code).await;
        assert_eq!(response.status(), 303, "code accepted");
        assert_eq!(location(&response), "/portal");
    }

    async fn sign_in(&self, at: &str, password: &str) -> reqwest::Response {
        let csrf = self.csrf(at, "/portal/signin").await;
        self.post(
            at,
            "/portal/signin",
            &[
                ("csrf_token", &csrf),
                ("email", &self.email),
                ("password", password),
            ],
        )
        .await
    }

    /// Registers a confidential app on `at` (the portal's form read there too): its client_id
    /// and client_secret.
    async fn register(&self, at: &str, name: &str) -> (String, String) {
        let csrf = self.csrf(at, "/portal").await;
        let response = self
            .post(
                at,
                "/portal/apps",
                &[
                    ("csrf_token", &csrf),
                    ("name", name),
                    ("redirect_uris", "http://a.example/cb"),
                    ("app_type", "confidential"),
                ],
            )
            .await;
        assert_eq!(response.status(), 201, "registered");
        let html = response.text().await.unwrap();
        (
            code_with_id(&html, "client_id").unwrap(),
            code_with_id(&html, "client_secret").unwrap(),
        )
    }

    /// Posts one of an app's forms (`""` for the edit form, `/rotate`, `/delete`) on `at`,
    /// with the session's token read on `form_at`.
    async fn app_action(
        &self,
        form_at: &str,
        at: &str,
        client_id: &str,
        action: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let csrf = self.csrf(form_at, "/portal").await;
        let mut form = form.to_vec();
        form.push(("csrf_token", &csrf));
        self.post(at, &format!("/portal/apps/{client_id}{action}"), &form)
            .await
    }
}

/// A code for `client_id` by headless authorize at `issuer`, redeemed at `redeemer` with
/// `secret`: the status and body.
async fn exchange(issuer: &str, redeemer: &str, client_id: &str, secret: &str) -> (u16, Value) {
    let client = browser();
    let (status, body) = post_json(
        &client,
        &format!("{issuer}/sandbox/api/authorize"),
        json!({"client_id": client_id, "member_id": MEMBER, "scope": "patient/*.read"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let code = body["code"].as_str().unwrap();
    token_at(
        &client,
        redeemer,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client_id),
            ("client_secret", secret),
        ],
    )
    .await
}

/// A token request with only client authentication (a code that is not one): 401 when the
/// secret is not the app's, 400 `invalid_grant` when it is.
async fn secret_works(at: &str, client_id: &str, secret: &str) -> bool {
    let (status, body) = token_at(
        &browser(),
        at,
        &[
            ("grant_type", "authorization_code"),
            ("code", "not-a-code"),
            ("client_id", client_id),
            ("client_secret", secret),
        ],
    )
    .await;
    match status {
        400 => true,
        401 => false,
        _ => panic!("{status} {body}"),
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn every_page_works_with_each_step_on_the_other_replica() {
    let database = fresh_database("developers_pages").await;
    let (a, b) = (replica(&database).await, replica(&database).await);

    // Always on in hosted mode: the portal is a signed-in developer's.
    let anonymous = browser();
    for at in [&a, &b] {
        let portal = anonymous.get(format!("{at}/portal")).send().await.unwrap();
        assert_eq!(portal.status(), 303, "the portal needs an account");
        assert_eq!(location(&portal), "/portal/signin");
    }

    // Sign up: the form on A, posted on B, its verification page on A, the code posted on B.
    let dev = Browser::new("dev@example.com");
    let verify = dev.open_sign_up(&a, &b).await;
    assert!(dev.html(&a, &verify).await.contains("dev@example.com"));
    let code = code_for(&b, "dev@example.com").await;
    let signed_up = dev.enter_code(&b, &verify, &code).await;
    assert_eq!(signed_up.status(), 303);
    assert!(
        signed_up
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("payer_sandbox_session=")),
        "signed in"
    );
    assert!(dev.html(&a, "/portal").await.contains("dev@example.com"));

    // Register on B; the app's page, and the requests page, on A.
    let (client_id, secret) = dev.register(&b, "Cross").await;
    let page = dev.html(&a, &format!("/portal/apps/{client_id}")).await;
    assert!(
        page.contains("Cross") && !page.contains(&secret),
        "secret shown once"
    );
    let (status, tokens) = exchange(&a, &b, &client_id, &secret).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(read_at(&browser(), &a, &tokens).await, 200);
    let requests = dev.html(&b, "/portal/requests").await;
    assert!(requests.contains(&client_id), "every replica's requests");

    // Edit on A: B authorizes with the new redirect URI at once, and not with the old.
    let edited = dev
        .app_action(
            &b,
            &a,
            &client_id,
            "",
            &[
                ("name", "Renamed"),
                ("redirect_uris", "http://b.example/cb"),
            ],
        )
        .await;
    assert_eq!(edited.status(), 200);
    assert!(dev.html(&b, "/portal").await.contains("Renamed"));
    let authorize = |redirect: &str| {
        format!(
            "{b}/oauth2/authorize/test?response_type=code&client_id={client_id}&redirect_uri={redirect}&state=s&scope=patient/*.read"
        )
    };
    let old = browser()
        .get(authorize("http://a.example/cb"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.status(),
        400,
        "the old redirect URI is not the app's any more"
    );
    let new = browser()
        .get(authorize("http://b.example/cb"))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 303, "on to the sign-in pages");

    // Rotate on B: the new secret and the old one (its overlap) work on A.
    let rotated = dev.app_action(&a, &b, &client_id, "/rotate", &[]).await;
    assert_eq!(rotated.status(), 200);
    let new_secret = code_with_id(&rotated.text().await.unwrap(), "client_secret").unwrap();
    assert_ne!(new_secret, secret);
    assert!(secret_works(&a, &client_id, &new_secret).await);
    assert!(secret_works(&a, &client_id, &secret).await, "the overlap");

    // Delete on A: on B the app no longer authenticates, and its tokens no longer work.
    let deleted = dev.app_action(&b, &a, &client_id, "/delete", &[]).await;
    assert_eq!(deleted.status(), 200);
    assert!(!secret_works(&b, &client_id, &new_secret).await);
    assert_eq!(read_at(&browser(), &b, &tokens).await, 401);
    assert_eq!(read_at(&browser(), &a, &tokens).await, 401);
    assert_eq!(
        dev.get(&b, &format!("/portal/apps/{client_id}"))
            .await
            .status(),
        404
    );

    // Sign out on B: the session no longer works on A.
    let csrf = dev.csrf(&a, "/portal").await;
    let out = dev
        .post(&b, "/portal/signout", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(out.status(), 303);
    assert_eq!(dev.get(&a, "/portal").await.status(), 303);

    // And in again, on A, with the password.
    assert_eq!(dev.sign_in(&a, PASSWORD).await.status(), 303);
    assert_eq!(dev.get(&b, "/portal").await.status(), 200);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn one_code_posted_on_both_replicas_at_once_makes_one_account_and_one_session() {
    let database = fresh_database("developers_code_race").await;
    let (a, b) = (replica(&database).await, replica(&database).await);
    for round in 0..20 {
        let dev = Browser::new(&format!("race{round}@example.com"));
        let verify = dev.open_sign_up(&a, &b).await;
        let code = code_for(&a, &dev.email).await;
        let csrf = dev.csrf(&a, &verify).await;
        let form = [("csrf_token", csrf.as_str()), ("code", code.as_str())];
        let (on_a, on_b) = tokio::join!(dev.post(&a, &verify, &form), dev.post(&b, &verify, &form));
        let mut statuses = [on_a.status().as_u16(), on_b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [303, 404],
            "round {round}: one wins, the other finds it over"
        );
    }
    assert_eq!(count(&database, "developers").await, 20);
    assert_eq!(count(&database, "developer_sessions").await, 20);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn the_sign_in_limit_counts_failures_on_every_replica() {
    let database = fresh_database("developers_limit").await;
    let (a, b) = (replica(&database).await, replica(&database).await);
    Browser::new("limited@example.com").sign_up(&a, &b).await;
    // Another browser, signed out, tries the account's password.
    let dev = Browser::new("limited@example.com");
    // Eight wrong passwords at once, four on each replica: five are checked, three refused.
    let mut tries = tokio::task::JoinSet::new();
    for i in 0..8 {
        let at = if i % 2 == 0 { a.clone() } else { b.clone() };
        let dev = dev.clone();
        tries.spawn(async move { dev.sign_in(&at, "wrong password").await.status().as_u16() });
    }
    let mut statuses = tries.join_all().await;
    statuses.sort_unstable();
    assert_eq!(statuses, [400, 400, 400, 400, 400, 429, 429, 429]);
    for at in [&a, &b] {
        let refused = dev.sign_in(at, PASSWORD).await;
        assert_eq!(
            refused.status(),
            429,
            "even the right password, on either replica"
        );
        assert!(refused.headers().contains_key("retry-after"));
    }
    // Fifteen minutes of the shared clock later, either replica lets it in.
    assert_eq!(
        post(
            &browser(),
            &format!("{a}/sandbox/api/clock/advance"),
            json!({"seconds": 900})
        )
        .await,
        200
    );
    assert_eq!(dev.sign_in(&b, PASSWORD).await.status(), 303);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn two_developers_never_see_each_others_apps_or_requests_on_any_replica() {
    let database = fresh_database("developers_isolation").await;
    let (a, b) = (replica(&database).await, replica(&database).await);
    let (ann, bob) = (
        Browser::new("ann@example.com"),
        Browser::new("bob@example.com"),
    );
    ann.sign_up(&a, &b).await;
    bob.sign_up(&b, &a).await;
    let (anns, anns_secret) = ann.register(&a, "Ann's app").await;
    let (bobs, _) = bob.register(&b, "Bob's app").await;
    let (status, _) = exchange(&a, &b, &anns, &anns_secret).await;
    assert_eq!(status, 200);
    for at in [&a, &b] {
        let portal = bob.html(at, "/portal").await;
        assert!(portal.contains(&bobs) && !portal.contains(&anns));
        assert!(!bob.html(at, "/portal/requests").await.contains(&anns));
        for action in ["", "/requests"] {
            let page = bob.get(at, &format!("/portal/apps/{anns}{action}")).await;
            assert_eq!(page.status(), 404, "{action}");
        }
        for action in ["", "/rotate", "/delete"] {
            let changed = bob
                .app_action(
                    at,
                    at,
                    &anns,
                    action,
                    &[("name", "Mine"), ("redirect_uris", "http://x.example/cb")],
                )
                .await;
            assert_eq!(changed.status(), 404, "{action}");
        }
    }
    assert!(
        secret_works(&b, &anns, &anns_secret).await,
        "Bob changed nothing"
    );
    assert!(ann.html(&b, "/portal").await.contains(&anns));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn an_edit_and_a_rotation_racing_on_two_replicas_both_take_effect() {
    let database = fresh_database("developers_change_race").await;
    let (a, b) = (replica(&database).await, replica(&database).await);
    let dev = Browser::new("racer@example.com");
    dev.sign_up(&a, &b).await;
    let (client_id, mut secret) = dev.register(&a, "Racer").await;
    for round in 0..10 {
        let name = format!("Racer {round}");
        let form = [
            ("name", name.as_str()),
            ("redirect_uris", "http://a.example/cb"),
        ];
        let (edited, rotated) = tokio::join!(
            dev.app_action(&a, &a, &client_id, "", &form),
            dev.app_action(&b, &b, &client_id, "/rotate", &[]),
        );
        assert_eq!(
            (edited.status().as_u16(), rotated.status().as_u16()),
            (200, 200),
            "round {round}"
        );
        let new_secret = code_with_id(&rotated.text().await.unwrap(), "client_secret").unwrap();
        for at in [&a, &b] {
            let page = dev.html(at, &format!("/portal/apps/{client_id}")).await;
            assert!(
                page.contains(&name),
                "round {round}: the edit stayed on {at}"
            );
            assert!(
                secret_works(at, &client_id, &new_secret).await,
                "round {round}: rotated on {at}"
            );
            assert!(
                secret_works(at, &client_id, &secret).await,
                "round {round}: the overlap on {at}"
            );
        }
        secret = new_secret;
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn reset_on_one_replica_forgets_sign_ups_failures_and_emails_on_all() {
    let database = fresh_database("developers_reset").await;
    let (a, b) = (replica(&database).await, replica(&database).await);
    let dev = Browser::new("kept@example.com");
    dev.sign_up(&a, &b).await;
    let pending = Browser::new("pending@example.com");
    let verify = pending.open_sign_up(&a, &a).await;
    let guesser = Browser::new("kept@example.com");
    for _ in 0..5 {
        assert_eq!(guesser.sign_in(&a, "wrong password").await.status(), 400);
    }
    assert_eq!(guesser.sign_in(&b, PASSWORD).await.status(), 429);
    assert_eq!(
        post(&browser(), &format!("{b}/sandbox/api/reset"), json!({})).await,
        200
    );
    let outbox: Vec<Value> = get_json(&browser(), &format!("{a}/sandbox/api/outbox")).await;
    assert!(outbox.is_empty(), "{outbox:?}");
    assert_eq!(
        pending.get(&a, &verify).await.status(),
        404,
        "the sign-up is over"
    );
    assert_eq!(dev.get(&a, "/portal").await.status(), 200, "sessions stay");
    assert_eq!(
        guesser.sign_in(&a, PASSWORD).await.status(),
        303,
        "failures forgotten, account kept"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn with_the_database_gone_the_pages_answer_503_and_recover() {
    let database = fresh_database("developers_outage").await;
    let (a, b) = (replica(&database).await, replica(&database).await);
    let dev = Browser::new("outage@example.com");
    dev.sign_up(&a, &b).await;
    let (client_id, _) = dev.register(&a, "Survivor").await;
    run("PAYER_SANDBOX_TEST_PG_STOP");
    for path in ["/portal", "/portal/signin"] {
        let page = dev.get(&b, path).await;
        assert_eq!(page.status(), 503, "{path}");
    }
    let rotated = dev.app_action_unchecked(&a, &client_id, "/rotate").await;
    assert_eq!(rotated, 503);
    run("PAYER_SANDBOX_TEST_PG_START");
    wait_until_ready(&browser(), &a).await;
    wait_until_ready(&browser(), &b).await;
    let page = dev.html(&b, &format!("/portal/apps/{client_id}")).await;
    assert!(page.contains("Survivor"));
}

impl Browser {
    /// Posts an app's form with a token that cannot be read first (the database is gone): the
    /// status. The token does not matter: the session cannot be read either.
    async fn app_action_unchecked(&self, at: &str, client_id: &str, action: &str) -> u16 {
        self.post(
            at,
            &format!("/portal/apps/{client_id}{action}"),
            &[("csrf_token", "x")],
        )
        .await
        .status()
        .as_u16()
    }
}
