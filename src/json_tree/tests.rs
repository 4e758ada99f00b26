//! The tree against serde_json: same verdicts, errors, values and bytes, on chosen, generated
//! and mutated text.

use super::*;
use serde_json::{Value, json};

fn round_trip(text: &str) -> String {
    let tree = Tree::parse(text.as_bytes()).unwrap();
    let mut out = Vec::new();
    write(&mut out, tree.root(), &Edits::default());
    String::from_utf8(out).unwrap()
}

#[test]
fn writes_what_serde_json_writes() {
    for text in [
        r#"{"b":1,"a":[true,false,null,-3,0,2.50,1e2,-0.0,"x\"y\u00e9\n"],"c":{},"d":[]}"#,
        "  [ 1 , {\"k\" : \"v\"} ]  ",
        r#""\ud83d\ude00 \/""#,
        "18446744073709551615",
        "-9223372036854775808",
        "123456789012345678901234567890",
    ] {
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(round_trip(text), value.to_string(), "{text}");
    }
}

#[test]
fn repeated_keys_keep_the_first_place_and_the_last_value() {
    let text = r#"{"a":1,"b":{"x":1},"a":{"y":[2]},"c":3}"#;
    let value: Value = serde_json::from_str(text).unwrap();
    assert_eq!(round_trip(text), value.to_string());
    let tree = Tree::parse(text.as_bytes()).unwrap();
    let a = tree.root().get("a").unwrap();
    assert_eq!(a.path(&["y"]).unwrap().items().count(), 1);
    let keys: Vec<_> = tree.root().entries().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "b", "c"]);
}

#[test]
fn navigation() {
    let text = json!({"name":[{"given":["Jo","Al"]},{"family":"X"}],"n":1}).to_string();
    let tree = Tree::parse(text.as_bytes()).unwrap();
    let root = tree.root();
    let names: Vec<_> = root.get("name").unwrap().items().collect();
    assert_eq!(names.len(), 2);
    let given: Vec<_> = names[0]
        .get("given")
        .unwrap()
        .items()
        .filter_map(|n| n.as_str())
        .collect();
    assert_eq!(given, ["Jo", "Al"]);
    assert_eq!(names[1].path(&["family"]).unwrap().as_str(), Some("X"));
    assert!(root.get("n").unwrap().as_str().is_none());
    assert!(root.get("missing").is_none());
    assert_eq!(root.get("name").unwrap().get("x").map(|_| ()), None);
    assert_eq!(
        root.to_value(),
        serde_json::from_str::<Value>(&text).unwrap()
    );
}

/// Both parsers give the same tree: same value, same bytes written, with or without edits.
fn same_both_ways(text: &str) -> bool {
    let fast = Tree::parse(text.as_bytes()).unwrap();
    let slow = Tree::parse_slow(text).unwrap();
    assert_eq!(fast.root().to_value(), slow.root().to_value(), "{text}");
    for edits in [
        Edits::default(),
        Edits {
            version_id: true,
            ..Edits::default()
        },
    ] {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(&mut a, fast.root(), &edits);
        write(&mut b, slow.root(), &edits);
        assert_eq!(String::from_utf8(a), String::from_utf8(b), "{text}");
    }
    let references = |tree: &Tree<'_>| {
        let mut found = Vec::new();
        crate::fhir::extract::reference_strings(tree.root(), &mut |s, c| {
            found.push((s.to_owned(), c))
        });
        found
    };
    assert_eq!(references(&fast), references(&slow), "{text}");
    fast.canonical.is_some()
}

#[test]
fn the_fast_path_takes_only_what_serde_json_would_write_the_same() {
    for text in [
        r#"{"resourceType":"Patient","id":"a","meta":{"lastUpdated":"2020"},"n":[1,-2,0.5,1.0,-0.0,1e-7]}"#,
        r#"{"meta":{}}"#,
        r#"{"meta":{"versionId":"3"}}"#,
        r#"{"meta":5}"#,
        r#"{"meta":{"versionId":7}}"#,
        "{}",
        "[]",
        r#"[{"a":[]},{"b":{}},null,true,false,"é"]"#,
    ] {
        assert!(same_both_ways(text), "{text} should be read by the scanner");
    }
    for text in [
        r#"{"a":1 }"#,
        r#" {"a":1}"#,
        r#"{"a":"\n"}"#,
        r#"{"a":1.50}"#,
        r#"{"a":1e2}"#,
        r#"{"a":-0}"#,
        r#"{"a":18446744073709551616}"#,
        r#"{"a":1,"b":2,"a":3}"#,
    ] {
        assert!(
            !same_both_ways(text) || text.starts_with(' '),
            "{text} needs serde_json"
        );
    }
    for bad in [
        r#"{"a":01}"#,
        r#"{"a":1,}"#,
        "[1,]",
        r#"{"a" :1"#,
        "tru",
        "\"\u{1}\"",
    ] {
        assert!(Tree::parse(bad.as_bytes()).is_err(), "{bad}");
    }
}

