//! Developer accounts (docs/developer-accounts.md), walked page by page with real form posts and
//! cookies, as a browser would: signing up with a code from the outbox, signing in and out, the
//! sign-in limit on the sandbox clock, the anti-CSRF token of every form, two developers who never
//! see each other's apps or requests, editing, rotating a secret with its overlap, deleting an app
//! and its tokens, persistence, and accounts off by default.

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use std::sync::Arc;

use payer_sandbox::clock::Clock;

use crate::helpers::{JASON, TestApp, hidden_input, spawn_embedded, spawn_with, spawn_with_clock};

const PASSWORD: &str = "correct horse battery";

async fn spawn_accounts() -> TestApp {
    spawn_with(|s| s.developer_accounts = true).await
}

/// With the sandbox clock stopped, so that limits and lifetimes are exact to the second.
async fn spawn_accounts_frozen() -> TestApp {
    let clock = Arc::new(Clock::frozen(time::macros::datetime!(2026-03-01 12:00 UTC)));
    spawn_with_clock(clock, |s| s.developer_accounts = true).await
}

/// A developer's browser: its own cookie store, no redirects followed.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    email: String,
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_owned()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("cookie").to_owned())
        .collect()
}

/// The text between `id="{id}">` and the next `<`.
fn code_with_id(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].split('<').next()?.to_owned())
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp, email: &str) -> Browser<'a> {
        Browser {
            app,
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            email: email.to_owned(),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.app.at(path))
            .send()
            .await
            .expect("request")
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.app.at(path))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    async fn html(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.expect("html")
    }

    /// The anti-CSRF token of the form on the page at `path`.
    async fn csrf(&self, path: &str) -> String {
        hidden_input(&self.html(path).await, "csrf_token").expect("a csrf token")
    }

    /// Posts the sign-up form: the answer.
    async fn sign_up_as(&self, password: &str, confirm: &str) -> reqwest::Response {
        let csrf = self.csrf("/portal/signup").await;
        self.post(
            "/portal/signup",
            &[
                ("csrf_token", &csrf),
                ("email", &self.email),
                ("password", password),
                ("password_confirm", confirm),
            ],
        )
        .await
    }

    /// Signs up and verifies with the code from the outbox: signed in afterwards.
    async fn sign_up(&self) {
        let response = self.sign_up_as(PASSWORD, PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-up accepted");
        let verify = location(&response);
        let code = self.app.last_email_code(&self.email).await;
        let response = self.enter_code(&verify, &code).await;
        assert_eq!(response.status(), 303, "code accepted");
        assert_eq!(location(&response), "/portal");
    }

    async fn enter_code(&self, verify: &str, code: &str) -> reqwest::Response {
        let csrf = self.csrf(verify).await;
        self.post(verify, &[("csrf_token", &csrf), ("code", code)])
            .await
    }

    async fn sign_in(&self, password: &str) -> reqwest::Response {
        let csrf = self.csrf("/portal/signin").await;
        self.post(
            "/portal/signin",
            &[
                ("csrf_token", &csrf),
                ("email", &self.email),
                ("password", password),
            ],
        )
        .await
    }

    async fn sign_out(&self) {
        let csrf = self.csrf("/portal").await;
        let response = self.post("/portal/signout", &[("csrf_token", &csrf)]).await;
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/portal/signin");
    }

    /// Registers a confidential app in the portal: its client_id and client_secret.
    async fn register(&self, name: &str, redirects: &str) -> (String, String) {
        let csrf = self.csrf("/portal").await;
        let response = self
            .post(
                "/portal/apps",
                &[
                    ("csrf_token", &csrf),
                    ("name", name),
                    ("redirect_uris", redirects),
                    ("app_type", "confidential"),
                ],
            )
            .await;
        assert_eq!(response.status(), 201, "registered");
        let html = response.text().await.expect("html");
        (
            code_with_id(&html, "client_id").expect("client_id"),
            code_with_id(&html, "client_secret").expect("client_secret"),
        )
    }

    /// Posts one of an app's forms (`""` for the edit form, `/rotate`, `/delete`).
    async fn app_action(
        &self,
        client_id: &str,
        action: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let csrf = self.csrf("/portal").await;
        let mut form = form.to_vec();
        form.push(("csrf_token", &csrf));
        self.post(&format!("/portal/apps/{client_id}{action}"), &form)
            .await
    }
}

