//! A plan whose claims do not link to Coverage (docs/plans.md#behaviour-profiles,
//! `eob-coverage-links = false`): before loading, every `"coverage": {"reference":
//! "Coverage/…"}` of the data (an ExplanationOfBenefit's `insurance.coverage`) is replaced by the
//! Coverage's member identifier and its plan's name, the shape some payers' claims have (and the
//! default plan's unlinked member's). Apps that assume a resolvable reference meet the difference
//! here.
//!
//! Start-up time matters (the embedded network loads before the listening line), so neither pass
//! builds a `serde_json::Value` of a whole file: the first reads only the Coverages' fields, the
//! second rewrites the text around each `coverage` reference and parses only that small object.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::loader::LoadError;
use super::sources::InputFile;

/// A resource or Bundle, as far as the first pass reads it: everything else is skipped unread.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Doc {
    resource_type: Option<String>,
    id: Option<String>,
    entry: Option<Vec<Entry>>,
    identifier: Option<Vec<Value>>,
    class: Option<Vec<Value>>,
    payor: Option<Vec<Value>>,
    subscriber_id: Option<String>,
}

#[derive(Deserialize)]
struct Entry {
    resource: Option<Doc>,
}

/// The files, rewritten.
pub(super) fn unlink_coverage(files: &[InputFile]) -> Result<Vec<InputFile>, LoadError> {
    let mut coverages = HashMap::new();
    let texts: Vec<_> = files.iter().map(InputFile::whole).collect();
    for (file, bytes) in files.iter().zip(&texts) {
        let docs: Vec<Doc> = if file.name.ends_with(".ndjson") {
            bytes
                .split(|&b| b == b'\n')
                .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
                .map(serde_json::from_slice)
                .collect::<Result<_, _>>()
        } else {
            serde_json::from_slice(bytes).map(|d| vec![d])
        }
        .map_err(|e| LoadError(format!("{}: {e}", file.name)))?;
        for doc in &docs {
            collect(doc, &mut coverages);
        }
    }
    files
        .iter()
        .zip(&texts)
        .map(|(file, bytes)| {
            let text = rewrite(bytes, &coverages);
            Ok(InputFile::from_text(&file.name, text))
        })
        .collect()
}

fn collect(doc: &Doc, coverages: &mut HashMap<String, Value>) {
    for entry in doc.entry.iter().flatten() {
        if let Some(resource) = &entry.resource {
            collect(resource, coverages);
        }
    }
    if doc.resource_type.as_deref() == Some("Coverage") {
        if let Some(id) = &doc.id {
            coverages.insert(format!("Coverage/{id}"), coverage_identifier(doc));
        }
    }
}

/// The Coverage's member ID identifier (type `MB`, else the first) and its plan's name.
fn coverage_identifier(coverage: &Doc) -> Value {
    let identifiers = coverage.identifier.as_deref().unwrap_or_default();
    let member = identifiers
        .iter()
        .find(|i| {
            i["type"]["coding"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["code"] == "MB"))
        })
        .or_else(|| identifiers.first());
    // The plan's name (the class of type `plan`), as the default plan's unlinked claims give it.
    let classes = coverage.class.as_deref().unwrap_or_default();
    let plan = classes
        .iter()
        .filter(|c| {
            c["type"]["coding"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["code"] == "plan"))
        })
        .find_map(|c| c["name"].as_str());
    let display = plan
        .or_else(|| classes.iter().find_map(|c| c["name"].as_str()))
        .or_else(|| {
            coverage
                .payor
                .as_deref()
                .and_then(|p| p.first())
                .and_then(|p| p["display"].as_str())
        })
        .unwrap_or("Coverage on file");
    let mut reference = json!({"display": display});
    if let Some(member) = member {
        reference["identifier"] = member.clone();
    } else if let Some(subscriber) = &coverage.subscriber_id {
        reference["identifier"] = json!({"value": subscriber});
    }
    reference
}

const KEY: &[u8] = b"\"coverage\"";

/// The text with every `"coverage": {…}` object whose `reference` names a known Coverage
/// replaced by that Coverage's identifier reference.
fn rewrite(bytes: &[u8], coverages: &HashMap<String, Value>) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = find(&bytes[at..], KEY) {
        let key_end = at + found + KEY.len();
        at = key_end;
        let Some(open) = object_after_colon(bytes, key_end) else {
            continue;
        };
        let Some(close) = matching_brace(bytes, open) else {
            continue;
        };
        let object = &bytes[open..=close];
        let replacement = serde_json::from_slice::<Value>(object)
            .ok()
            .and_then(|v| v["reference"].as_str().map(str::to_owned))
            .and_then(|target| coverages.get(&target));
        if let Some(replacement) = replacement {
            out.extend_from_slice(&bytes[copied..open]);
            out.extend_from_slice(replacement.to_string().as_bytes());
            copied = close + 1;
            at = close + 1;
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    String::from_utf8_lossy(&out).into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where the object after `"coverage"` starts, if a `:` and then a `{` follow.
fn object_after_colon(bytes: &[u8], mut i: usize) -> Option<usize> {
    while bytes.get(i)?.is_ascii_whitespace() {
        i += 1;
    }
    if bytes[i] != b':' {
        return None;
    }
    i += 1;
    while bytes.get(i)?.is_ascii_whitespace() {
        i += 1;
    }
    (bytes[i] == b'{').then_some(i)
}

/// The `}` that closes the object opening at `open`, skipping strings.
fn matching_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_references_become_identifiers_and_the_rest_is_untouched() {
        let coverage = r#"{"resourceType":"Coverage","id":"c1","identifier":[{"type":{"coding":[{"code":"MB"}]},"value":"M-1"}],"class":[{"type":{"coding":[{"code":"group"}]},"name":"Group"},{"type":{"coding":[{"code":"plan"}]},"name":"Gold PPO"}]}"#;
        let eob = "{\"resourceType\": \"ExplanationOfBenefit\", \"id\": \"e1\",\n  \"insurance\": [{\"focal\": true, \"coverage\" : {\n    \"reference\": \"Coverage/c1\"}}],\n  \"note\": [{\"text\": \"the \\\"coverage\\\": {\\\"reference\\\": \\\"Coverage/c1\\\"} in a string\"}]}";
        let files = vec![
            InputFile::from_text("a.ndjson", format!("{coverage}\n")),
            InputFile::from_text("b.json", eob.to_owned()),
        ];
        let out = unlink_coverage(&files).unwrap();
        let rewritten: Value = serde_json::from_slice(&out[1].whole()).unwrap();
        assert_eq!(
            rewritten["insurance"][0]["coverage"],
            json!({"display": "Gold PPO", "identifier": {"type": {"coding": [{"code": "MB"}]}, "value": "M-1"}})
        );
        let original: Value = serde_json::from_str(eob).unwrap();
        assert_eq!(
            rewritten["note"], original["note"],
            "strings are not rewritten"
        );
        assert_eq!(&*out[0].whole(), format!("{coverage}\n").as_bytes());
    }
}
