//! Writing a node as compact JSON, identical to serde_json's output for the same `Value`, with
//! the few edits the loader makes on the way: `meta.versionId` filled in, an `id` given to a
//! Bundle entry, Bundle-local references rewritten.

use std::collections::HashMap;

use super::{Kind, Node};

/// Changes made while writing. The default changes nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Edits<'e> {
    /// Give the root object `meta.versionId` "1" unless it has a string one: the sandbox never
    /// changes a resource, so every resource is version 1 unless its data says otherwise.
    pub version_id: bool,
    /// Give the root object this `id` unless it has one (Bundle entries named by `urn:uuid`).
    pub id: Option<&'e str>,
    /// `reference` strings to replace, anywhere (a Bundle's `fullUrl`s → `Type/id`).
    pub aliases: Option<&'e HashMap<String, String>>,
}

/// Appends `node` as compact JSON.
pub fn write(out: &mut Vec<u8>, node: Node<'_, '_>, edits: &Edits<'_>) {
    if let Some(text) = node.canonical() {
        if edits.id.is_none() && edits.aliases.is_none() && splice(out, node, text, edits) {
            return;
        }
    }
    if !node.is_object() || (!edits.version_id && edits.id.is_none()) {
        value(out, node, edits.aliases);
        return;
    }
    out.push(b'{');
    let (mut has_id, mut has_meta) = (false, false);
    for (i, (key, child)) in node.entries().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        has_id |= key == "id";
        if key == "meta" && edits.version_id {
            has_meta = true;
            string(out, key);
            out.push(b':');
            meta(out, child, edits.aliases);
        } else {
            member(out, key, child, edits.aliases);
        }
    }
    let mut appended = !out.ends_with(b"{");
    if let (Some(id), false) = (edits.id, has_id) {
        if appended {
            out.push(b',');
        }
        out.extend_from_slice(b"\"id\":");
        string(out, id);
        appended = true;
    }
    if edits.version_id && !has_meta {
        if appended {
            out.push(b',');
        }
        out.extend_from_slice(br#""meta":{"versionId":"1"}"#);
    }
    out.push(b'}');
}

