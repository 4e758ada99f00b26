//! The resources of one unit of input, one at a time and in order: each NDJSON line, each
//! entry of a Bundle of any type (its resources taken, `urn:uuid:` and absolute `fullUrl`
//! references rewritten to `Type/id`, ids given from `urn:uuid:` fullUrls, nested Bundles
//! opened), or a single resource. Each is parsed into a `json_tree::Tree`, never a `Value`, and
//! handed on before the next is read. Errors name the file (and line, and entry) and the problem.

use std::collections::HashMap;

use crate::json_tree::{self, Edits, Node, Tree};

use super::loader::LoadError;
use super::sources::Unit;

/// Where a resource came from, for messages: file, NDJSON line (0 for none), Bundle entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Origin {
    pub file: u32,
    pub line: u32,
    pub entries: Box<[u32]>,
}

impl Origin {
    /// `name`, `name:line`, `name entry 3`, `name:7 entry 0 entry 2`…
    pub fn describe(&self, names: &[String]) -> String {
        let mut text = names.get(self.file as usize).cloned().unwrap_or_default();
        if self.line > 0 {
            text.push_str(&format!(":{}", self.line));
        }
        for entry in &self.entries {
            text.push_str(&format!(" entry {entry}"));
        }
        text
    }

    fn entry(&self, index: usize) -> Origin {
        let mut entries = self.entries.to_vec();
        entries.push(index as u32);
        Origin {
            entries: entries.into(),
            ..*self
        }
    }
}

/// What is done with each resource; an error stops the unit.
pub(super) type Each<'e> = dyn FnMut(Node<'_, '_>, &Origin) -> Result<(), LoadError> + 'e;

