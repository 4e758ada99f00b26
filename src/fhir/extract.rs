//! Reading a search parameter's values out of a resource, once, at load time (SPEC §6): the
//! paths of `search_params` evaluated on the JSON and turned into comparable index values
//! (tokens, date ranges, references, normalised strings, URIs).

use serde_json::Value;

use super::date::{self, DateRange, OPEN_END, OPEN_START};
use super::search_params::{ParamDef, ParamType};

/// One indexed value of one search parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexValue {
    /// A code, Coding, CodeableConcept coding, Identifier or boolean: `system` is absent for
    /// bare codes.
    Token {
        system: Option<Box<str>>,
        code: Box<str>,
    },
    Date(DateRange),
    Reference(Reference),
    /// As written (trimmed); string search folds case when it compares.
    Text(Box<str>),
    Uri(Box<str>),
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
        let text = text.trim();
        if text.starts_with('#') || text.starts_with("urn:") {
            return None;
        }
        let text = match text.find("/_history/") {
            Some(i) => &text[..i],
            None => text,
        };
        let mut segments = text.trim_end_matches('/').rsplit('/');
        let id = segments.next()?;
        let resource_type = segments.next()?;
        let starts_upper = resource_type
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase());
        (starts_upper && !id.is_empty()).then(|| Reference {
            resource_type: resource_type.into(),
            id: id.into(),
        })
    }
}

/// Every value `def` finds in `resource`.
pub fn values(resource: &Value, def: &ParamDef) -> Vec<IndexValue> {
    let mut nodes = Vec::new();
    for path in def.paths {
        walk(resource, path, &mut nodes);
    }
    let mut out = Vec::new();
    for node in nodes {
        match def.kind {
            ParamType::Token => tokens(node, &mut out),
            ParamType::Date => out.extend(date_range(node).map(IndexValue::Date)),
            ParamType::Reference => out.extend(
                node.get("reference")
                    .and_then(Value::as_str)
                    .and_then(Reference::parse)
                    .map(IndexValue::Reference),
            ),
            ParamType::String => texts(node, &mut out),
            ParamType::Uri => out.extend(node.as_str().map(|s| IndexValue::Uri(s.into()))),
        }
    }
    out
}

/// The nodes a dotted path reaches; arrays are flattened at every step.
pub fn walk<'a>(resource: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    let mut current = vec![resource];
    for step in path.split('.') {
        let mut next = Vec::new();
        for node in current {
            let Value::Object(map) = node else { continue };
            match step.strip_suffix("[x]") {
                Some(prefix) => {
                    for (key, child) in map {
                        let typed = key
                            .strip_prefix(prefix)
                            .and_then(|rest| rest.chars().next())
                            .is_some_and(|c| c.is_ascii_uppercase());
                        if typed {
                            push_flat(child, &mut next);
                        }
                    }
                }
                None => {
                    if let Some(child) = map.get(step) {
                        push_flat(child, &mut next);
                    }
                }
            }
        }
        current = next;
    }
    out.extend(current);
}

fn push_flat<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => out.extend(items.iter()),
        other => out.push(other),
    }
}

fn tokens(node: &Value, out: &mut Vec<IndexValue>) {
    let token = |system: Option<&str>, code: &str| IndexValue::Token {
        system: system.map(Into::into),
        code: code.into(),
    };
    match node {
        Value::String(code) => out.push(token(None, code)),
        Value::Bool(b) => out.push(token(None, if *b { "true" } else { "false" })),
        Value::Object(map) => {
            if let Some(Value::Array(codings)) = map.get("coding") {
                for coding in codings {
                    if let Some(code) = coding.get("code").and_then(Value::as_str) {
                        out.push(token(coding.get("system").and_then(Value::as_str), code));
                    }
                }
            } else if let Some(value) = map.get("value").and_then(Value::as_str) {
                out.push(token(map.get("system").and_then(Value::as_str), value));
            } else if let Some(code) = map.get("code").and_then(Value::as_str) {
                out.push(token(map.get("system").and_then(Value::as_str), code));
            }
        }
        _ => {}
    }
}

/// A date, dateTime or instant; a Period from its start's start to its end's end (an open side
/// reaches forever).
pub fn date_range(node: &Value) -> Option<DateRange> {
    match node {
        Value::String(text) => date::parse(text),
        Value::Object(map) => {
            let start = map.get("start").and_then(Value::as_str);
            let end = map.get("end").and_then(Value::as_str);
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
        _ => None,
    }
}

fn texts(node: &Value, out: &mut Vec<IndexValue>) {
    let mut push = |s: &str| out.push(IndexValue::Text(s.trim().into()));
    match node {
        Value::String(s) => push(s),
        Value::Object(map) => {
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
                match map.get(key) {
                    Some(Value::String(s)) => push(s),
                    Some(Value::Array(items)) => {
                        items.iter().filter_map(Value::as_str).for_each(&mut push)
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// String search is case-insensitive (FHIR R4 search "string").
pub fn normalise(text: &str) -> String {
    text.trim().to_lowercase()
}

/// Every literal reference anywhere in the resource, for compartment reachability and
/// `$everything`.
pub fn all_references(value: &Value, out: &mut Vec<Reference>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("reference", Value::String(text)) => out.extend(Reference::parse(text)),
                    _ => all_references(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| all_references(item, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::search_params::resource;
    use serde_json::json;

    fn eob_values(name: &str, eob: &Value) -> Vec<IndexValue> {
        let (_, def) = resource("ExplanationOfBenefit").unwrap();
        values(eob, def.find(name).unwrap().1)
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
        let all = eob_values("service-date", &eob);
        assert_eq!(all.len(), 3);
        assert!(matches!(all[0], IndexValue::Date(r) if r.end == OPEN_END));
        let start = eob_values("billable-period-start", &eob);
        assert_eq!(start.len(), 1);
        assert_eq!(eob_values("service-start-date", &eob).len(), 3);
    }

    #[test]
    fn tokens_from_codings_identifiers_and_codes() {
        let eob = json!({"type":{"coding":[{"system":"s","code":"c"},{"display":"no code"}]},
            "identifier":[{"system":"i","value":"v"}],"status":"active"});
        assert_eq!(
            eob_values("type", &eob),
            vec![IndexValue::Token {
                system: Some("s".into()),
                code: "c".into()
            }]
        );
        assert_eq!(
            eob_values("identifier", &eob),
            vec![IndexValue::Token {
                system: Some("i".into()),
                code: "v".into()
            }]
        );
        assert_eq!(
            eob_values("status", &eob),
            vec![IndexValue::Token {
                system: None,
                code: "active".into()
            }]
        );
    }
}
