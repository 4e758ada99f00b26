//! Reading a search parameter's values out of a resource, once, at load time (docs/fhir-api.md): the
//! paths of `search_params` evaluated on the parsed JSON and turned into comparable index values
//! (tokens, date ranges, references, normalised strings, URIs), borrowed from the resource.

use crate::json_tree::Node;

use super::date::{self, DateRange, OPEN_END, OPEN_START};
use super::search_params::{ParamDef, ParamType};

/// One indexed value of one search parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IndexValue<'a> {
    /// A code, Coding, CodeableConcept coding, Identifier or boolean: `system` is absent for
    /// bare codes.
    Token {
        system: Option<&'a str>,
        code: &'a str,
    },
    Date(DateRange),
    /// A literal reference reduced to type and id (see `Reference::parse`).
    Reference {
        resource_type: &'a str,
        id: &'a str,
    },
    /// As written (trimmed); string search folds case when it compares.
    Text(&'a str),
    Uri(&'a str),
}

/// A literal reference reduced to `type/id` (absolute URLs and `_history` suffixes dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub resource_type: Box<str>,
    pub id: Box<str>,
}

impl Reference {
    /// `Type/id`, `Type/id/_history/v` or `http…/Type/id[/_history/v]`; `#contained`, `urn:`
    /// and bare ids are not literal references to a served resource.
    pub fn parse(text: &str) -> Option<Reference> {
        split_reference(text).map(|(resource_type, id)| Reference {
            resource_type: resource_type.into(),
            id: id.into(),
        })
    }
}

/// `Reference::parse` without copying: the type and id within `text`.
pub fn split_reference(text: &str) -> Option<(&str, &str)> {
    let text = text.trim();
    if text.starts_with('#') || text.starts_with("urn:") {
        return None;
    }
    // Most references have no `_`: no substring search.
    let text = match text
        .as_bytes()
        .contains(&b'_')
        .then(|| text.find("/_history/"))
        .flatten()
    {
        Some(i) => &text[..i],
        None => text,
    };
    let text = text.trim_end_matches('/');
    let (rest, id) = split_last(text, b'/')?;
    let resource_type = split_last(rest, b'/').map_or(rest, |(_, t)| t);
    let starts_upper = resource_type
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase());
    (starts_upper && !id.is_empty()).then_some((resource_type, id))
}

/// `text` around its last `byte` (ASCII), found without the generic substring search, which
/// costs more than the search itself on strings this short.
fn split_last(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().rposition(|b| b == byte)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// `text` around its first `byte` (ASCII).
pub fn split_first(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == byte)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// Appends every value `def` finds in `resource` to `out`.
pub fn values<'t>(resource: Node<'t, '_>, def: &ParamDef, out: &mut Vec<IndexValue<'t>>) {
    for path in def.paths {
        walk(resource, path, &mut |node| match def.kind {
            ParamType::Token => tokens(node, out),
            ParamType::Date => out.extend(date_range(node).map(IndexValue::Date)),
            ParamType::Reference => out.extend(
                node.get("reference")
                    .and_then(|r| r.as_str())
                    .and_then(split_reference)
                    .map(|(resource_type, id)| IndexValue::Reference { resource_type, id }),
            ),
            ParamType::String => texts(node, out),
            ParamType::Uri => out.extend(node.as_str().map(IndexValue::Uri)),
        });
    }
}

