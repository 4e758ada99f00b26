//! Secrets never reach the log (RFC 6749 §10.3, RFC 9700 §4.14): after a full flow with a client
//! secret, codes, access, refresh and id tokens, the server's stderr contains none of them.

use serde_json::json;

use crate::helpers::{Attempt, JASON, TestApp, query_param, spawn_binary};

#[tokio::test]
async fn client_secrets_codes_and_tokens_never_appear_in_the_log() {
    for format in ["text", "json"] {
        let server = spawn_binary(&["--log-format", format]);
        let app = TestApp::at_url(&server.url);
        let client: serde_json::Value = app
            .post_json(
                "/oauth2/register",
                json!({"client_name": "Logged", "redirect_uris": ["https://l.example/cb"]}),
            )
            .await
            .json()
            .await
            .unwrap();
        let (id, secret) = (
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str().unwrap(),
        );
        let attempt = Attempt::start(&app, &format!("client_id={id}&redirect_uri=https://l.example/cb&scope=openid%20patient/*.read&state=s")).await;
        let location = attempt
            .approve_as_jason(&format!("log-{format}@example.com"))
            .await;
        let code = query_param(&location, "code").unwrap();
        let token: serde_json::Value = app
            .exchange_code_as(&code, id, secret)
            .await
            .json()
            .await
            .unwrap();
        let access = token["access_token"].as_str().unwrap();
        let refresh = token["refresh_token"].as_str().unwrap();
        app.get_with_token(
            &format!("/r4/Patient/{}", token["patient"].as_str().unwrap()),
            access,
        )
        .await;
        app.get_with_token("/r4/Patient/not-mine?access_token=x", access)
            .await;
        app.post_form(
            "/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
        .await;
        app.post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", id),
                ("client_secret", "wrong-secret-value"),
            ],
        )
        .await;
        let headless = app.headless_code("sandbox-app", JASON, json!({})).await;
        app.exchange_code(&headless).await;

        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let log = server.log();
        assert!(
            log.contains("/oauth2/token"),
            "the requests were logged ({format}):\n{log}"
        );
        for (what, value) in [
            ("client secret", secret),
            ("wrong client secret", "wrong-secret-value"),
            ("sandbox secret", "sandbox-secret"),
            ("authorization code", code.as_str()),
            ("headless code", headless.as_str()),
            ("access token", access),
            ("refresh token", refresh),
            ("id token", token["id_token"].as_str().unwrap()),
        ] {
            assert!(!log.contains(value), "{what} appears in the {format} log");
        }
    }
}