/// Calls `each` with every resource of `unit`, in order.
pub(super) fn resources(
    unit: &Unit,
    names: &[String],
    each: &mut Each<'_>,
) -> Result<(), LoadError> {
    let name = names.get(unit.file as usize).map_or("", String::as_str);
    if !unit.is_ndjson() {
        let tree = Tree::parse(&unit.bytes).map_err(|e| {
            LoadError(format!(
                "{name}: invalid JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            ))
        })?;
        let origin = Origin {
            file: unit.file,
            ..Origin::default()
        };
        return take(tree.root(), &origin, names, each);
    }
    let text = std::str::from_utf8(&unit.bytes).map_err(|e| {
        let valid = &unit.bytes[..e.valid_up_to()];
        let newlines = valid.iter().filter(|&&b| b == b'\n').count();
        let column = valid.len() - valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        LoadError(format!(
            "{name}:{}: not UTF-8 (at column {})",
            unit.first_line as usize + newlines,
            column + 1
        ))
    })?;
    let mut tree = Tree::default();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let origin = Origin {
            file: unit.file,
            line: unit.first_line.saturating_add(index as u32),
            entries: Box::default(),
        };
        tree.reparse(line.as_bytes()).map_err(|e| {
            LoadError(format!(
                "{}: invalid JSON at column {}: {e}",
                origin.describe(names),
                e.column()
            ))
        })?;
        take(tree.root(), &origin, names, each)?;
    }
    Ok(())
}

/// A Bundle contributes its entries' resources; anything else is one resource.
fn take(
    resource: Node<'_, '_>,
    origin: &Origin,
    names: &[String],
    each: &mut Each<'_>,
) -> Result<(), LoadError> {
    let fail = |origin: &Origin, problem: &str| {
        Err(LoadError(format!("{}: {problem}", origin.describe(names))))
    };
    let Some(resource_type) = resource.get("resourceType").and_then(|t| t.as_str()) else {
        return fail(origin, "missing resourceType");
    };
    if resource_type != "Bundle" {
        return each(resource, origin);
    }
    let entries = match resource.get("entry") {
        None => return Ok(()),
        Some(entries) if entries.is_array() => entries,
        Some(_) => return fail(origin, "Bundle.entry must be an array"),
    };
    let mut taken = Vec::new();
    let mut aliases = HashMap::new();
    for (index, entry) in entries.items().enumerate() {
        let entry_origin = origin.entry(index);
        let Some(resource) = entry.get("resource") else {
            return fail(&entry_origin, "entry has no resource");
        };
        let full_url = entry.get("fullUrl").and_then(|u| u.as_str()).unwrap_or("");
        let Some(resource_type) = resource.get("resourceType").and_then(|t| t.as_str()) else {
            return fail(&entry_origin, "missing resourceType");
        };
        // Transaction bundles (e.g. Synthea's) identify resources by urn:uuid only.
        let given_id = match resource.get("id") {
            None => full_url.strip_prefix("urn:uuid:"),
            Some(_) => None,
        };
        let id = given_id.or_else(|| resource.get("id").and_then(|i| i.as_str()));
        if let Some(id) = id {
            if !full_url.is_empty() {
                aliases.insert(full_url.to_owned(), format!("{resource_type}/{id}"));
            }
        }
        taken.push((resource, given_id, entry_origin));
    }
    let mut rewritten = Vec::new();
    for (resource, given_id, entry_origin) in taken {
        if aliases.is_empty() && given_id.is_none() {
            take(resource, &entry_origin, names, each)?;
            continue;
        }
        // The edited resource is written out and parsed again: everything after sees one
        // resource, whatever edits it needed.
        rewritten.clear();
        let edits = Edits {
            id: given_id,
            aliases: (!aliases.is_empty()).then_some(&aliases),
            ..Edits::default()
        };
        json_tree::write(&mut rewritten, resource, &edits);
        let tree = Tree::parse(&rewritten)
            .map_err(|e| LoadError(format!("{}: {e}", entry_origin.describe(names))))?;
        take(tree.root(), &entry_origin, names, each)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::borrow::Cow;

    fn parse(name: &str, text: &str) -> Result<Vec<(Value, String)>, LoadError> {
        let unit = Unit {
            file: 0,
            first_line: if name.ends_with(".ndjson") { 1 } else { 0 },
            bytes: Cow::Owned(text.as_bytes().to_vec()),
        };
        let names = [name.to_owned()];
        let mut out = Vec::new();
        resources(&unit, &names, &mut |resource, origin| {
            out.push((resource.to_value(), origin.describe(&names)));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let err = parse("bad.json", "{\n \"resourceType\": \"Patient\",\n oops\n}").unwrap_err();
        assert!(
            err.0.starts_with("bad.json: invalid JSON at line 3"),
            "{err}"
        );
        let err = parse(
            "x.ndjson",
            "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{nope",
        )
        .unwrap_err();
        assert!(err.0.starts_with("x.ndjson:2: invalid JSON"), "{err}");
    }

    #[test]
    fn missing_resource_type_is_an_error() {
        let err = parse("p.json", r#"{"id":"a"}"#).unwrap_err();
        assert_eq!(err.0, "p.json: missing resourceType");
        let bundle = json!({"resourceType":"Bundle","entry":[{"resource":{"id":"x"}}]});
        let err = parse("b.json", &bundle.to_string()).unwrap_err();
        assert_eq!(err.0, "b.json entry 0: missing resourceType");
    }

    #[test]
    fn transaction_bundles_get_ids_and_local_references() {
        let bundle = json!({"resourceType":"Bundle","type":"transaction","entry":[
            {"fullUrl":"urn:uuid:p1","resource":{"resourceType":"Patient"}},
            {"fullUrl":"urn:uuid:c1","resource":{"resourceType":"Coverage",
              "beneficiary":{"reference":"urn:uuid:p1"}}},
            {"resource":{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient",
              "id":"p2","link":[{"other":{"reference":"urn:uuid:p1"}}]}}]}}
        ]});
        let resources = parse("t.json", &bundle.to_string()).unwrap();
        assert_eq!(resources[0].0["id"], "p1");
        assert_eq!(resources[1].0["beneficiary"]["reference"], "Patient/p1");
        assert_eq!(resources[1].1, "t.json entry 1");
        assert_eq!(
            resources[2].0["link"][0]["other"]["reference"],
            "Patient/p1"
        );
        assert_eq!(resources[2].1, "t.json entry 2 entry 0");
    }

    #[test]
    fn ndjson_lines_are_numbered_and_blank_lines_skipped() {
        let text = "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n\n  \n{\"resourceType\":\"Patient\",\"id\":\"b\"}\r\n";
        let resources = parse("p.ndjson", text).unwrap();
        let origins: Vec<_> = resources.iter().map(|(_, o)| o.as_str()).collect();
        assert_eq!(origins, ["p.ndjson:1", "p.ndjson:4"]);
    }
}