/// A code for `client_id` by headless authorize, exchanged with `secret`: the token response.
async fn exchange(app: &TestApp, client_id: &str, secret: &str) -> reqwest::Response {
    let code = app
        .headless_code(
            client_id,
            JASON,
            json!({"scope": "patient/*.read offline_access"}),
        )
        .await;
    app.exchange_code_as(&code, client_id, secret).await
}

#[tokio::test]
async fn accounts_are_off_by_default_and_the_portal_stays_open() {
    let app = spawn_embedded(|_| {}).await;
    let page = app.get("/portal").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Register an app") && html.contains("sandbox-secret"));
    assert!(!html.contains("Sign out"));
    for path in [
        "/portal/signup",
        "/portal/signin",
        "/portal/requests",
        "/portal/apps/sandbox-app",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    let csrf = hidden_input(&html, "csrf_token").unwrap();
    let registered = app
        .post_form(
            "/portal/apps",
            &[
                ("csrf_token", &csrf),
                ("name", "Open"),
                ("redirect_uris", "http://a.example/cb"),
            ],
        )
        .await;
    assert_eq!(registered.status(), 201, "no account needed");
}

#[tokio::test]
async fn signing_up_verifies_the_email_with_a_code_from_the_outbox() {
    let app = spawn_accounts().await;
    let dev = Browser::new(&app, "Dev@Example.com");
    let form = dev.get("/portal/signup").await;
    assert_eq!(form.status(), 200);
    assert!(
        set_cookies(&form)
            .iter()
            .any(|c| c.starts_with("payer_sandbox_form=") && c.contains("HttpOnly")),
        "the form's cookie"
    );
    let html = form.text().await.unwrap();
    assert!(html.contains("Create a developer account"));

    for (password, confirm, says) in [
        ("short", "short", "at least 8 characters"),
        ("long enough one", "long enough two", "not the same"),
    ] {
        let refused = dev.sign_up_as(password, confirm).await;
        assert_eq!(refused.status(), 400);
        let html = refused.text().await.unwrap();
        assert!(html.contains(says), "{says}: {html}");
        assert!(html.contains("Dev@Example.com"), "the email is kept");
        assert!(!html.contains(password), "a password is never echoed");
    }
    let bad_email = Browser::new(&app, "<script>alert(1)</script>@x.example");
    let refused = bad_email.sign_up_as(PASSWORD, PASSWORD).await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(html.contains("valid email"));
    assert!(
        !html.contains("<script>alert(1)"),
        "what the page echoes is escaped"
    );

    let sent = dev.sign_up_as(PASSWORD, PASSWORD).await;
    assert_eq!(sent.status(), 303);
    let verify = location(&sent);
    assert!(verify.starts_with("/portal/signup/"), "{verify}");
    let outbox: Vec<Value> = app.get_json("/sandbox/api/outbox").await;
    let email = outbox.last().unwrap();
    assert_eq!(email["to"], "dev@example.com");
    assert_eq!(email["kind"], "developer");
    assert!(email.get("plan").is_none());
    let code = email["code"].as_str().unwrap().to_owned();
    let outbox_page = app.get("/sandbox/outbox").await.text().await.unwrap();
    assert!(outbox_page.contains(&code) && outbox_page.contains("developer account"));

    // Another browser, even with the code from the open outbox, cannot finish the sign-up.
    let intruder = Browser::new(&app, "intruder@example.com");
    assert_eq!(intruder.get(&verify).await.status(), 404);
    let csrf = intruder.csrf("/portal/signin").await;
    let stolen = intruder
        .post(&verify, &[("csrf_token", &csrf), ("code", &code)])
        .await;
    assert_eq!(stolen.status(), 404);
    assert_eq!(intruder.get("/portal").await.status(), 303, "not signed in");

    let page = dev.html(&verify).await;
    assert!(page.contains("dev@example.com") && page.contains("/sandbox/outbox"));
    let wrong = dev.enter_code(&verify, "000000x").await;
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("4 tries left"));
    let right = dev.enter_code(&verify, &code).await;
    assert_eq!(right.status(), 303);
    assert_eq!(location(&right), "/portal");
    let cookie = set_cookies(&right)
        .into_iter()
        .find(|c| c.starts_with("payer_sandbox_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/portal", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "the sandbox is served over http here"
    );

    let portal = dev.html("/portal").await;
    assert!(portal.contains("Signed in as <strong>dev@example.com</strong>"));
    assert!(portal.contains("You have no apps yet"));
    assert!(
        portal.contains("sandbox-secret"),
        "the built-in apps are listed"
    );
    for page in ["/portal/signin", "/portal/signup"] {
        let response = dev.get(page).await;
        assert_eq!(response.status(), 303, "{page} when signed in");
        assert_eq!(location(&response), "/portal");
    }
    dev.sign_out().await;
    let csrf = dev.csrf("/portal/signin").await;
    let used = dev
        .post(&verify, &[("csrf_token", &csrf), ("code", &code)])
        .await;
    assert_eq!(used.status(), 404, "a sign-up is over once verified");
    assert_eq!(dev.get(&verify).await.status(), 404);
}

#[tokio::test]
async fn a_code_ends_after_five_wrong_tries_or_ten_minutes() {
    let app = spawn_accounts().await;
    let dev = Browser::new(&app, "codes@example.com");
    let verify = location(&dev.sign_up_as(PASSWORD, PASSWORD).await);
    let code = app.last_email_code(&dev.email).await;
    for _ in 0..4 {
        assert_eq!(dev.enter_code(&verify, "999999x").await.status(), 400);
    }
    let ended = dev.enter_code(&verify, "999999x").await;
    assert_eq!(ended.status(), 400);
    assert!(
        ended
            .text()
            .await
            .unwrap()
            .contains("5 wrong verification codes")
    );
    let csrf = dev.csrf("/portal/signin").await;
    let after = dev
        .post(&verify, &[("csrf_token", &csrf), ("code", &code)])
        .await;
    assert_eq!(after.status(), 404, "the sign-up is over");

    let verify = location(&dev.sign_up_as(PASSWORD, PASSWORD).await);
    let code = app.last_email_code(&dev.email).await;
    let csrf = dev.csrf(&verify).await;
    app.advance_clock(600).await;
    let late = dev
        .post(&verify, &[("csrf_token", &csrf), ("code", &code)])
        .await;
    assert_eq!(late.status(), 400);
    assert!(
        late.text()
            .await
            .unwrap()
            .contains("expired after 10 minutes")
    );
}

#[tokio::test]
async fn signing_up_again_with_an_email_that_has_an_account_changes_nothing() {
    let app = spawn_accounts().await;
    let first = Browser::new(&app, "taken@example.com");
    first.sign_up().await;
    let second = Browser::new(&app, "taken@example.com");
    let sent = second
        .sign_up_as("another password", "another password")
        .await;
    assert_eq!(
        sent.status(),
        303,
        "sign-up does not tell that the email has an account"
    );
    let code = app.last_email_code("taken@example.com").await;
    let answer = second.enter_code(&location(&sent), &code).await;
    assert_eq!(answer.status(), 200);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("already has a developer account")
    );
    assert_eq!(second.sign_in("another password").await.status(), 400);
    assert_eq!(second.sign_in(PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn pages_of_an_account_need_a_session() {
    let app = spawn_accounts().await;
    let nobody = Browser::new(&app, "nobody@example.com");
    for path in [
        "/portal",
        "/portal/requests",
        "/portal/apps/sandbox-app",
        "/portal/apps/sandbox-app/requests",
    ] {
        let response = nobody.get(path).await;
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(location(&response), "/portal/signin", "{path}");
    }
    for path in [
        "/portal/apps",
        "/portal/signout",
        "/portal/apps/sandbox-app",
        "/portal/apps/sandbox-app/rotate",
        "/portal/apps/sandbox-app/delete",
    ] {
        let response = nobody
            .post(
                path,
                &[("name", "x"), ("redirect_uris", "http://a.example/cb")],
            )
            .await;
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(location(&response), "/portal/signin", "{path}");
    }
    let apps: Vec<Value> = app.get_json("/sandbox/api/plans").await;
    assert!(!apps.is_empty());
    let signin = nobody.html("/portal/signin").await;
    assert!(signin.contains("Sign in to the developer portal"));
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_the_sixth_failure_in_fifteen_minutes_is_429() {
    let app = spawn_accounts_frozen().await;
    let dev = Browser::new(&app, "limited@example.com");
    dev.sign_up().await;
    dev.sign_out().await;
    for _ in 0..5 {
        let wrong = dev.sign_in("not the password").await;
        assert_eq!(wrong.status(), 400);
        let html = wrong.text().await.unwrap();
        assert!(html.contains("Wrong email or password."));
        assert!(html.contains("limited@example.com"));
    }
    let limited = dev.sign_in(PASSWORD).await;
    assert_eq!(
        limited.status(),
        429,
        "refused even with the right password"
    );
    assert_eq!(limited.headers()["retry-after"], "900");
    assert!(
        limited
            .text()
            .await
            .unwrap()
            .contains("try again in 15 minutes")
    );
    assert!(dev.get("/portal").await.status() == 303, "not signed in");
    // Unknown emails are limited alike, so the limit does not tell which have accounts.
    let stranger = Browser::new(&app, "stranger@example.com");
    for _ in 0..5 {
        assert_eq!(stranger.sign_in(PASSWORD).await.status(), 400);
    }
    assert_eq!(stranger.sign_in(PASSWORD).await.status(), 429);

    app.advance_clock(899).await;
    assert_eq!(dev.sign_in(PASSWORD).await.status(), 429);
    app.advance_clock(1).await;
    let signed_in = dev.sign_in(PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/portal");
    assert_eq!(dev.get("/portal").await.status(), 200);
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = spawn_accounts().await;
    let dev = Browser::new(&app, "out@example.com");
    dev.sign_up().await;
    dev.sign_out().await;
    let signed_in = dev.sign_in(PASSWORD).await;
    let cookie = set_cookies(&signed_in)
        .into_iter()
        .find(|c| c.starts_with("payer_sandbox_session="))
        .unwrap();
    let pair = cookie.split(';').next().unwrap().to_owned();
    // A browser that kept a copy of the cookie: the same session id, sent by hand.
    let copy = || {
        app.client
            .get(app.at("/portal"))
            .header("cookie", pair.clone())
    };
    assert_eq!(copy().send().await.unwrap().status(), 200);
    let csrf = dev.csrf("/portal").await;
    let out = dev.post("/portal/signout", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status(), 303);
    assert!(
        set_cookies(&out)
            .iter()
            .any(|c| c.starts_with("payer_sandbox_session=;") && c.contains("Max-Age=0"))
    );
    let after = copy().send().await.unwrap();
    assert_eq!(after.status(), 303, "the session id no longer works");
    // Signing in again from a signed-in browser replaces its session on the server too.
    let first = dev.sign_in(PASSWORD).await;
    let first = set_cookies(&first)
        .into_iter()
        .find(|c| c.starts_with("payer_sandbox_session="))
        .unwrap();
    let first = first.split(';').next().unwrap().to_owned();
    let csrf = Browser::new(&app, "any@example.com")
        .csrf("/portal/signin")
        .await;
    let again = app
        .client
        .post(app.at("/portal/signin"))
        .header("cookie", format!("{first}; payer_sandbox_form={csrf}"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "out@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303);
    let replaced = app
        .client
        .get(app.at("/portal"))
        .header("cookie", first)
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 303, "the replaced session ended");
    assert_eq!(location(&after), "/portal/signin");
    let register = app
        .client
        .post(app.at("/portal/apps"))
        .header("cookie", pair.clone())
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Late"),
            ("redirect_uris", "http://a.example/cb"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 303);
    assert!(
        !app.get("/sandbox")
            .await
            .text()
            .await
            .unwrap()
            .contains("Late"),
        "nothing registered"
    );
}

#[tokio::test]
async fn a_session_ends_twelve_hours_after_sign_in_on_the_sandbox_clock() {
    let app = spawn_accounts_frozen().await;
    let dev = Browser::new(&app, "twelve@example.com");
    dev.sign_up().await;
    app.advance_clock(12 * 3600 - 1).await;
    assert_eq!(dev.get("/portal").await.status(), 200);
    app.advance_clock(1).await;
    let ended = dev.get("/portal").await;
    assert_eq!(ended.status(), 303);
    assert!(set_cookies(&ended).iter().any(|c| c.contains("Max-Age=0")));
}

#[tokio::test]
async fn every_form_needs_its_csrf_token() {
    let app = spawn_accounts().await;
    let dev = Browser::new(&app, "csrf@example.com");
    let other = Browser::new(&app, "other@example.com");
    other.sign_up().await;
    let other_token = other.csrf("/portal").await;

    // Before a session: the token must be this server's and the same as the form cookie's.
    let token = dev.csrf("/portal/signup").await;
    let signup = |csrf: String| {
        let dev = &dev;
        async move {
            dev.post(
                "/portal/signup",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("email", "csrf@example.com"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await
            .status()
        }
    };
    assert_eq!(signup(String::new()).await, 403, "missing");
    assert_eq!(signup("0".repeat(32)).await, 403, "made up");
    // A token fetched by someone else (an attacker's own) does not match this browser's cookie.
    let attackers = Browser::new(&app, "attacker@example.com")
        .csrf("/portal/signup")
        .await;
    assert_eq!(signup(attackers).await, 403, "another browser's");
    let no_cookie = app
        .post_form(
            "/portal/signin",
            &[
                ("csrf_token", token.as_str()),
                ("email", "csrf@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        no_cookie.status(),
        403,
        "a cross-site post carries no cookie"
    );
    assert!(
        app.get_json::<Vec<Value>>("/sandbox/api/outbox")
            .await
            .iter()
            .all(|e| e["to"] != "csrf@example.com")
    );

    let verify = location(&dev.sign_up_as(PASSWORD, PASSWORD).await);
    let code = app.last_email_code("csrf@example.com").await;
    let forged = dev.post(&verify, &[("code", &code)]).await;
    assert_eq!(forged.status(), 403, "verify");
    let signin = dev
        .post(
            "/portal/signin",
            &[("email", "other@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signin.status(), 403, "sign-in");
    assert_eq!(dev.enter_code(&verify, &code).await.status(), 303);

    // Signed in: every form carries the session's token; another session's is refused.
    let (client_id, secret) = dev.register("Guarded", "http://guarded.example/cb").await;
    let forms: [(String, Vec<(&str, &str)>); 5] = [
        (
            "/portal/apps".to_owned(),
            vec![("name", "Forged"), ("redirect_uris", "http://f.example/cb")],
        ),
        (
            format!("/portal/apps/{client_id}"),
            vec![("name", "Forged"), ("redirect_uris", "http://f.example/cb")],
        ),
        (format!("/portal/apps/{client_id}/rotate"), vec![]),
        (format!("/portal/apps/{client_id}/delete"), vec![]),
        ("/portal/signout".to_owned(), vec![]),
    ];
    for (path, form) in &forms {
        for token in ["", "0123456789abcdef0123456789abcdef", other_token.as_str()] {
            let mut form = form.clone();
            form.push(("csrf_token", token));
            let response = dev.post(path, &form).await;
            assert_eq!(response.status(), 403, "{path} with {token:?}");
        }
    }
    // Nothing happened: still signed in, the app as registered, its secret unchanged.
    let portal = dev.html("/portal").await;
    assert!(portal.contains("Guarded") && !portal.contains("Forged"));
    assert_eq!(exchange(&app, &client_id, &secret).await.status(), 200);
}

#[tokio::test]
async fn developers_never_see_each_others_apps_or_requests() {
    let app = spawn_accounts().await;
    let alice = Browser::new(&app, "alice@example.com");
    let bob = Browser::new(&app, "bob@example.com");
    alice.sign_up().await;
    bob.sign_up().await;
    let (alices, alices_secret) = alice.register("Alice App", "http://alice.example/cb").await;
    let (bobs, bobs_secret) = bob.register("Bob App", "http://bob.example/cb").await;
    let open = app
        .register(json!({"client_name": "Open App", "redirect_uris": ["http://open.example/cb"]}))
        .await;
    let open_id = open["client_id"].as_str().unwrap().to_owned();
    let open_secret = open["client_secret"].as_str().unwrap().to_owned();

    let portal = alice.html("/portal").await;
    assert!(portal.contains(&alices) && portal.contains("Alice App"));
    assert!(!portal.contains(&bobs) && !portal.contains("Bob App"));
    assert!(!portal.contains(&open_id), "RFC 7591 apps have no owner");
    assert!(
        !portal.contains(&alices_secret),
        "a secret is shown once, at registration"
    );

    let missing = bob
        .get("/portal/apps/0123456789abcdef0123456789abcdef")
        .await;
    assert_eq!(missing.status(), 404);
    let missing = missing.text().await.unwrap();
    for path in [
        format!("/portal/apps/{alices}"),
        format!("/portal/apps/{alices}/requests"),
        format!("/portal/apps/{open_id}"),
        "/portal/apps/sandbox-app".to_owned(),
    ] {
        let response = bob.get(&path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.text().await.unwrap(),
            missing,
            "{path} looks like a missing app"
        );
    }
    for (action, form) in [
        (
            "",
            vec![
                ("name", "Bob was here"),
                ("redirect_uris", "http://bob.example/cb"),
            ],
        ),
        ("/rotate", vec![]),
        ("/delete", vec![]),
    ] {
        let response = bob.app_action(&alices, action, &form).await;
        assert_eq!(response.status(), 404, "{action}");
    }
    let alices_page = alice.html(&format!("/portal/apps/{alices}")).await;
    assert!(alices_page.contains("Alice App") && !alices_page.contains("Bob was here"));
    assert_eq!(
        exchange(&app, &alices, &alices_secret).await.status(),
        200,
        "secret unchanged"
    );

    assert_eq!(exchange(&app, &bobs, &bobs_secret).await.status(), 200);
    assert_eq!(exchange(&app, &open_id, &open_secret).await.status(), 200);
    let alices_log = alice.html("/portal/requests").await;
    assert!(alices_log.contains(&alices) && alices_log.contains("/oauth2/token"));
    assert!(alices_log.contains("grant_type authorization_code"));
    assert!(!alices_log.contains(&bobs) && !alices_log.contains(&open_id));
    assert!(!alices_log.contains("sandbox-app"));
    let bobs_log = bob.html("/portal/requests").await;
    assert!(bobs_log.contains(&bobs) && !bobs_log.contains(&alices));
    let one = alice.html(&format!("/portal/apps/{alices}/requests")).await;
    assert!(one.contains("Requests of Alice App"));
    assert!(one.contains(&alices) && !one.contains(&bobs));
}

#[tokio::test]
async fn the_owner_edits_the_name_and_redirect_uris_under_the_registration_rules() {
    let app = spawn_accounts().await;
    let dev = Browser::new(&app, "editor@example.com");
    dev.sign_up().await;
    let (client_id, _) = dev.register("Before", "http://before.example/cb").await;
    let page = dev.html(&format!("/portal/apps/{client_id}")).await;
    assert!(page.contains("Before") && page.contains("http://before.example/cb"));
    assert!(
        !page.contains("id=\"client_secret\""),
        "no secret on the app's page"
    );

    for (name, redirects, says) in [
        ("Bad", "ftp://x.example/cb", "must use http or https"),
        ("Bad", " , ", "at least one redirect URI"),
        (
            "Bad",
            "https://x.example/cb#frag",
            "must not contain a fragment",
        ),
        (
            &"n".repeat(201)[..],
            "https://x.example/cb",
            "longer than 200",
        ),
    ] {
        let refused = dev
            .app_action(
                &client_id,
                "",
                &[("name", name), ("redirect_uris", redirects)],
            )
            .await;
        assert_eq!(refused.status(), 400, "{redirects}");
        let html = refused.text().await.unwrap();
        assert!(html.contains(says), "{says}: {html}");
        assert!(html.contains(redirects.trim()), "the form as filled in");
    }
    let saved = dev
        .app_action(
            &client_id,
            "",
            &[
                ("name", "After"),
                (
                    "redirect_uris",
                    "https://after.example/one\nhttps://after.example/two",
                ),
            ],
        )
        .await;
    assert_eq!(saved.status(), 200);
    let html = saved.text().await.unwrap();
    assert!(html.contains("Saved.") && html.contains("After"));
    assert!(dev.html("/portal").await.contains("After"));

    let authorize = |redirect: &str| {
        format!(
            "/oauth2/authorize?client_id={client_id}&redirect_uri={redirect}&response_type=code&scope=patient/*.read&state=s"
        )
    };
    assert_eq!(
        app.get(&authorize("https://after.example/two"))
            .await
            .status(),
        303
    );
    let old = app.get(&authorize("http://before.example/cb")).await;
    assert_eq!(old.status(), 400, "the old redirect URI no longer matches");
}

#[tokio::test]
async fn a_rotated_secret_keeps_working_for_24_hours_of_the_sandbox_clock() {
    let app = spawn_accounts_frozen().await;
    let dev = Browser::new(&app, "rotator@example.com");
    dev.sign_up().await;
    let (client_id, old) = dev.register("Rotating", "http://rotate.example/cb").await;
    let rotated = dev.app_action(&client_id, "/rotate", &[]).await;
    assert_eq!(rotated.status(), 200);
    let html = rotated.text().await.unwrap();
    let new = code_with_id(&html, "client_secret").expect("the new secret, shown once");
    assert_ne!(new, old);
    assert!(html.contains("previous secret keeps working until"));
    let page = dev.html(&format!("/portal/apps/{client_id}")).await;
    assert!(
        !page.contains(&new) && !page.contains(&old),
        "never shown again"
    );
    assert!(page.contains("works until"));

    assert_eq!(exchange(&app, &client_id, &old).await.status(), 200);
    assert_eq!(exchange(&app, &client_id, &new).await.status(), 200);
    // Basic authentication at introspection takes both as well.
    let introspect = |secret: &str| {
        app.client
            .post(app.at("/oauth2/introspect"))
            .basic_auth(&client_id, Some(secret))
            .form(&[("token", "unknown")])
            .send()
    };
    assert_eq!(introspect(&old).await.unwrap().status(), 200);
    app.advance_clock(24 * 3600 - 60).await;
    // Signed out meanwhile (a session lasts 12 hours); the secrets do not depend on it.
    assert_eq!(exchange(&app, &client_id, &old).await.status(), 200);
    assert_eq!(exchange(&app, &client_id, &new).await.status(), 200);
    app.advance_clock(60).await;
    let refused = exchange(&app, &client_id, &old).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    assert_eq!(introspect(&old).await.unwrap().status(), 401);
    assert_eq!(exchange(&app, &client_id, &new).await.status(), 200);

    assert_eq!(dev.sign_in(PASSWORD).await.status(), 303);
    let page = dev.html(&format!("/portal/apps/{client_id}")).await;
    assert!(!page.contains("works until"), "the overlap is over");
    let again = dev.app_action(&client_id, "/rotate", &[]).await;
    let newest = code_with_id(&again.text().await.unwrap(), "client_secret").unwrap();
    let third = dev.app_action(&client_id, "/rotate", &[]).await;
    let latest = code_with_id(&third.text().await.unwrap(), "client_secret").unwrap();
    assert_eq!(
        exchange(&app, &client_id, &new).await.status(),
        401,
        "only the two newest work"
    );
    assert_eq!(exchange(&app, &client_id, &newest).await.status(), 200);
    assert_eq!(exchange(&app, &client_id, &latest).await.status(), 200);

    let csrf = dev.csrf("/portal").await;
    let public = dev
        .post(
            "/portal/apps",
            &[
                ("csrf_token", &csrf),
                ("name", "Public"),
                ("redirect_uris", "http://public.example/cb"),
                ("app_type", "public"),
            ],
        )
        .await;
    let public_id = code_with_id(&public.text().await.unwrap(), "client_id").unwrap();
    let page = dev.html(&format!("/portal/apps/{public_id}")).await;
    assert!(!page.contains("Rotate the secret"));
    let refused = dev.app_action(&public_id, "/rotate", &[]).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("no client secret"));
}

#[tokio::test]
async fn deleting_an_app_ends_its_tokens() {
    let app = spawn_accounts().await;
    let dev = Browser::new(&app, "deleter@example.com");
    dev.sign_up().await;
    let (client_id, secret) = dev.register("Doomed", "http://doomed.example/cb").await;
    let tokens: Value = exchange(&app, &client_id, &secret)
        .await
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let unused_code = app
        .headless_code(&client_id, JASON, json!({"scope": "patient/*.read"}))
        .await;
    let builtin = app.token(JASON, "patient/*.read").await;
    let read = |token: String| {
        let app = &app;
        async move {
            app.get_with_token("/r4/Patient/jason-argonaut", &token)
                .await
                .status()
        }
    };
    assert_eq!(read(access.clone()).await, 200);

    let deleted = dev.app_action(&client_id, "/delete", &[]).await;
    assert_eq!(deleted.status(), 200);
    let html = deleted.text().await.unwrap();
    assert!(html.contains("is deleted"));
    assert!(
        !html.contains(&format!("/portal/apps/{client_id}\"")),
        "not listed"
    );

    assert_eq!(
        read(access.clone()).await,
        401,
        "its access token stops working"
    );
    let refreshed = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", &client_id),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(refreshed.status(), 401, "the app no longer authenticates");
    let exchanged = app
        .exchange_code_as(&unused_code, &client_id, &secret)
        .await;
    assert_eq!(exchanged.status(), 401);
    let authorize = app
        .post_json(
            "/sandbox/api/authorize",
            json!({"client_id": client_id, "member_id": JASON}),
        )
        .await;
    assert_eq!(authorize.status(), 400);
    assert_eq!(
        dev.get(&format!("/portal/apps/{client_id}")).await.status(),
        404
    );
    assert_eq!(read(builtin).await, 200, "other apps' tokens live on");
    // A request with the deleted app's token is still the app's in the request log, which no
    // developer sees any more.
    let log = dev.html("/portal/requests").await;
    assert!(!log.contains(&client_id));
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_url_is_https() {
    // Behind a TLS proxy: the server listens on a port chosen here, and announces https.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    spawn_with(|s| {
        s.developer_accounts = true;
        s.listen = ([127, 0, 0, 1], port).into();
        s.public_url = Some(format!("https://127.0.0.1:{port}"));
    })
    .await;
    let app = TestApp::at_url(&format!("http://127.0.0.1:{port}"));
    let form = app.get("/portal/signin").await;
    let cookies = set_cookies(&form);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("payer_sandbox_form=") && c.ends_with("; Secure")),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn accounts_and_their_apps_survive_a_restart_in_the_state_directory() {
    let dir = std::env::temp_dir().join(format!("payer-sandbox-developers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let settings = |accounts: bool| {
        let dir = dir.clone();
        move |s: &mut payer_sandbox::settings::Settings| {
            s.state_dir = Some(dir);
            s.developer_accounts = accounts;
        }
    };
    let client_id = {
        let app = spawn_embedded(settings(true)).await;
        let dev = Browser::new(&app, "kept@example.com");
        dev.sign_up().await;
        dev.register("Kept", "http://kept.example/cb").await.0
    };
    let saved = std::fs::read_to_string(dir.join("state.json")).unwrap();
    assert!(saved.contains("kept@example.com") && saved.contains("$argon2id$"));
    assert!(
        !saved.contains(PASSWORD),
        "only the password's hash is saved"
    );
    // A start without the flag keeps the accounts for the next one with it.
    {
        let app = spawn_embedded(settings(false)).await;
        assert_eq!(app.get("/portal/signin").await.status(), 404);
        let csrf = hidden_input(
            &app.get("/portal").await.text().await.unwrap(),
            "csrf_token",
        )
        .unwrap();
        let other = app
            .post_form(
                "/portal/apps",
                &[
                    ("csrf_token", &csrf),
                    ("name", "Saved meanwhile"),
                    ("redirect_uris", "http://a.example/cb"),
                ],
            )
            .await;
        assert_eq!(other.status(), 201);
    }
    let app = spawn_embedded(settings(true)).await;
    let dev = Browser::new(&app, "kept@example.com");
    assert_eq!(dev.sign_in(PASSWORD).await.status(), 303);
    let portal = dev.html("/portal").await;
    assert!(portal.contains(&client_id) && portal.contains("Kept"));
    assert!(
        !portal.contains("Saved meanwhile"),
        "an app registered without an account has no owner"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn reset_forgets_sign_ups_and_failures_but_keeps_accounts_and_sessions() {
    let app = spawn_accounts().await;
    let dev = Browser::new(&app, "reset@example.com");
    dev.sign_up().await;
    let pending = Browser::new(&app, "pending@example.com");
    let verify = location(&pending.sign_up_as(PASSWORD, PASSWORD).await);
    let stranger = Browser::new(&app, "stranger@example.com");
    for _ in 0..5 {
        stranger.sign_in("wrong password").await;
    }
    assert_eq!(
        app.post_json("/sandbox/api/reset", json!({}))
            .await
            .status(),
        200
    );
    assert_eq!(dev.get("/portal").await.status(), 200, "still signed in");
    assert_eq!(
        pending.get(&verify).await.status(),
        404,
        "the sign-up is gone"
    );
    assert!(
        app.get_json::<Vec<Value>>("/sandbox/api/outbox")
            .await
            .is_empty()
    );
    assert_eq!(
        stranger.sign_in("wrong password").await.status(),
        400,
        "failures forgotten"
    );
    dev.sign_out().await;
    assert_eq!(
        dev.sign_in(PASSWORD).await.status(),
        303,
        "the account stays"
    );
    assert_eq!(StatusCode::OK, dev.get("/portal").await.status());
}