/// Calls `found` with each node a dotted path reaches, in document order; arrays are flattened
/// at every step. A step `extension:name` keeps only the extensions of that name.
pub fn walk<'t, 'a>(node: Node<'t, 'a>, path: &str, found: &mut impl FnMut(Node<'t, 'a>)) {
    let (step, rest) = match split_first(path, b'.') {
        Some((step, rest)) => (step, Some(rest)),
        None => (path, None),
    };
    let mut reach = |child: Node<'t, 'a>| {
        let mut each = |item: Node<'t, 'a>| match rest {
            Some(rest) => walk(item, rest, found),
            None => found(item),
        };
        if child.is_array() {
            child.items().for_each(&mut each);
        } else {
            each(child);
        }
    };
    // `extension:name`: the extensions whose `url` is `name` or ends in `/name` (the
    // FHIRPath `extension.where(url = …)` of an IG's SearchParameter, without the dots of a URL
    // in the path).
    if let Some(name) = step.strip_prefix("extension:") {
        if let Some(extensions) = node.get("extension") {
            for item in extensions.items() {
                let url = item.get("url").and_then(|u| u.as_str()).unwrap_or("");
                let named = url == name
                    || url
                        .strip_suffix(name)
                        .is_some_and(|head| head.ends_with('/'));
                if named {
                    match rest {
                        Some(rest) => walk(item, rest, found),
                        None => found(item),
                    }
                }
            }
        }
        return;
    }
    match step.strip_suffix("[x]") {
        Some(prefix) => {
            for (key, child) in node.entries() {
                let typed = key
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.chars().next())
                    .is_some_and(|c| c.is_ascii_uppercase());
                if typed {
                    reach(child);
                }
            }
        }
        None => {
            if let Some(child) = node.get(step) {
                reach(child);
            }
        }
    }
}

fn tokens<'t>(node: Node<'t, '_>, out: &mut Vec<IndexValue<'t>>) {
    let text = |node: Node<'t, '_>, key: &str| node.get(key).and_then(|n| n.as_str());
    if let Some(code) = node.as_str() {
        out.push(IndexValue::Token { system: None, code });
    } else if let Some(b) = node.as_bool() {
        let code = if b { "true" } else { "false" };
        out.push(IndexValue::Token { system: None, code });
    } else if node.is_object() {
        match node.get("coding").filter(|c| c.is_array()) {
            Some(codings) => {
                for coding in codings.items() {
                    if let Some(code) = text(coding, "code") {
                        let system = text(coding, "system");
                        out.push(IndexValue::Token { system, code });
                    }
                }
            }
            None => {
                if let Some(code) = text(node, "value").or_else(|| text(node, "code")) {
                    let system = text(node, "system");
                    out.push(IndexValue::Token { system, code });
                }
            }
        }
    }
}

/// A date, dateTime or instant; a Period from its start's start to its end's end (an open side
/// reaches forever).
pub fn date_range(node: Node<'_, '_>) -> Option<DateRange> {
    if let Some(text) = node.as_str() {
        return date::parse(text);
    }
    if !node.is_object() {
        return None;
    }
    let start = node.get("start").and_then(|n| n.as_str());
    let end = node.get("end").and_then(|n| n.as_str());
    if start.is_none() && end.is_none() {
        return None;
    }
    let start = match start {
        Some(s) => date::parse(s)?.start,
        None => OPEN_START,
    };
    let end = match end {
        Some(e) => date::parse(e)?.end,
        None => OPEN_END,
    };
    Some(DateRange { start, end })
}

fn texts<'t>(node: Node<'t, '_>, out: &mut Vec<IndexValue<'t>>) {
    let mut push = |s: &'t str| out.push(IndexValue::Text(s.trim()));
    if let Some(s) = node.as_str() {
        push(s);
        return;
    }
    for key in [
        "text",
        "family",
        "given",
        "prefix",
        "suffix",
        "line",
        "city",
        "district",
        "state",
        "postalCode",
        "country",
    ] {
        let Some(child) = node.get(key) else { continue };
        match child.as_str() {
            Some(s) => push(s),
            None => child.items().filter_map(|n| n.as_str()).for_each(&mut push),
        }
    }
}

/// String search is case-insensitive (FHIR R4 search "string").
pub fn normalise(text: &str) -> String {
    text.trim().to_lowercase()
}

/// Calls `found` with every `reference` string anywhere in the resource, in document order, for
/// compartment reachability, `$everything` and the load-time check of dangling references.
/// `checked` is false for strings below a `reference` that is not itself a string: they are
/// followed but, being malformed references, not reported as dangling.
pub fn reference_strings<'t>(node: Node<'t, '_>, found: &mut impl FnMut(&'t str, bool)) {
    match node.reference_strings() {
        // Noted while the text was read: the same strings in the same order, without a walk.
        Some(noted) => noted.for_each(|(text, checked)| found(text, checked)),
        None => strings_below(node, true, found),
    }
}