proptest::proptest! {
    #[test]
    fn any_value_reads_the_same_both_ways(value in json_value()) {
        // Canonical unless a float does not survive serde_json's own round trip.
        same_both_ways(&value.to_string());
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        same_both_ways(&pretty);
    }
}

/// Whatever the text, valid or not, the tree parser agrees with serde_json: the same
/// verdict, the same error, the same value, the same bytes written back.
fn judged_as_serde_json_judges(text: &str) {
    let ours = Tree::parse(text.as_bytes());
    let theirs = serde_json::from_str::<Value>(text);
    match (ours, theirs) {
        (Ok(tree), Ok(value)) => {
            assert_eq!(tree.root().to_value(), value, "{text}");
            let mut out = Vec::new();
            write(&mut out, tree.root(), &Edits::default());
            assert_eq!(
                String::from_utf8(out).ok(),
                serde_json::to_string(&value).ok()
            );
        }
        (Err(ours), Err(theirs)) => assert_eq!(ours.to_string(), theirs.to_string()),
        (ours, theirs) => panic!("{text:?}: ours {:?}, serde_json {theirs:?}", ours.is_ok()),
    }
}

proptest::proptest! {
    #[test]
    fn mutated_text_is_judged_as_serde_json_judges_it(
        value in json_value(),
        edits in proptest::collection::vec(
            (proptest::prelude::any::<usize>(), 0u8..3, proptest::sample::select(
                "{}[]\",: -+.019eEtrufalsn\\\u{1}\u{e9}".chars().collect::<Vec<_>>(),
            )),
            1..4,
        ),
    ) {
        let mut text: Vec<char> = value.to_string().chars().collect();
        for (at, op, c) in edits {
            let at = at % (text.len() + 1);
            match op {
                0 if at < text.len() => text[at] = c,
                1 => text.insert(at, c),
                _ if at < text.len() => {
                    text.remove(at);
                }
                _ => {}
            }
        }
        judged_as_serde_json_judges(&text.into_iter().collect::<String>());
    }
}

#[test]
fn edge_cases_are_judged_as_serde_json_judges_them() {
    for text in [
        "",
        " ",
        "{",
        "}",
        "{}",
        "[]",
        "[1]",
        "[1,]",
        "[,1]",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{,}",
        "\"",
        "\"\\\"",
        "\"\\u00\"",
        "\"\\ud800\"",
        "-",
        "-0",
        "-0.0",
        "0.",
        ".5",
        "1e",
        "1e+",
        "1e400",
        "-1e400",
        "01",
        "00",
        "1.5e-7",
        "1E2",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775809",
        "tru",
        "truex",
        "nul",
        "null",
        "[null,true,false]",
        "{\"a\":1}x",
        "{\"a\":1} ",
        "\u{feff}{}",
        "{\"\u{1}\":1}",
        "[\"\t\"]",
        "{\"a\":1,\"a\":2}",
    ] {
        judged_as_serde_json_judges(text);
    }
    let deep = "[".repeat(127) + &"]".repeat(127);
    judged_as_serde_json_judges(&deep);
    let deeper = "[".repeat(128) + &"]".repeat(128);
    judged_as_serde_json_judges(&deeper);
}

fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-zé\"\\\n/]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map("(meta|versionId|reference|[a-d]{1,2})", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn errors_are_serde_json_errors() {
    let text = "{\n \"a\": 1,\n oops\n}";
    let ours = Tree::parse(text.as_bytes()).unwrap_err();
    let theirs = serde_json::from_str::<Value>(text).unwrap_err();
    assert_eq!(ours.to_string(), theirs.to_string());
    assert!(Tree::parse(b"{} x").is_err());
    let deep = "[".repeat(200) + &"]".repeat(200);
    assert!(Tree::parse(deep.as_bytes()).is_err());
}
