//! gzip on the wire (docs/fhir-api.md#compression): every JSON response of 1 KiB or more to a
//! client that accepts gzip decompresses to exactly the identity response (reads, searches with
//! includes and every page, `$everything`, metadata, discovery, the control API), over random
//! members and searches; `Accept-Encoding` negotiation; `Vary`; ETags and 304s; small bodies,
//! pages and HEAD left alone.

use std::io::Read;
use std::sync::Arc;

use payer_sandbox::clock::Clock;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY};
use serde_json::Value;

use crate::helpers::{JASON, TestApp, spawn_with_clock};

/// A stopped clock: two requests a moment apart get the same `meta.lastUpdated`.
async fn spawn_frozen() -> TestApp {
    let at = time::OffsetDateTime::from_unix_timestamp(1_893_456_000).unwrap();
    spawn_with_clock(Arc::new(Clock::frozen(at)), |_| {}).await
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a valid gzip body");
    out
}

struct Fetched {
    status: u16,
    encoding: Option<String>,
    vary: Option<String>,
    etag: Option<String>,
    body: Vec<u8>,
}

async fn fetch(app: &TestApp, path: &str, token: Option<&str>, accept: Option<&str>) -> Fetched {
    let mut request = app.client.get(app.at(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(accept) = accept {
        request = request.header(ACCEPT_ENCODING, accept);
    }
    let response = request.send().await.unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    // Several `Vary` fields make one list (RFC 9110 §5.3): CORS names its own.
    let vary: Vec<&str> = response
        .headers()
        .get_all(VARY)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let vary = (!vary.is_empty()).then(|| vary.join(", "));
    Fetched {
        status: response.status().as_u16(),
        encoding: header(CONTENT_ENCODING),
        vary,
        etag: header(ETAG),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

/// `path` fetched as identity and as gzip: the gzip one is gzip (when the identity one is 1 KiB
/// or more) and decompresses to exactly the identity one. Returns the identity body.
async fn same_both_ways(app: &TestApp, path: &str, token: Option<&str>) -> Vec<u8> {
    let identity = fetch(app, path, token, None).await;
    let gzipped = fetch(app, path, token, Some("gzip")).await;
    assert_eq!(identity.status, gzipped.status, "{path}");
    assert_eq!(identity.encoding, None, "{path}");
    assert!(
        gzipped
            .vary
            .as_deref()
            .is_some_and(|v| v.contains("accept-encoding")),
        "{path}: {:?}",
        gzipped.vary
    );
    if identity.body.len() >= 1024 {
        assert_eq!(gzipped.encoding.as_deref(), Some("gzip"), "{path}");
        assert!(gzipped.body.len() < identity.body.len(), "{path}");
        assert_eq!(gunzip(&gzipped.body), identity.body, "{path}");
    } else {
        assert_eq!(gzipped.encoding, None, "{path}: too small to be worth it");
        assert_eq!(gzipped.body, identity.body, "{path}");
    }
    identity.body
}

#[tokio::test]
async fn every_kind_of_json_response_decompresses_to_the_identity_one() {
    let app = spawn_frozen().await;
    let token = app.login(JASON, "patient/*.read").await;
    let access = token["access_token"].as_str().unwrap();
    let patient = token["patient"].as_str().unwrap();

    same_both_ways(&app, &format!("/r4/Patient/{patient}"), Some(access)).await;
    same_both_ways(&app, "/r4/metadata", None).await;
    same_both_ways(&app, "/.well-known/smart-configuration", None).await;
    same_both_ways(&app, "/.well-known/jwks.json", None).await;
    same_both_ways(&app, "/sandbox/api/members", None).await;
    same_both_ways(
        &app,
        &format!("/r4/Patient/{patient}/$everything"),
        Some(access),
    )
    .await;
    // A search with includes, and every page of a paged one.
    same_both_ways(
        &app,
        &format!("/r4/ExplanationOfBenefit?patient={patient}&_include=ExplanationOfBenefit:*"),
        Some(access),
    )
    .await;
    let mut next = Some(format!(
        "/r4/ExplanationOfBenefit?patient={patient}&_count=3"
    ));
    let mut pages = 0;
    while let Some(path) = next {
        let body = same_both_ways(&app, &path, Some(access)).await;
        let bundle: Value = serde_json::from_slice(&body).unwrap();
        next = bundle["link"]
            .as_array()
            .and_then(|links| links.iter().find(|l| l["relation"] == "next"))
            .and_then(|l| l["url"].as_str())
            .map(|url| url[url.find("/r4/").unwrap()..].to_owned());
        pages += 1;
    }
    assert!(pages > 2, "{pages} pages");
    // An error's OperationOutcome is small: sent as it is.
    same_both_ways(&app, "/r4/Patient/nobody", Some(access)).await;
}

#[tokio::test]
async fn random_members_and_searches_decompress_to_the_identity_ones() {
    let app = spawn_frozen().await;
    let members: Vec<Value> = app.get("/sandbox/api/members").await.json().await.unwrap();
    let searches = [
        "ExplanationOfBenefit?patient={p}&_include=ExplanationOfBenefit:*",
        "ExplanationOfBenefit?patient={p}&_count=2",
        "Coverage?patient={p}&_include=Coverage:payor",
        "Observation?patient={p}",
        "Condition?patient={p}&_elements=code",
        "ExplanationOfBenefit?patient={p}&_summary=count",
        "Patient/{p}/$everything?_count=5",
    ];
    // A fixed seed: the same combinations on every run, spread over every member.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for _ in 0..24 {
        let member = &members[next(members.len())];
        let member_id = member["member_id"].as_str().unwrap();
        let token = app.login(member_id, "patient/*.read").await;
        let access = token["access_token"].as_str().unwrap();
        let patient = token["patient"].as_str().unwrap();
        let search = searches[next(searches.len())].replace("{p}", patient);
        same_both_ways(&app, &format!("/r4/{search}"), Some(access)).await;
    }
}

#[tokio::test]
async fn accept_encoding_is_negotiated_by_its_q_values() {
    let app = spawn_frozen().await;
    let path = "/r4/metadata";
    for (accept, gzipped) in [
        ("gzip", true),
        ("GZIP", true),
        ("x-gzip", true),
        ("*", true),
        ("br;q=1.0, gzip;q=0.8", true),
        ("identity;q=0, gzip", true),
        ("gzip;q=0", false),
        ("gzip;q=0, *;q=0.5", false),
        ("br, zstd", false),
        ("identity", false),
        ("", false),
        ("gzip;q=nonsense", false),
        // Nothing the server has is acceptable: identity, the one thing every client reads.
        ("identity;q=0, br", false),
    ] {
        let fetched = fetch(&app, path, None, Some(accept)).await;
        assert_eq!(fetched.status, 200, "{accept:?}");
        assert_eq!(
            fetched.encoding.as_deref() == Some("gzip"),
            gzipped,
            "{accept:?}"
        );
        let body = if gzipped {
            gunzip(&fetched.body)
        } else {
            fetched.body
        };
        let json: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["resourceType"], "CapabilityStatement", "{accept:?}");
    }
}

#[tokio::test]
async fn etags_validate_both_encodings_and_a_304_names_what_it_varies_on() {
    let app = spawn_frozen().await;
    let token = app.login(JASON, "patient/*.read").await;
    let access = token["access_token"].as_str().unwrap();
    let path = format!("/r4/Patient/{}", token["patient"].as_str().unwrap());
    let identity = fetch(&app, &path, Some(access), None).await;
    let gzipped = fetch(&app, &path, Some(access), Some("gzip")).await;
    let etag = identity.etag.unwrap();
    assert!(
        etag.starts_with("W/"),
        "weak: one validator for both encodings"
    );
    assert_eq!(gzipped.etag.as_deref(), Some(etag.as_str()));
    let revalidated = app
        .client
        .get(app.at(&path))
        .bearer_auth(access)
        .header(ACCEPT_ENCODING, "gzip")
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert!(
        revalidated
            .headers()
            .get_all(VARY)
            .iter()
            .any(|v| v.to_str().unwrap().contains("accept-encoding"))
    );
    assert!(revalidated.headers().get(CONTENT_ENCODING).is_none());
}

#[tokio::test]
async fn pages_and_head_requests_are_left_alone() {
    let app = spawn_frozen().await;
    let landing = fetch(&app, "/", None, Some("gzip")).await;
    assert_eq!(landing.status, 200);
    assert_eq!(landing.encoding, None, "HTML pages are not compressed");
    assert!(String::from_utf8(landing.body).unwrap().contains("<html"));
    let head = app
        .client
        .head(app.at("/r4/metadata"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.headers().get(CONTENT_ENCODING).is_none());
}
