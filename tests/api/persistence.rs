//! `--state-dir` (docs/command-line.md#state-directory, docs/apps.md): registered apps and email links survive a restart, and a process
//! killed with SIGKILL in the middle of writes leaves a state that loads.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::helpers::{Attempt, JASON, spawn_binary, spawn_with};

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("payer-sandbox-test-{name}-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> String {
    format!("{}-{:?}", std::process::id(), std::time::Instant::now())
        .replace(|c: char| !c.is_ascii_alphanumeric(), "")
}

#[tokio::test]
async fn apps_and_email_links_survive_a_restart() {
    let dir = temp_dir("restart");
    let first = spawn_with(|s| s.state_dir = Some(dir.clone())).await;
    let client: Value = first
        .post_json(
            "/oauth2/register",
            json!({"client_name": "Durable", "redirect_uris": ["https://d.example/cb"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    Attempt::for_sandbox_app(&first)
        .await
        .approve_as_jason("durable@example.com")
        .await;

    let second = spawn_with(|s| s.state_dir = Some(dir.clone())).await;
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    let code = second.headless_code(id, JASON, json!({})).await;
    let token = second.exchange_code_as(&code, id, secret).await;
    assert_eq!(token.status(), 200, "the app and its secret were restored");
    let attempt = Attempt::for_sandbox_app(&second).await;
    assert_eq!(
        attempt.sign_in("durable@example.com").await.status(),
        303,
        "the email link was restored"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn sigkill_during_writes_leaves_a_readable_state() {
    let dir = temp_dir("sigkill");
    let client = reqwest::Client::new();
    let mut acknowledged: Vec<String> = Vec::new();
    let mut linked: Vec<String> = Vec::new();
    for round in 0..8 {
        let mut server = spawn_binary(&["--state-dir", dir.to_str().unwrap()]);
        let url = server.url.clone();
        // The restarted server knows every app a previous run acknowledged.
        let state: Value =
            serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap();
        let on_disk: Vec<&str> = state["apps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["client_id"].as_str().unwrap())
            .collect();
        for id in &acknowledged {
            assert!(
                on_disk.contains(&id.as_str()),
                "round {round}: acknowledged app {id} lost"
            );
        }
        for email in &linked {
            assert_eq!(
                state["email_links"][email], JASON,
                "round {round}: email link {email} lost"
            );
        }
        // A member links an email (verified by its code) while the registrations below run.
        let email = format!("round{round}@example.com");
        let test_app = crate::helpers::TestApp::at_url(&url);
        let attempt = Attempt::for_sandbox_app(&test_app).await;
        attempt.approve_as_jason(&email).await;
        linked.push(email);
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let client = client.clone();
                let url = url.clone();
                tokio::spawn(async move {
                    let mut ids = Vec::new();
                    for i in 0..1000 {
                        let body = json!({"client_name": format!("r{round}w{w}i{i}"), "redirect_uris": ["https://k.example/cb"]});
                        match client.post(format!("{url}/oauth2/register")).json(&body).send().await {
                            Ok(r) if r.status() == 201 => {
                                let v: Value = match r.json().await {
                                    Ok(v) => v,
                                    Err(_) => break,
                                };
                                ids.push(v["client_id"].as_str().unwrap_or_default().to_owned());
                            }
                            _ => break,
                        }
                    }
                    ids
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(150 + 37 * round)).await;
        server.kill();
        for writer in writers {
            acknowledged.extend(writer.await.unwrap());
        }
    }
    assert!(acknowledged.len() > 8, "writes happened before the kills");
    let server = spawn_binary(&["--state-dir", dir.to_str().unwrap()]);
    let health = client
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn an_unwritable_state_dir_stops_start_up_with_a_clear_message() {
    let blocker = temp_dir("blocker").join("a-file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let mut settings = payer_sandbox::settings::Settings::for_tests();
    settings.state_dir = Some(blocker.join("state"));
    let error = match payer_sandbox::startup::Application::build(settings).await {
        Ok(_) => panic!("start-up should fail"),
        Err(e) => e.to_string(),
    };
    assert!(
        error.contains("state dir") && error.contains("a-file"),
        "{error}"
    );
}

#[tokio::test]
async fn a_state_dir_that_fails_later_gives_a_clear_error_not_a_crash() {
    let dir = temp_dir("vanishing");
    let app = spawn_with(|s| s.state_dir = Some(dir.clone())).await;
    // As root, permission bits do not stop writes; a file where the directory was does.
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"the state directory is gone").unwrap();
    let response = app
        .post_json(
            "/oauth2/register",
            json!({"client_name": "Unsaved", "redirect_uris": ["https://u.example/cb"]}),
        )
        .await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains("could not save"), "{description}");
    // Internals (the directory, the OS error) are logged, never returned.
    assert!(
        !description.contains(dir.to_str().unwrap()) && !description.contains("os error"),
        "{description}"
    );
    assert_eq!(app.get("/healthz").await.status(), 200, "still serving");
    let portal = app.get("/portal").await.text().await.unwrap();
    assert!(
        !portal.contains("Unsaved"),
        "an app whose registration failed does not exist"
    );
    let token = app.token(JASON, "patient/*.read").await;
    assert_eq!(token.len(), 32, "logins still work");
    std::fs::remove_file(dir).unwrap();
}
