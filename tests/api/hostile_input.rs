//! Hostile and malformed input across every endpoint: bad percent-encoding, invalid UTF-8,
//! oversized queries, bodies and headers, deep JSON, header injection, XSS payloads in every echoed
//! field, path traversal in ids, wrong methods and content types. Every answer must be a 4xx (or
//! an ordinary success where the input is harmless) in the endpoint's own error format, never a
//! 5xx and never a hang, and the server must be healthy afterwards.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app};

/// The error format an endpoint answers in.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Format {
    OAuthJson,
    Fhir,
    Html,
    Any,
}

fn format_of(path: &str) -> Format {
    if path.starts_with("/r4/.well-known") {
        Format::Any
    } else if path.starts_with("/r4")
        || path.starts_with("/directory/r4")
        || path.starts_with("/formulary/r4")
    {
        Format::Fhir
    } else if path.starts_with("/oauth2/token")
        || path.starts_with("/oauth2/register")
        || path.starts_with("/oauth2/introspect")
        || path.starts_with("/oauth2/revoke")
        || path.starts_with("/sandbox/api")
    {
        Format::OAuthJson
    } else if path.starts_with("/oauth2/authorize")
        || path.starts_with("/oauth2/login")
        || path.starts_with("/portal")
    {
        Format::Html
    } else {
        Format::Any
    }
}

struct Outcome {
    status: u16,
    content_type: String,
    body: String,
}

/// Sends raw bytes and reads the whole answer, so that requests no client library would build
/// (invalid UTF-8, CR/LF in headers, megabyte lines) can be tried.
async fn raw(app: &TestApp, request: Vec<u8>) -> Option<Outcome> {
    let address = app.url.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(address).await.ok()?;
    let _ = stream.write_all(&request).await;
    let mut response = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    assert!(
        read.is_ok(),
        "the server hung on {:?}",
        String::from_utf8_lossy(&request[..request.len().min(120)])
    );
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    Some(Outcome {
        status,
        content_type,
        body: body.to_owned(),
    })
}

