//! The timeline page (`/sandbox/timeline`): one app's session drawn from the request log, in
//! order, with injected faults, clock moves and the report checks each request broke; served
//! under the pages' CSP with no inline style or script, and linked from `/sandbox`.

use serde_json::{Value, json};

use crate::helpers::{Attempt, JASON, hidden_input, query_param, spawn_app, spawn_with};

/// The rows of a timeline page, one line each: `label status [marks]` for a request, the text
/// for a clock move.
fn rows(html: &str) -> Vec<String> {
    let between = |text: &str, start: &str, end: &str| -> Option<String> {
        let from = text.find(start)? + start.len();
        let to = text[from..].find(end)? + from;
        Some(text[from..to].to_owned())
    };
    let strip = |text: &str| -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in text.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                _ if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.trim().to_owned()
    };
    let mut starts: Vec<usize> = ["<li class=\"step", "<li class=\"clock-move"]
        .iter()
        .flat_map(|marker| html.match_indices(marker).map(|(at, _)| at))
        .collect();
    starts.sort_unstable();
    let ends = starts.iter().skip(1).copied().chain([html.len()]);
    starts
        .iter()
        .zip(ends)
        .filter_map(|(&start, end)| {
            let chunk = &html[start..end];
            if chunk.starts_with("<li class=\"step") {
                let label = between(chunk, "<span class=\"kind\">", "</span>")?;
                let status = between(chunk, "<span class=\"status status-", "</span>")?;
                let status = status.split('>').nth(1)?.to_owned();
                let marks: Vec<String> = chunk
                    .split("<li class=\"mark ")
                    .skip(1)
                    .filter_map(|m| between(m, ">", "</li>").map(|t| strip(&t)))
                    .collect();
                Some(if marks.is_empty() {
                    format!("{label} {status}")
                } else {
                    format!("{label} {status} [{}]", marks.join(", "))
                })
            } else {
                between(chunk, "</span>", "</div>").map(|t| format!("~ {}", t.trim()))
            }
        })
        .collect()
}

