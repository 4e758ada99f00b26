//! The architecture the comments promise, checked on every `cargo test` (docs/architecture.md):
//!
//! - only `src/http` knows the HTTP framework (axum, tower, hyper);
//! - the cores depend on each other in one direction only (the table below), so `fhir` never
//!   reaches `oauth`, and no core reaches `http`, `state` or `startup`;
//! - every route path is named once, in `src/http/routes.rs`: no path literal elsewhere;
//! - `src/http` never names the raw FHIR store: its one road to member data is
//!   `MemberData::open`, whose compartment has checked type, scope and member. (The store's read
//!   API is also `pub(in crate::fhir)`, so such a handler would not compile either.)
//! - every source file opens with a `//!` comment saying what it owns.
//!
//! A scan of the source rather than a crate per layer: one crate keeps `cargo run` and the
//! build simple, and a scan also covers what crate boundaries cannot (path literals, names).
//! Test code (`#[cfg(test)]` sections and `tests.rs` files) may cross layers.

use std::path::{Path, PathBuf};

/// Which top-level modules each core may use (`crate::<module>`).
const ALLOWED: &[(&str, &[&str])] = &[
    ("clock", &[]),
    ("compression", &[]),
    ("settings", &[]),
    ("healthcheck", &[]),
    ("ids", &[]),
    ("json_tree", &[]),
    ("fhir", &["json_tree", "ids"]),
    ("data", &["fhir", "json_tree", "ids"]),
    ("plans", &["data", "ids"]),
    (
        "db",
        &[
            "clock",
            "data",
            "developers",
            "fhir",
            "ids",
            "oauth",
            "sandbox",
        ],
    ),
    ("oauth", &["fhir", "data", "ids", "clock", "plans"]),
    ("sandbox", &["oauth", "ids", "clock"]),
    ("developers", &["oauth", "ids", "clock"]),
];

/// Crates only `src/http` may use.
const HTTP_CRATES: &[&str] = &["axum", "tower", "tower_http", "hyper"];

/// How a route path starts: any such literal outside `routes.rs` names a path a second time.
const PATH_PREFIXES: &[&str] = &[
    "/r4",
    "/oauth2",
    "/.well-known",
    "/sandbox",
    "/portal",
    "/static",
    "/healthz",
];

/// The lines of a file that are not test code, with their numbers, comments removed.
fn code_lines(path: &Path, text: &str) -> Vec<(usize, String)> {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return Vec::new();
    }
    let mut lines = Vec::new();
    // Inside a `#[cfg(test)]` item: its brace depth, once its first `{` is seen.
    let mut test_item: Option<(i64, bool)> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            test_item = Some((0, false));
            continue;
        }
        if let Some((depth, opened)) = test_item.as_mut() {
            for c in line.chars() {
                match c {
                    '{' => {
                        *depth += 1;
                        *opened = true;
                    }
                    '}' => *depth -= 1,
                    _ => {}
                }
            }
            if *opened && *depth <= 0 || !*opened && line.trim_end().ends_with(';') {
                test_item = None;
            }
            continue;
        }
        let code = match line.find("//") {
            // A `//` inside a string (a URL) is not a comment.
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        lines.push((i + 1, code.to_owned()));
    }
    lines
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn mentions_crate(code: &str, name: &str) -> bool {
    code.match_indices(&format!("{name}::"))
        .any(|(at, _)| !code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':'))
}

/// `word` as a whole identifier (so `StoredResource` is not `Store`).
fn has_word(code: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(word)
        .any(|(at, _)| !code[..at].ends_with(ident) && !code[at + word.len()..].starts_with(ident))
}

/// Every violation of the rules in the tree under `src`, one line each.
fn violations(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).unwrap().to_path_buf();
        let shown = format!("src/{}", relative.display());
        let text = std::fs::read_to_string(&file).unwrap();
        if !text.starts_with("//!") {
            found.push(format!("{shown}: does not open with a //! comment"));
        }
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let in_http = top == "http";
        let allowed = ALLOWED.iter().find(|(m, _)| *m == top).map(|(_, a)| *a);
        for (n, code) in code_lines(&file, &text) {
            if !in_http {
                for krate in HTTP_CRATES {
                    if mentions_crate(&code, krate) {
                        found.push(format!("{shown}:{n}: uses {krate} outside src/http"));
                    }
                }
            }
            if let Some(allowed) = allowed {
                for (at, _) in code.match_indices("crate::") {
                    let rest = &code[at + "crate::".len()..];
                    let module: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if module != top && !allowed.contains(&module.as_str()) {
                        found.push(format!("{shown}:{n}: {top} may not use crate::{module}"));
                    }
                }
            }
            if relative != Path::new("http/routes.rs") {
                if code.contains(".route(\"") || code.contains(".nest(\"") {
                    found.push(format!(
                        "{shown}:{n}: a route path literal (name it in routes.rs)"
                    ));
                }
                for prefix in PATH_PREFIXES {
                    if code.contains(&format!("\"{prefix}")) {
                        found.push(format!(
                            "{shown}:{n}: the path literal \"{prefix}…\" (name it in routes.rs)"
                        ));
                    }
                }
            }
            if in_http
                && (has_word(&code, "Store")
                    || has_word(&code, "StoreBuilder")
                    || code.contains("fhir::store")
                    || code.contains(".store."))
            {
                found.push(format!(
                    "{shown}:{n}: src/http names the raw store (use MemberData::open)"
                ));
            }
        }
    }
    found
}

#[test]
fn the_source_keeps_its_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(found.is_empty(), "layer violations:\n{}", found.join("\n"));
}

/// The check itself fails on each kind of violation (a check that cannot fail is no check).
#[test]
fn the_check_catches_each_kind_of_violation() {
    let dir = std::env::temp_dir().join(format!("payer-sandbox-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "fhir/leak.rs",
        "//! A core that reaches up.\nuse axum::body::Bytes;\nuse crate::oauth::token_store::AccessGrant;\n",
    );
    write(
        "http/fhir/sneaky.rs",
        "//! A handler that goes around the compartment.\nfn f(s: &AppState) { s.store.find(0, \"x\"); }\nfn g() -> Router { Router::new().route(\"/r4/Patient\", get(h)) }\n",
    );
    write(
        "sandbox/nodoc.rs",
        "use crate::http::routes;\n#[cfg(test)]\nmod tests {\n    use crate::http::anything;\n}\npub use crate::http::after_the_tests;\n",
    );
    let found = violations(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let expect = [
        "src/fhir/leak.rs:2: uses axum outside src/http",
        "src/fhir/leak.rs:3: fhir may not use crate::oauth",
        "src/http/fhir/sneaky.rs:2: src/http names the raw store",
        "src/http/fhir/sneaky.rs:3: a route path literal",
        "src/http/fhir/sneaky.rs:3: the path literal \"/r4…\"",
        "src/sandbox/nodoc.rs: does not open with a //! comment",
        "src/sandbox/nodoc.rs:1: sandbox may not use crate::http",
        "src/sandbox/nodoc.rs:6: sandbox may not use crate::http",
    ];
    for want in expect {
        assert!(
            found.iter().any(|f| f.starts_with(want)),
            "missing {want:?} in:\n{}",
            found.join("\n")
        );
    }
    assert_eq!(found.len(), expect.len(), "{}", found.join("\n"));
}
