//! Member sign-in shared by every replica (docs/hosted.md#member-sign-in): the browser flow with
//! each step on the other replica, the outbox and the email links seen from both, a form posted
//! on both at once, expiry on the shared clock, reset, and a database that goes away and comes
//! back. Two replicas on one database, driven by plain form posts as a browser sends them.

use serde_json::{Value, json};

use crate::support::*;

const QUERY: &str = "client_id=sandbox-app&redirect_uri=http://localhost/cb&state=s1&scope=openid%20fhirUser%20patient/*.read";
const AUTHORIZE: &str = "/oauth2/authorize/test";

/// A sign-in attempt, walked through the pages of whichever replica each step names.
struct SignIn {
    client: reqwest::Client,
    /// `/oauth2/login/{attempt}`.
    path: String,
    csrf: String,
}

impl SignIn {
    /// The app sends the member to `at`'s authorize URL; the start page is read on `page_at`,
    /// the create-account form (and its anti-CSRF token) on `form_at`.
    async fn start(at: &str, page_at: &str, form_at: &str) -> SignIn {
        Self::start_at(AUTHORIZE, "Demo Health Plan", at, page_at, form_at).await
    }

    /// `start` at the plan of `authorize` (its authorization endpoint), named `plan_name`.
    async fn start_at(
        authorize: &str,
        plan_name: &str,
        at: &str,
        page_at: &str,
        form_at: &str,
    ) -> SignIn {
        let client = browser();
        let response = client
            .get(format!("{at}{authorize}?{QUERY}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "on to the sign-in pages");
        let path = response.headers()["location"].to_str().unwrap().to_owned();
        let start = client.get(format!("{page_at}{path}")).send().await.unwrap();
        assert_eq!(start.status(), 200, "the start page");
        let page = start.text().await.unwrap();
        assert!(page.contains(&format!("Sign in to {plan_name}")), "{page}");
        let form = client
            .get(format!("{form_at}{path}/create"))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 200);
        let csrf = hidden_input(&form.text().await.unwrap(), "csrf_token").unwrap();
        SignIn { client, path, csrf }
    }

    async fn post(&self, at: &str, page: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields = vec![("csrf_token", self.csrf.as_str())];
        fields.extend_from_slice(form);
        self.client
            .post(format!("{at}{}/{page}", self.path))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, at: &str, page: &str) -> reqwest::Response {
        self.client
            .get(format!("{at}{}/{page}", self.path))
            .send()
            .await
            .unwrap()
    }

    async fn create_account(&self, at: &str, member: &Value, email: &str) -> reqwest::Response {
        let field = |name: &str| member[name].as_str().unwrap().to_owned();
        let (given, family, member_id, zip) = (
            field("given"),
            field("family"),
            field("member_id"),
            field("postal_code"),
        );
        self.post(
            at,
            "create",
            &[
                ("first_name", &given),
                ("last_name", &family),
                ("member_id", &member_id),
                ("postal_code", &zip),
                ("email", email),
            ],
        )
        .await
    }

    async fn sign_in(&self, at: &str, email: &str) -> reqwest::Response {
        self.post(at, "signin", &[("email", email)]).await
    }

    async fn enter_code(&self, at: &str, code: &str) -> reqwest::Response {
        self.post(at, "verify", &[("code", code)]).await
    }

    async fn decide(&self, at: &str) -> reqwest::Response {
        self.post(at, "consent", &[("decision", "allow")]).await
    }

    /// Where a step sent the member: the path after the attempt's, e.g. `verify`.
    fn next(&self, response: &reqwest::Response) -> String {
        let location = response.headers()["location"].to_str().unwrap();
        location
            .strip_prefix(&format!("{}/", self.path))
            .unwrap_or(location)
            .to_owned()
    }
}

/// A test member as the control API lists them.
async fn member(at: &str, member_id: &str) -> Value {
    let members: Vec<Value> = reqwest::get(format!("{at}/sandbox/api/members"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    members
        .into_iter()
        .find(|m| m["member_id"] == member_id)
        .unwrap()
}

/// The member of `plan` whose given name is `given`, as the control API lists them.
async fn plan_member(at: &str, plan: &str, given: &str) -> Value {
    let plans: Vec<Value> = reqwest::get(format!("{at}/sandbox/api/plans"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let plan = plans.iter().find(|p| p["id"] == plan).unwrap();
    plan["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["given"] == given)
        .unwrap()
        .clone()
}

/// Another test member than Jason.
async fn someone_else(at: &str) -> Value {
    let members: Vec<Value> = reqwest::get(format!("{at}/sandbox/api/members"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    members
        .into_iter()
        .find(|m| m["member_id"] != MEMBER)
        .unwrap()
}

/// The outbox of `at`, as the control API lists it.
async fn outbox(at: &str) -> Vec<Value> {
    let response = reqwest::get(format!("{at}/sandbox/api/outbox"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The newest code sent to `email`, read from `at`'s outbox.
async fn code_for(at: &str, email: &str) -> String {
    outbox(at)
        .await
        .iter()
        .rev()
        .find(|e| e["to"] == email)
        .and_then(|e| e["code"].as_str())
        .unwrap_or_else(|| panic!("no email to {email} in the outbox of {at}"))
        .to_owned()
}

/// The code of the app's redirect.
fn code_of(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 302, "the redirect to the app");
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("http://localhost/cb?"), "{location}");
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, code)| code.into_owned())
        .unwrap()
}

/// The token response for a code of the built-in app, redeemed at `at` (codes are every
/// replica's: the tests redeem each at the replica that did not issue it).
async fn exchange(at: &str, code: &str) -> Value {
    let (status, tokens) = token_at(
        &browser(),
        at,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", "http://localhost/cb"),
            ("client_id", APP.0),
            ("client_secret", APP.1),
        ],
    )
    .await;
    assert_eq!(status, 200, "the token exchange: {tokens}");
    tokens
}

/// Creates an account for `who` with `email` and verifies it, each step on the other replica
/// than the one before; the attempt is then at the consent.
async fn create_and_verify(a: &str, b: &str, who: &Value, email: &str) -> SignIn {
    let sign_in = SignIn::start(a, b, a).await;
    let created = sign_in.create_account(b, who, email).await;
    assert_eq!(created.status(), 303, "account details accepted");
    let code = code_for(a, email).await;
    let verified = sign_in.enter_code(b, &code).await;
    assert_eq!(verified.status(), 303, "code accepted");
    assert_eq!(sign_in.next(&verified), "consent");
    sign_in
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn an_account_is_created_verified_and_approved_with_every_step_on_the_other_replica() {
    let database = fresh_database("payer_signin_flow").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let jason = member(&a, MEMBER).await;
    let email = "jason.flow@example.com";

    // Authorize on A, the start page on B, the create form on A.
    let sign_in = SignIn::start(&a, &b, &a).await;
    let created = sign_in.create_account(&b, &jason, email).await;
    assert_eq!(created.status(), 303, "account details accepted on B");
    assert_eq!(sign_in.next(&created), "verify");
    // The code B sent, read on A.
    let code = code_for(&a, email).await;
    let form = sign_in.get(&b, "verify").await;
    assert_eq!(form.status(), 200);
    assert!(form.text().await.unwrap().contains(email));
    let verified = sign_in.enter_code(&a, &code).await;
    assert_eq!(verified.status(), 303, "the code accepted on A");
    assert_eq!(sign_in.next(&verified), "consent");
    let consent = sign_in.get(&b, "consent").await;
    assert_eq!(consent.status(), 200);
    assert!(consent.text().await.unwrap().contains("Jason"));
    let approved = sign_in.decide(&a).await;
    let code = code_of(&approved);
    assert!(
        approved.headers()["location"]
            .to_str()
            .unwrap()
            .contains("state=s1")
    );

    // The code A issued, redeemed on B; the token read on A.
    let tokens = exchange(&b, &code).await;
    assert_eq!(tokens["scope"], "openid fhirUser patient/*.read");
    assert_eq!(tokens["patient"], jason["patient_id"]);
    assert_eq!(read_at(&browser(), &a, &tokens).await, 200);

    // The sign-in pages B served are attributed to the app of the attempt A started.
    let log: Vec<Value> = reqwest::get(format!("{b}/sandbox/api/requests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pages: Vec<&Value> = log
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap_or("")
                .starts_with("/oauth2/login/")
        })
        .collect();
    assert!(!pages.is_empty(), "{log:?}");
    assert!(
        pages.iter().all(|e| e["client_id"] == "sandbox-app"),
        "{pages:?}"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn every_replica_outbox_lists_the_codes_every_replica_sent() {
    let database = fresh_database("payer_signin_outbox").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let jason = member(&a, MEMBER).await;
    let other = someone_else(&a).await;

    let on_a = SignIn::start(&a, &a, &a).await;
    assert_eq!(
        on_a.create_account(&a, &jason, "sent.by.a@example.com")
            .await
            .status(),
        303
    );
    let on_b = SignIn::start(&b, &b, &b).await;
    assert_eq!(
        on_b.create_account(&b, &other, "sent.by.b@example.com")
            .await
            .status(),
        303
    );

    let (from_a, from_b) = (outbox(&a).await, outbox(&b).await);
    assert_eq!(from_a, from_b, "one outbox, whichever replica answers");
    let to: Vec<&str> = from_a.iter().map(|e| e["to"].as_str().unwrap()).collect();
    assert_eq!(to, ["sent.by.a@example.com", "sent.by.b@example.com"]);
    assert!(from_a.iter().all(|e| e["plan"] == "test"));
    // The pages for people, too.
    let code_a = code_for(&b, "sent.by.a@example.com").await;
    let code_b = code_for(&a, "sent.by.b@example.com").await;
    for (at, page) in [
        (&a, "/sandbox/outbox"),
        (&b, "/sandbox/outbox"),
        (&b, "/sandbox"),
    ] {
        let html = reqwest::get(format!("{at}{page}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&code_a) && html.contains(&code_b),
            "{at}{page}"
        );
    }
    // A code read on B finishes the sign-in on A that sent it.
    let verified = on_a.enter_code(&a, &code_a).await;
    assert_eq!(on_a.next(&verified), "consent");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn an_email_linked_on_one_replica_signs_in_on_the_other() {
    let database = fresh_database("payer_signin_links").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let jason = member(&a, MEMBER).await;
    let email = "linked.on.a@example.com";

    // Linked on A, every step there.
    let first = SignIn::start(&a, &a, &a).await;
    first.create_account(&a, &jason, email).await;
    let code = code_for(&a, email).await;
    first.enter_code(&a, &code).await;
    code_of(&first.decide(&a).await);
    assert_eq!(count(&database, "signin_email_links").await, 1);

    // Signed in with on B, every step there.
    let again = SignIn::start(&b, &b, &b).await;
    let sent = again.sign_in(&b, email).await;
    assert_eq!(sent.status(), 303, "B knows the email");
    assert_eq!(again.next(&sent), "verify");
    let code = code_for(&b, email).await;
    assert_eq!(again.next(&again.enter_code(&b, &code).await), "consent");
    let tokens = exchange(&a, &code_of(&again.decide(&b).await)).await;
    assert_eq!(tokens["patient"], jason["patient_id"]);

    // And it is Jason's on B: another member cannot take it.
    let other = someone_else(&a).await;
    let taken = SignIn::start(&a, &b, &b).await;
    let refused = taken.create_account(&b, &other, email).await;
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("already linked to another account")
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn a_form_posted_on_both_replicas_at_once_takes_effect_once() {
    let database = fresh_database("payer_signin_races").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let jason = member(&a, MEMBER).await;

    // The consent, approved on both at once: one code, and the other post finds the attempt
    // over.
    for round in 0..8 {
        let sign_in = create_and_verify(&a, &b, &jason, "twice@example.com").await;
        let (on_a, on_b) = tokio::join!(sign_in.decide(&a), sign_in.decide(&b));
        let mut statuses = [on_a.status().as_u16(), on_b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [302, 404], "round {round}");
    }

    // Six wrong codes at once, three on each: the fifth ends the attempt, wherever it lands.
    let sign_in = SignIn::start(&a, &b, &a).await;
    sign_in
        .create_account(&a, &jason, "guesses@example.com")
        .await;
    let mut posts = Vec::new();
    for i in 0..6 {
        let at = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (client, path, csrf) = (
            sign_in.client.clone(),
            sign_in.path.clone(),
            sign_in.csrf.clone(),
        );
        posts.push(tokio::spawn(async move {
            let response = client
                .post(format!("{at}{path}/verify"))
                .form(&[("csrf_token", csrf.as_str()), ("code", "not-it")])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }));
    }
    let (mut retries, mut ended, mut gone) = (0, 0, 0);
    for post in posts {
        match post.await.unwrap() {
            (400, page) if page.contains("That code is not right") => retries += 1,
            (400, page) if page.contains("5 wrong verification codes") => ended += 1,
            (404, _) => gone += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((retries, ended, gone), (4, 1, 1));

    // One email, verified for two members at once on the two replicas: one link.
    let email = "contested@example.com";
    let other = someone_else(&a).await;
    let for_jason = SignIn::start(&a, &a, &a).await;
    for_jason.create_account(&a, &jason, email).await;
    let jason_code = code_for(&a, email).await;
    let for_other = SignIn::start(&b, &b, &b).await;
    for_other.create_account(&b, &other, email).await;
    let other_code = code_for(&b, email).await;
    let (first, second) = tokio::join!(
        for_jason.enter_code(&a, &jason_code),
        for_other.enter_code(&b, &other_code)
    );
    let mut outcomes = [first.status().as_u16(), second.status().as_u16()];
    outcomes.sort_unstable();
    assert_eq!(outcomes, [303, 400], "one goes on to the consent, one ends");
    assert_eq!(count(&database, "signin_email_links").await, 2);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn attempts_and_codes_expire_on_the_shared_clock_whichever_replica_moved_it() {
    let database = fresh_database("payer_signin_expiry").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let jason = member(&a, MEMBER).await;

    let code_expires = SignIn::start(&a, &b, &a).await;
    code_expires
        .create_account(&b, &jason, "late@example.com")
        .await;
    let code = code_for(&a, "late@example.com").await;
    post(
        &browser(),
        &format!("{a}/sandbox/api/clock/advance"),
        json!({"seconds": 600}),
    )
    .await;
    let late = code_expires.enter_code(&b, &code).await;
    assert_eq!(late.status(), 400);
    assert!(
        late.text()
            .await
            .unwrap()
            .contains("expired after 10 minutes")
    );
    assert_eq!(
        code_expires.get(&a, "verify").await.status(),
        404,
        "dropped"
    );

    let left_open = SignIn::start(&b, &a, &b).await;
    post(
        &browser(),
        &format!("{b}/sandbox/api/clock/advance"),
        json!({"seconds": 3600}),
    )
    .await;
    let timed_out = left_open.get(&a, "create").await;
    assert_eq!(timed_out.status(), 400);
    assert!(timed_out.text().await.unwrap().contains("timed out"));
    assert_eq!(left_open.get(&b, "create").await.status(), 404, "dropped");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn reset_on_one_replica_clears_the_sign_ins_of_both() {
    let database = fresh_database("payer_signin_reset").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let jason = member(&a, MEMBER).await;
    let email = "reset@example.com";
    let linked = create_and_verify(&a, &b, &jason, email).await;
    code_of(&linked.decide(&a).await);
    let open = SignIn::start(&a, &a, &a).await;
    open.sign_in(&a, email).await;
    assert_eq!(outbox(&b).await.len(), 2);

    assert_eq!(
        post(&browser(), &format!("{b}/sandbox/api/reset"), json!({})).await,
        200
    );
    for at in [&a, &b] {
        assert!(outbox(at).await.is_empty(), "{at}");
        assert_eq!(open.get(at, "verify").await.status(), 404, "{at}");
    }
    let after = SignIn::start(&a, &b, &a).await;
    let unknown = after.sign_in(&a, email).await;
    assert_eq!(unknown.status(), 400, "the link is gone");
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("No account uses this email")
    );
    for table in ["signin_email_links", "signin_outbox"] {
        assert_eq!(count(&database, table).await, 0, "{table}");
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn sign_in_pages_answer_503_while_the_database_is_away_and_go_on_once_it_is_back() {
    let database = fresh_database("payer_signin_outage").await;
    let a = replica(&database).await;
    let b = replica(&database).await;
    let jason = member(&a, MEMBER).await;
    let email = "outage@example.com";
    let sign_in = SignIn::start(&a, &b, &a).await;
    sign_in.create_account(&b, &jason, email).await;
    let code = code_for(&a, email).await;

    run("PAYER_SANDBOX_TEST_PG_STOP");
    let asked = std::time::Instant::now();
    let page = sign_in.get(&b, "verify").await;
    assert_eq!(page.status(), 503);
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(5),
        "answered within the page's wait for the database, not held up: {:?}",
        asked.elapsed()
    );
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Sign-in is unavailable for a moment")
    );
    let entered = sign_in.enter_code(&a, &code).await;
    assert_eq!(entered.status(), 503);
    let start = browser()
        .get(format!("{b}{AUTHORIZE}?{QUERY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 503, "no attempt that leads nowhere");
    let emails = reqwest::get(format!("{a}/sandbox/api/outbox"))
        .await
        .unwrap();
    assert_eq!(emails.status(), 503);
    let error: Value = emails.json().await.unwrap();
    assert_eq!(error["error"], "temporarily_unavailable");

    run("PAYER_SANDBOX_TEST_PG_START");
    let client = browser();
    wait_until_ready(&client, &a).await;
    wait_until_ready(&client, &b).await;
    // Nothing was lost or counted while it was away: the same code goes on.
    let verified = sign_in.enter_code(&b, &code).await;
    assert_eq!(verified.status(), 303);
    assert_eq!(sign_in.next(&verified), "consent");
    code_of(&sign_in.decide(&a).await);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run tests/hosted/run.sh"]
async fn another_plans_and_a_parents_sign_ins_continue_on_the_other_replica() {
    let database = fresh_database("payer_signin_plans").await;
    let a = replica(&database).await;
    let b = replica(&database).await;

    // Lakeshore's member, every step on the other replica; the email is Lakeshore's account.
    let yesenia = plan_member(&a, "lakeshore", "Yesenia").await;
    let email = "yesenia@example.com";
    let lakeshore = SignIn::start_at(
        "/oauth2/authorize/lakeshore",
        "Lakeshore Mutual Health",
        &a,
        &b,
        &a,
    )
    .await;
    assert!(lakeshore.path.starts_with("/oauth2/login/lakeshore."));
    assert_eq!(
        lakeshore.create_account(&b, &yesenia, email).await.status(),
        303
    );
    let sent = outbox(&a).await;
    assert_eq!(sent.last().unwrap()["plan"], "lakeshore");
    let code = code_for(&a, email).await;
    assert_eq!(
        lakeshore.next(&lakeshore.enter_code(&a, &code).await),
        "consent"
    );
    let consent = lakeshore.get(&b, "consent").await.text().await.unwrap();
    assert!(consent.contains("Lakeshore Mutual Health"));
    let tokens = exchange(&b, &code_of(&lakeshore.decide(&a).await)).await;
    let coverage = browser()
        .get(format!("{a}/plans/lakeshore/r4/Coverage"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(coverage.status(), 200, "a Lakeshore token");
    let elsewhere = SignIn::start(&b, &b, &b).await;
    let refused = elsewhere.sign_in(&b, email).await;
    assert_eq!(refused.status(), 400, "not an account at the default plan");

    // A parent on file creates an account for her child on one replica, and goes on on the
    // other: the account stays hers, acting for him.
    let parent = SignIn::start(&a, &b, &a).await;
    let created = parent
        .post(
            &b,
            "representative",
            &[
                ("your_first_name", "Keiko"),
                ("your_last_name", "Nakamura"),
                ("first_name", "Ethan"),
                ("last_name", "Nakamura"),
                ("member_id", "08-testmemid3"),
                ("postal_code", "98103"),
                ("email", "keiko@example.com"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let code = code_for(&a, "keiko@example.com").await;
    assert_eq!(parent.next(&parent.enter_code(&a, &code).await), "consent");
    let consent = parent.get(&b, "consent").await.text().await.unwrap();
    assert!(consent.contains("Keiko Nakamura (mother)"), "{consent}");
    let tokens = exchange(&b, &code_of(&parent.decide(&a).await)).await;
    assert_eq!(tokens["patient"], "ethan-nakamura");
}
