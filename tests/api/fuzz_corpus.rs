//! The fuzzers' corpora as regression tests: every input `cargo fuzz` kept (minimised, under
//! `fuzz/corpus/<target>/`) and every crash it ever found (`fuzz/regressions/<target>/`) is
//! replayed through the same checks as the fuzz target, on every `cargo test`.

use std::path::Path;

use payer_sandbox::fhir::date;
use payer_sandbox::fhir::search::query;
use payer_sandbox::fhir::search_params::RESOURCES;
use payer_sandbox::http::form;
use payer_sandbox::oauth::apps::{App, check_redirect_uri};
use payer_sandbox::oauth::authorize::AuthorizeParams;
use payer_sandbox::oauth::scopes::GrantedScopes;
use payer_sandbox::oauth::token_exchange::{TokenRequest, parse_basic};

fn inputs(target: &str) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut all = Vec::new();
    for folder in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            all.push(std::fs::read(entry.path()).unwrap());
        }
    }
    all
}

fn search_params(data: &[u8]) {
    let Some((&selector, query_bytes)) = data.split_first() else {
        return;
    };
    let def = &RESOURCES[usize::from(selector) % RESOURCES.len()];
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(query_bytes).unwrap_or_default();
    let _ = query::parse(def, &pairs);
    // The public APIs run chained parameters.
    let _ = query::parse_with(def, &pairs, query::Chains::Run);
}

fn dates(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(range) = date::parse(text) {
        assert!(range.length() >= 0, "inverted range for {text:?}");
        assert!(range.overlaps(&range), "{text:?}");
    }
}

fn scopes(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let granted = GrantedScopes::grant(text, None);
    assert_eq!(GrantedScopes::grant(&granted.to_string(), None), granted);
    if !granted.is_empty() {
        assert_eq!(granted.narrow(&granted.to_string()), Ok(granted.clone()));
    }
}

fn forms(data: &[u8]) {
    let _ = form::parse::<AuthorizeParams>(data);
    let _ = form::parse::<TokenRequest>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_basic(text);
    }
}

fn redirect_uris(registered: &str) {
    if check_redirect_uri(registered, false).is_ok() {
        assert!(!registered.contains('#'));
        let app = App {
            client_id: "c".into(),
            client_secret: None,
            name: "n".into(),
            redirect_uris: vec![registered.to_owned()],
            public: true,
            scopes: None,
            refresh_tokens: Default::default(),
            jwks: None,
            jwks_uri: None,
            builtin: false,
            owner: None,
            previous_secret: None,
            previous_secret_until: None,
        };
        assert!(app.accepts_redirect(registered));
    }
}

#[test]
fn every_kept_fuzz_input_still_passes_its_checks() {
    let mut replayed = 0;
    for (target, check) in [
        ("search_params", search_params as fn(&[u8])),
        ("dates", dates),
        ("scopes", scopes),
        ("forms", forms),
    ] {
        for input in inputs(target) {
            check(&input);
            replayed += 1;
        }
    }
    for input in inputs("redirect_uris") {
        // The fuzz target reads two strings; the registered one's checks are replayed here.
        redirect_uris(&String::from_utf8_lossy(&input));
        replayed += 1;
    }
    // Known hard inputs, kept even when no corpus is present.
    for text in [
        "",
        "ge",
        "2024-02-30",
        "9999-12-31T23:59:59.999999999+14:00",
        "-0001",
        "2024-01-01T00:00:00 05:00",
    ] {
        dates(text.as_bytes());
    }
    for text in [
        "patient/*.cruds user/*.* openid",
        "patient/ExplanationOfBenefit.rs?x=1",
        "\u{0}",
    ] {
        scopes(text.as_bytes());
    }
    println!("replayed {replayed} fuzz inputs");
}