fn strings_below<'t>(node: Node<'t, '_>, checked: bool, found: &mut impl FnMut(&'t str, bool)) {
    if node.is_array() {
        node.items()
            .for_each(|item| strings_below(item, checked, found));
        return;
    }
    for (key, child) in node.entries() {
        match (key, child.as_str()) {
            ("reference", Some(text)) => found(text, checked),
            ("reference", None) => strings_below(child, false, found),
            _ => strings_below(child, checked, found),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::search_params::resource;
    use crate::json_tree::Tree;
    use serde_json::{Value, json};

    /// Calls `check` with what the EOB parameter `name` finds in `eob`.
    fn eob_values(name: &str, eob: &Value, check: impl FnOnce(&[IndexValue<'_>])) {
        let (_, def) = resource("ExplanationOfBenefit").unwrap();
        let text = eob.to_string();
        let tree = Tree::parse(text.as_bytes()).unwrap();
        let mut out = Vec::new();
        values(tree.root(), def.find(name).unwrap().1, &mut out);
        check(&out);
    }

    #[test]
    fn extension_steps_keep_the_named_extensions_only() {
        let role = json!({"extension": [
            {"url": "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/network-reference",
             "valueReference": {"reference": "Organization/net-1"}},
            {"url": "http://example.org/other-network-reference", "valueReference": {"reference": "Organization/x"}},
            {"url": "network-reference", "valueReference": {"reference": "Organization/net-2"}},
        ]});
        let text = role.to_string();
        let tree = Tree::parse(text.as_bytes()).unwrap();
        let mut found = Vec::new();
        walk(
            tree.root(),
            "extension:network-reference.valueReference.reference",
            &mut |n| {
                found.push(n.as_str().unwrap().to_owned());
            },
        );
        assert_eq!(found, ["Organization/net-1", "Organization/net-2"]);
    }

    #[test]
    fn references_are_reduced_to_type_and_id() {
        let r = Reference::parse("http://x/r4/Patient/p1/_history/3").unwrap();
        assert_eq!((&*r.resource_type, &*r.id), ("Patient", "p1"));
        assert!(Reference::parse("#c1").is_none());
        assert!(Reference::parse("p1").is_none());
        assert!(Reference::parse("urn:uuid:1234").is_none());
    }

    #[test]
    fn choice_paths_and_periods() {
        let eob = json!({"resourceType":"ExplanationOfBenefit",
            "billablePeriod":{"start":"2020-01-01"},
            "item":[{"servicedDate":"2020-02-03"},{"servicedPeriod":{"start":"2020-03-01","end":"2020-03-02"}}]});
        eob_values("service-date", &eob, |all| {
            assert_eq!(all.len(), 3);
            assert!(matches!(all[0], IndexValue::Date(r) if r.end == OPEN_END));
        });
        eob_values("billable-period-start", &eob, |v| assert_eq!(v.len(), 1));
        eob_values("service-start-date", &eob, |v| assert_eq!(v.len(), 3));
    }

    #[test]
    fn tokens_from_codings_identifiers_and_codes() {
        let eob = json!({"type":{"coding":[{"system":"s","code":"c"},{"display":"no code"}]},
            "identifier":[{"system":"i","value":"v"}],"status":"active"});
        let token = |system, code| IndexValue::Token { system, code };
        eob_values("type", &eob, |v| assert_eq!(v, [token(Some("s"), "c")]));
        eob_values("identifier", &eob, |v| {
            assert_eq!(v, [token(Some("i"), "v")])
        });
        eob_values("status", &eob, |v| assert_eq!(v, [token(None, "active")]));
    }

    #[test]
    fn reference_strings_note_which_are_checked() {
        let text = json!({"a":{"reference":"Patient/1"},"b":[{"reference":{"reference":"X/2"}}]})
            .to_string();
        let tree = Tree::parse(text.as_bytes()).unwrap();
        let mut found = Vec::new();
        reference_strings(tree.root(), &mut |s, checked| found.push((s, checked)));
        assert_eq!(found, [("Patient/1", true), ("X/2", false)]);
        // The same from a walk (text not in serde_json's form).
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(&text).unwrap()).unwrap();
        let tree = Tree::parse(pretty.as_bytes()).unwrap();
        let mut walked = Vec::new();
        reference_strings(tree.root(), &mut |s, checked| walked.push((s, checked)));
        assert_eq!(walked, found);
    }
}