/// A root whose text is what writing it gives: the text, with `meta.versionId` inserted
/// where `write` would put it. False (nothing written) where only `write` can do it.
fn splice(out: &mut Vec<u8>, root: Node<'_, '_>, text: &str, edits: &Edits<'_>) -> bool {
    let text = text.as_bytes();
    if !edits.version_id || !root.is_object() {
        out.extend_from_slice(text);
        return true;
    }
    let (at, insert): (usize, &[u8]) = match root.get("meta") {
        None => (text.len() - 1, br#""meta":{"versionId":"1"}"#),
        Some(meta) if !meta.is_object() => (text.len(), b""),
        Some(meta) => match meta.get("versionId") {
            Some(v) if v.as_str().is_some() => (text.len(), b""),
            Some(_) => return false,
            None => match meta.close() {
                Some(close) if close > 0 && close < text.len() => (close, br#""versionId":"1""#),
                _ => return false,
            },
        },
    };
    let Some((before, after)) = text.split_at_checked(at) else {
        return false;
    };
    out.reserve(text.len() + insert.len() + 1);
    out.extend_from_slice(before);
    if !insert.is_empty() && !before.ends_with(b"{") {
        out.push(b',');
    }
    out.extend_from_slice(insert);
    out.extend_from_slice(after);
    true
}

/// `meta` with `versionId` "1" put in place of a non-string one or added at the end.
fn meta(out: &mut Vec<u8>, node: Node<'_, '_>, aliases: Option<&HashMap<String, String>>) {
    if !node.is_object() || node.get("versionId").is_some_and(|v| v.as_str().is_some()) {
        value(out, node, aliases);
        return;
    }
    out.push(b'{');
    let mut replaced = false;
    for (i, (key, child)) in node.entries().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if key == "versionId" {
            replaced = true;
            out.extend_from_slice(br#""versionId":"1""#);
        } else {
            member(out, key, child, aliases);
        }
    }
    if !replaced {
        if !out.ends_with(b"{") {
            out.push(b',');
        }
        out.extend_from_slice(br#""versionId":"1""#);
    }
    out.push(b'}');
}

fn member(
    out: &mut Vec<u8>,
    key: &str,
    child: Node<'_, '_>,
    aliases: Option<&HashMap<String, String>>,
) {
    string(out, key);
    out.push(b':');
    if key != "reference" {
        return value(out, child, aliases);
    }
    // Only a `reference` string is rewritten, and nothing below a `reference` that is not one.
    match (aliases, child.as_str()) {
        (Some(aliases), Some(reference)) => match aliases.get(reference) {
            Some(local) => string(out, local),
            None => string(out, reference),
        },
        _ => value(out, child, None),
    }
}

fn value(out: &mut Vec<u8>, node: Node<'_, '_>, aliases: Option<&HashMap<String, String>>) {
    match node.kind() {
        Kind::Null => out.extend_from_slice(b"null"),
        Kind::Bool(true) => out.extend_from_slice(b"true"),
        Kind::Bool(false) => out.extend_from_slice(b"false"),
        // Writing numbers into a Vec cannot fail; serde_json formats them as it formats a Value's.
        Kind::U64(n) => {
            let _ = serde_json::to_writer(&mut *out, &n);
        }
        Kind::I64(n) => {
            let _ = serde_json::to_writer(&mut *out, &n);
        }
        Kind::F64(n) => {
            let _ = serde_json::to_writer(&mut *out, &n);
        }
        // Borrowed strings had no escapes in the text, so they need none.
        Kind::Str(s) => raw_string(out, s),
        Kind::Owned(_) => string(out, node.as_str().unwrap_or_default()),
        Kind::Array => {
            out.push(b'[');
            for (i, item) in node.items().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                value(out, item, aliases);
            }
            out.push(b']');
        }
        Kind::Object { .. } => {
            out.push(b'{');
            for (i, (key, child)) in node.entries().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                member(out, key, child, aliases);
            }
            out.push(b'}');
        }
    }
}

fn raw_string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// A JSON string as serde_json escapes it; most strings need no escape and are copied as is.
fn string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        raw_string(out, s);
    } else {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Tree;
    use super::*;
    use serde_json::{Value, json};

    fn edited(resource: &Value, edits: &Edits<'_>) -> String {
        let text = resource.to_string();
        let tree = Tree::parse(text.as_bytes()).unwrap();
        let mut out = Vec::new();
        write(&mut out, tree.root(), edits);
        String::from_utf8(out).unwrap()
    }

    /// What the loader did to a `Value` before: `versionId` inserted into `meta` (appended to
    /// a map that keeps its order), `meta` appended if absent.
    #[test]
    fn version_id_is_filled_as_a_value_insert_would() {
        let fill = Edits {
            version_id: true,
            ..Edits::default()
        };
        for (before, after) in [
            (
                json!({"resourceType":"Patient","id":"a"}),
                json!({"resourceType":"Patient","id":"a","meta":{"versionId":"1"}}),
            ),
            (
                json!({"resourceType":"Patient","meta":{"lastUpdated":"2020"},"id":"a"}),
                json!({"resourceType":"Patient","meta":{"lastUpdated":"2020","versionId":"1"},"id":"a"}),
            ),
            (
                json!({"meta":{"versionId":7,"x":1}}),
                json!({"meta":{"versionId":"1","x":1}}),
            ),
            (json!({"meta":{}}), json!({"meta":{"versionId":"1"}})),
            (
                json!({"meta":{"versionId":"3"}}),
                json!({"meta":{"versionId":"3"}}),
            ),
            (json!({"meta":5}), json!({"meta":5})),
            (json!({}), json!({"meta":{"versionId":"1"}})),
        ] {
            assert_eq!(edited(&before, &fill), after.to_string(), "{before}");
        }
    }

    #[test]
    fn bundle_entries_get_ids_and_local_references() {
        let aliases = HashMap::from([("urn:uuid:p1".to_owned(), "Patient/p1".to_owned())]);
        let edits = Edits {
            id: Some("c1"),
            aliases: Some(&aliases),
            ..Edits::default()
        };
        let coverage = json!({"resourceType":"Coverage","beneficiary":{"reference":"urn:uuid:p1"},
            "payor":[{"reference":"urn:uuid:other"}],"reference":{"reference":"urn:uuid:p1"}});
        assert_eq!(
            edited(&coverage, &edits),
            json!({"resourceType":"Coverage","beneficiary":{"reference":"Patient/p1"},
                "payor":[{"reference":"urn:uuid:other"}],"reference":{"reference":"urn:uuid:p1"},
                "id":"c1"})
            .to_string()
        );
        let named = json!({"id":"x"});
        assert_eq!(edited(&named, &edits), named.to_string());
    }
}