fn request(method: &str, target: &[u8], headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() || method == "POST" {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn check(path: &str, what: &str, outcome: Option<Outcome>, tried: &mut usize) {
    *tried += 1;
    // A connection closed without an answer is acceptable only for requests too large to read.
    let Some(outcome) = outcome else {
        return;
    };
    assert!(
        outcome.status < 500,
        "{what} {path}: {} {}",
        outcome.status,
        outcome.body.chars().take(300).collect::<String>()
    );
    // JSON may carry the text verbatim; only a page would run it.
    if outcome.content_type.starts_with("text/html") {
        assert!(
            !outcome.body.contains("<script>alert"),
            "{what} {path}: an XSS payload was echoed unescaped"
        );
        assert!(
            !outcome.body.contains("<img src=x"),
            "{what} {path}: an XSS payload was echoed unescaped"
        );
    }
    // Requests too large to parse are refused by the HTTP layer before any route sees them.
    if !(400..500).contains(&outcome.status) || [413, 414, 431].contains(&outcome.status) {
        return;
    }
    match format_of(path) {
        Format::OAuthJson => assert!(
            outcome.content_type.starts_with("application/json")
                && outcome.body.contains("\"error\""),
            "{what} {path}: {} {:?} {}",
            outcome.status,
            outcome.content_type,
            outcome.body.chars().take(200).collect::<String>()
        ),
        Format::Fhir => assert!(
            outcome.body.contains("OperationOutcome"),
            "{what} {path}: {} {}",
            outcome.status,
            outcome.body.chars().take(200).collect::<String>()
        ),
        Format::Html => assert!(
            outcome.content_type.starts_with("text/html") || outcome.status == 405,
            "{what} {path}: {} {:?}",
            outcome.status,
            outcome.content_type
        ),
        Format::Any => {}
    }
}

const GET_PATHS: &[&str] = &[
    "/",
    "/healthz",
    "/portal",
    "/oauth2/authorize",
    "/oauth2/authorize/test",
    "/oauth2/login/00000000000000000000000000000000",
    "/oauth2/login/00000000000000000000000000000000/create",
    "/oauth2/login/00000000000000000000000000000000/verify",
    "/oauth2/login/00000000000000000000000000000000/consent",
    "/oauth2/userinfo",
    "/.well-known/smart-configuration",
    "/.well-known/openid-configuration",
    "/.well-known/jwks.json",
    "/r4/.well-known/smart-configuration",
    "/r4/metadata",
    "/r4/Patient/jason-argonaut",
    "/r4/Patient",
    "/r4/ExplanationOfBenefit",
    "/r4/Coverage",
    "/r4/Patient/jason-argonaut/$everything",
    "/r4/Patient/jason-argonaut/_history/1",
    "/directory/r4/metadata",
    "/directory/r4/PractitionerRole",
    "/directory/r4/Practitioner/x/_history",
    "/directory/r4/Location/x",
    "/formulary/r4/Basic",
    "/formulary/r4/MedicationKnowledge/x/_history/1",
    "/sandbox/outbox",
    "/sandbox/api/members",
    "/sandbox/api/outbox",
    "/sandbox/api/clock",
];

const POST_PATHS: &[&str] = &[
    "/oauth2/token",
    "/oauth2/register",
    "/oauth2/introspect",
    "/oauth2/revoke",
    "/oauth2/authorize",
    "/oauth2/authorize/test",
    "/oauth2/login/00000000000000000000000000000000/create",
    "/oauth2/login/00000000000000000000000000000000/signin",
    "/oauth2/login/00000000000000000000000000000000/verify",
    "/oauth2/login/00000000000000000000000000000000/consent",
    "/portal/apps",
    "/sandbox/api/authorize",
    "/sandbox/api/clock/advance",
    "/sandbox/api/members/08-testmemid/expire-grants",
    "/r4/ExplanationOfBenefit/_search",
    "/r4/Patient",
    "/directory/r4/PractitionerRole/_search",
    "/formulary/r4/Basic",
];

const XSS: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>";

#[tokio::test]
async fn hostile_requests_get_clean_client_errors_and_the_server_survives() {
    let app = spawn_app().await;
    let token = app.token("08-testmemid", "patient/*.read").await;
    let bearer = format!("Bearer {token}");
    let mut tried = 0;

    let bad_queries: Vec<Vec<u8>> = vec![
        b"?%zz".to_vec(),
        b"?a=%".to_vec(),
        b"?a=%ff%fe%00".to_vec(),
        b"?client_id=%c3%28&redirect_uri=%e2%82".to_vec(),
        b"?_count=-1&_count=99999999999999999999".to_vec(),
        b"?patient=../../etc/passwd&_id=%2e%2e%2f%2e%2e%2f".to_vec(),
        b"?service-date=gt2020-13-45T99:99&_lastUpdated=zz2020".to_vec(),
        b"?_include=*:*:*&_revinclude=%00&_sort=-,-,-".to_vec(),
        b"?location.address-city:contains=%00&practitioner.name.family=x&network.=1&.a=b&a..b=c"
            .to_vec(),
        b"?network:Organization=x&location.type:not=y&subject.code=%ff&period=ap".to_vec(),
        format!("?state={0}&client_id={0}&redirect_uri={0}", urlencode(XSS)).into_bytes(),
        format!(
            "?client_id=sandbox-app&redirect_uri=http://localhost/cb&state={}",
            urlencode(XSS)
        )
        .into_bytes(),
        [b"?q=".as_slice(), &vec![b'a'; 1024 * 1024]].concat(),
        [b"?".as_slice(), &b"a=1&".repeat(20_000)].concat(),
    ];
    for path in GET_PATHS {
        for query in &bad_queries {
            let target = [path.as_bytes(), query].concat();
            let outcome = raw(
                &app,
                request("GET", &target, &[("Authorization", bearer.as_bytes())], b""),
            )
            .await;
            check(path, "GET query", outcome, &mut tried);
        }
    }

    let traversal = [
        "..%2f..%2fetc%2fpasswd",
        "%2e%2e",
        "a%00b",
        "%c0%ae%c0%ae",
        "x".repeat(5000).leak(),
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "%ff",
    ];
    for resource in [
        "Patient",
        "ExplanationOfBenefit",
        "Coverage",
        "Organization",
        "Nope",
    ] {
        for id in traversal {
            let path = format!("/r4/{resource}/{id}");
            let outcome = raw(
                &app,
                request(
                    "GET",
                    path.as_bytes(),
                    &[("Authorization", bearer.as_bytes())],
                    b"",
                ),
            )
            .await;
            check(&path, "GET id", outcome, &mut tried);
        }
    }

    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/x-www-form-urlencoded", b"%%%".to_vec()),
        ("application/x-www-form-urlencoded", b"\xff\xfe\x00=\x80".to_vec()),
        ("application/x-www-form-urlencoded", b"grant_type=authorization_code&code=a&code=b".to_vec()),
        ("application/x-www-form-urlencoded", format!("csrf_token=x&first_name={0}&email={0}&name={0}&redirect_uris={0}", urlencode(XSS)).into_bytes()),
        ("application/x-www-form-urlencoded", vec![b'a'; 1024 * 1024]),
        ("application/json", deep_json.clone().into_bytes()),
        ("application/json", b"{\"client_name\": 1, \"redirect_uris\": {}}".to_vec()),
        ("application/json", b"\xff\xfe".to_vec()),
        ("application/json", format!("{{\"client_name\":\"{0}\",\"redirect_uris\":[\"{0}\"],\"client_id\":\"{0}\",\"member_id\":\"{0}\"}}", XSS.replace('"', "\\\"")).into_bytes()),
        ("text/xml", b"<Patient xmlns=\"http://hl7.org/fhir\"/>".to_vec()),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--".to_vec()),
        ("", Vec::new()),
    ];
    for path in POST_PATHS {
        for (content_type, body) in &bodies {
            let mut headers: Vec<(&str, &[u8])> = vec![("Authorization", bearer.as_bytes())];
            if !content_type.is_empty() {
                headers.push(("Content-Type", content_type.as_bytes()));
            }
            let outcome = raw(&app, request("POST", path.as_bytes(), &headers, body)).await;
            check(path, &format!("POST {content_type}"), outcome, &mut tried);
        }
    }

    let header_attacks: Vec<(&str, Vec<u8>)> = vec![
        ("Authorization", b"Bearer \xff\xfe".to_vec()),
        ("Authorization", b"Basic !!!!".to_vec()),
        (
            "Authorization",
            format!("Bearer {}", "a".repeat(100_000)).into_bytes(),
        ),
        ("Authorization", b"Bearer x\r\nX-Injected: 1".to_vec()),
        ("Accept", b"application/fhir+xml".to_vec()),
        ("If-None-Match", b"W/\"\xff\"".to_vec()),
        ("Prefer", b"handling=strict".to_vec()),
        ("X-Forwarded-Host", b"evil.example".to_vec()),
    ];
    for path in [
        "/r4/Patient/jason-argonaut",
        "/r4/ExplanationOfBenefit?foo=bar",
        "/oauth2/userinfo",
        "/oauth2/token",
        "/sandbox/api/members",
    ] {
        for (name, value) in &header_attacks {
            let method = if path.starts_with("/oauth2/token") {
                "POST"
            } else {
                "GET"
            };
            let outcome = raw(
                &app,
                request(method, path.as_bytes(), &[(name, value)], b""),
            )
            .await;
            check(path, &format!("header {name}"), outcome, &mut tried);
        }
    }

    for method in [
        "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "BREW",
    ] {
        for path in [
            "/r4/Patient/jason-argonaut",
            "/r4/Patient",
            "/oauth2/token",
            "/oauth2/authorize",
            "/sandbox/api/reset",
            "/portal",
        ] {
            let outcome = raw(
                &app,
                request(
                    method,
                    path.as_bytes(),
                    &[("Authorization", bearer.as_bytes())],
                    b"{}",
                ),
            )
            .await;
            check(path, method, outcome, &mut tried);
        }
    }

    let garbage: Vec<&[u8]> = vec![
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ];
    for bytes in garbage {
        let outcome = raw(&app, bytes.to_vec()).await;
        check("(raw)", "garbage", outcome, &mut tried);
    }

    assert!(tried >= 200, "only {tried} hostile requests were tried");
    let health = app.get("/healthz").await;
    assert_eq!(
        health.status(),
        200,
        "healthy after {tried} hostile requests"
    );
    let again = app.token("08-testmemid", "patient/*.read").await;
    assert_eq!(again.len(), 32, "logins still work");
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).unwrap_or_default()[2..].to_owned()
}
