//! Snapshots of the documents clients and validators read as published: the CapabilityStatement,
//! the SMART and OpenID Connect discovery documents, the JWKS, and one searchset Bundle. Any
//! change to their shape fails here until the `.snap` files under `snapshots/` are updated, so it
//! is reviewed as a diff instead of slipping through assertions that check a few keys.
//!
//! The server listens on a random port: its URL is replaced by `BASE` in the text before it is
//! parsed. Values that depend on the day or the build are checked, then redacted.

use insta::{assert_json_snapshot, dynamic_redaction};
use serde_json::Value;

use crate::helpers::{JASON, TestApp, spawn_app};

/// Stands for the server's own URL in every snapshot.
const BASE: &str = "http://sandbox.test";

/// `path` as JSON, with the server's URL replaced by `BASE`; `token` is sent as a bearer token.
async fn document(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let mut request = app.client.get(app.at(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let text = response.text().await.unwrap();
    serde_json::from_str(&text.replace(&app.url, BASE)).unwrap()
}

/// Redacts a calendar date (`YYYY-MM-DD`), after checking that it is one.
fn a_date() -> insta::internals::Redaction {
    dynamic_redaction(|value, path| {
        let date = value
            .as_str()
            .unwrap_or_else(|| panic!("{path}: {value:?}"));
        assert!(
            time::Date::parse(
                date,
                time::macros::format_description!("[year]-[month]-[day]")
            )
            .is_ok(),
            "{path}: {date}"
        );
        "[date]"
    })
}

/// Redacts an RFC 3339 instant, after checking that it is one.
fn an_instant() -> insta::internals::Redaction {
    dynamic_redaction(|value, path| {
        let instant = value
            .as_str()
            .unwrap_or_else(|| panic!("{path}: {value:?}"));
        assert!(
            time::OffsetDateTime::parse(instant, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{path}: {instant}"
        );
        "[instant]"
    })
}

/// Redacts the crate version, after checking that it is this build's, so a release does not
/// rewrite the snapshot.
fn the_version() -> insta::internals::Redaction {
    dynamic_redaction(|value, path| {
        assert_eq!(value.as_str(), Some(env!("CARGO_PKG_VERSION")), "{path}");
        "[version]"
    })
}

#[tokio::test]
async fn capability_statement() {
    let app = spawn_app().await;
    let statement = document(&app, "/r4/metadata", None).await;
    assert_json_snapshot!("capability_statement", statement, {
        ".date" => a_date(),
        ".version" => the_version(),
        ".software.version" => the_version(),
    });
}

#[tokio::test]
async fn smart_configuration() {
    let app = spawn_app().await;
    let smart = document(&app, "/.well-known/smart-configuration", None).await;
    assert_eq!(
        document(&app, "/r4/.well-known/smart-configuration", None).await,
        smart,
        "the copy under the FHIR base is the same document"
    );
    assert_json_snapshot!("smart_configuration", smart);
}

#[tokio::test]
async fn openid_configuration() {
    let app = spawn_app().await;
    let openid = document(&app, "/.well-known/openid-configuration", None).await;
    assert_json_snapshot!("openid_configuration", openid);
}

/// RFC 8414 §3: OAuth-only clients find the same metadata at `oauth-authorization-server`, with
/// the identical `issuer` (RFC 8414 §3.3).
#[tokio::test]
async fn oauth_authorization_server_metadata_is_the_openid_document() {
    let app = spawn_app().await;
    let rfc8414 = document(&app, "/.well-known/oauth-authorization-server", None).await;
    let openid = document(&app, "/.well-known/openid-configuration", None).await;
    assert_eq!(rfc8414, openid);
    assert_eq!(rfc8414["issuer"], BASE, "the issuer, the public URL");
}

#[tokio::test]
async fn jwks() {
    let app = spawn_app().await;
    let jwks = document(&app, "/.well-known/jwks.json", None).await;
    assert_json_snapshot!("jwks", jwks);
}

#[tokio::test]
async fn explanation_of_benefit_searchset() {
    let app = spawn_app().await;
    let login = app.login(JASON, "patient/*.read").await;
    let patient = login["patient"].as_str().unwrap();
    let bundle = document(
        &app,
        &format!("/r4/ExplanationOfBenefit?patient={patient}&_count=2"),
        login["access_token"].as_str(),
    )
    .await;
    assert_json_snapshot!("explanation_of_benefit_searchset", bundle, {
        ".meta.lastUpdated" => an_instant(),
    });
}