#[tokio::test]
async fn a_session_reads_in_order_with_its_faults_clock_moves_and_broken_checks() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/.well-known/smart-configuration").await.status(),
        200
    );
    // The sign-in pages, with no `state` on the authorization request.
    let redirect = Attempt::for_sandbox_app(&app)
        .await
        .approve_as_jason("timeline@example.com")
        .await;
    let code = query_param(&redirect, "code").unwrap();
    let tokens: Value = app
        .post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://localhost/cb"),
                ("client_id", "sandbox-app"),
                ("client_secret", "sandbox-secret"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    let patient = tokens["patient"].as_str().unwrap();
    let read = format!("/r4/Patient/{patient}");
    assert_eq!(app.get_with_token(&read, token).await.status(), 200);

    let fault: Value = app
        .post_json(
            "/sandbox/api/faults",
            json!({"target": "fhir", "status": 503, "path": "/r4/ExplanationOfBenefit"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let eobs = format!("/r4/ExplanationOfBenefit?patient={patient}");
    assert_eq!(app.get_with_token(&eobs, token).await.status(), 503);
    app.advance_clock(2).await;
    assert_eq!(app.get_with_token(&eobs, token).await.status(), 200);

    // The token expires; the app finds out from a 401, refreshes and repeats.
    app.advance_clock(3601).await;
    let coverage = format!("/r4/Coverage?patient={patient}");
    assert_eq!(app.get_with_token(&coverage, token).await.status(), 401);
    let refreshed: Value = app
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let token = refreshed["access_token"].as_str().unwrap();
    assert_eq!(app.get_with_token(&coverage, token).await.status(), 200);
    let in_url = format!("{read}?access_token={token}");
    assert_eq!(app.get_with_token(&in_url, token).await.status(), 200);

    // Back to the wall clock with the sandbox page's button.
    let csrf = hidden_input(
        &app.get("/sandbox").await.text().await.unwrap(),
        "csrf_token",
    )
    .unwrap();
    let back = app
        .post_form(
            "/sandbox/actions",
            &[("csrf_token", &csrf), ("action", "clock-reset")],
        )
        .await;
    assert_eq!(back.status(), 303);
    assert_eq!(
        app.get_with_token(&format!("/r4/Coverage?patient={patient}&_count=1"), token)
            .await
            .status(),
        200
    );

    let response = app.get("/sandbox/timeline?client_id=sandbox-app").await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    let html = response.text().await.unwrap();
    for inline in ["<script", "<style", "style=", "javascript:"] {
        assert!(!html.contains(inline), "{inline} on the page");
    }
    assert!(html.contains("<h1>What <code class=\"app-id\">sandbox-app</code> did</h1>"));
    let fault = format!("fault {}", fault["id"]);
    assert_eq!(
        rows(&html),
        [
            "Discovery 200 [no client named]",
            "Authorize 303 [authorize_state]",
            "Sign-in page 200",
            "Sign-in: create account 200",
            "Sign-in: create account 303",
            "Sign-in: verification code 303",
            "Consent 200",
            "Consent: back to the app 302",
            "Token: code exchange 200",
            "FHIR read: Patient 200",
            &format!("FHIR search: ExplanationOfBenefit 503 [{fault}]"),
            "~ moved forward 2 s",
            "FHIR search: ExplanationOfBenefit 200",
            "~ moved forward 3601 s (1 h 1 s)",
            "FHIR search: Coverage 401 [refreshes_before_expiry]",
            "Token: refresh 200",
            "FHIR search: Coverage 200",
            "FHIR read: Patient 200 [tokens_not_in_urls]",
            "~ back to the wall clock: 3603 s (1 h 3 s) earlier",
            "FHIR search: Coverage 200",
        ]
    );
    // The checks not met head the page, and link to the requests that broke them.
    let checks = &html[..html.find("<ol class=\"timeline\">").unwrap()];
    for failed in [
        "authorize_state",
        "refreshes_before_expiry",
        "tokens_not_in_urls",
    ] {
        assert!(
            checks.contains(&format!("id=\"check-{failed}\"")),
            "{failed}"
        );
    }
    for met in ["handles_401", "handles_5xx", "token_refresh", "discovery"] {
        assert!(
            !checks.contains(&format!("id=\"check-{met}\"")),
            "{met} is met"
        );
    }
    assert!(html.contains("<span class=\"kind\">Token: code exchange</span>"));
    assert!(html.contains("client auth client_secret_post, access token for 3600 s (1 h)"));
    assert!(
        html.contains("?patient=") && !html.contains(token),
        "the query is shown, the token is not"
    );
}

#[tokio::test]
async fn the_sandbox_page_links_each_apps_timeline_which_is_never_logged() {
    let app = spawn_app().await;
    let empty = app.get("/sandbox/timeline").await.text().await.unwrap();
    assert!(empty.contains("No app has made a request yet"));

    app.login(JASON, "patient/*.read").await;
    let page = app.get("/sandbox").await.text().await.unwrap();
    assert!(page.contains("href=\"/sandbox/timeline?client_id=sandbox-app\""));
    // Without client_id: the most recently active app.
    let newest = app.get("/sandbox/timeline").await.text().await.unwrap();
    assert_eq!(rows(&newest), ["Token: code exchange 200"]);
    assert!(newest.contains("aria-current=\"page\""));

    let nobody = app
        .get("/sandbox/timeline?client_id=%3Cb%3Enobody")
        .await
        .text()
        .await
        .unwrap();
    assert!(nobody.contains("holds no requests from <code>&#60;b&#62;nobody</code>"));
    assert!(!nobody.contains("<b>nobody"));

    // The harness's own pages are not in the log.
    let logged: Vec<Value> = app.get("/sandbox/api/requests").await.json().await.unwrap();
    assert_eq!(logged.len(), 1);

    // A reset forgets the clock moves with the log.
    app.advance_clock(60).await;
    app.post_json("/sandbox/api/reset", json!({})).await;
    let reset = app.get("/sandbox/timeline").await.text().await.unwrap();
    assert!(reset.contains("No app has made a request yet"));

    // Read-only: without the control API it still shows.
    let quiet = spawn_with(|s| s.no_control_api = true).await;
    let refused = quiet.exchange_code("no-such-code").await;
    assert_eq!(refused.status(), 400);
    let html = quiet.get("/sandbox/timeline").await.text().await.unwrap();
    assert_eq!(rows(&html), ["Token: code exchange 400"]);
}
