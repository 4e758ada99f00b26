//! Load-time checks (docs/data.md#load-time-checks): every resource has a resourceType and a valid id, no two resources
//! share a type and id (errors); references that resolve to nothing and resource types the server
//! does not serve are warnings, and unserved resources are left out.

use std::collections::BTreeMap;

use crate::fhir::Dangling;
use crate::json_tree::Node;

use super::loader::LoadError;

/// The type and id of a resource, or why it cannot be loaded. `origin` names it in messages.
pub(super) fn identify<'t>(
    resource: Node<'t, '_>,
    origin: impl Fn() -> String,
) -> Result<(&'t str, &'t str), LoadError> {
    let Some(resource_type) = resource.get("resourceType").and_then(|t| t.as_str()) else {
        return Err(LoadError(format!("{}: missing resourceType", origin())));
    };
    match resource.get("id") {
        None => Err(LoadError(format!(
            "{}: {resource_type} has no id",
            origin()
        ))),
        Some(id) => match id.as_str() {
            Some(id) if is_valid_id(id) => Ok((resource_type, id)),
            _ => Err(LoadError(format!(
                "{}: {resource_type} id {} is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)",
                origin(),
                id.to_value()
            ))),
        },
    }
}

pub(super) fn duplicate(resource: &str, again: &str, first: &str) -> LoadError {
    LoadError(format!(
        "{again}: duplicate {resource} (first defined in {first})"
    ))
}

/// FHIR R4 `id`: `[A-Za-z0-9\-\.]{1,64}`.
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The warnings about what was loaded: unserved types left out, then dangling references.
pub(super) fn warnings(skipped: &BTreeMap<String, usize>, dangling: &Dangling) -> Vec<String> {
    let mut warnings: Vec<String> = skipped
        .iter()
        .map(|(resource_type, count)| {
            format!(
                "{count} {resource_type} resource(s) skipped: payer-sandbox does not serve {resource_type}"
            )
        })
        .collect();
    if dangling.count > 0 {
        warnings.push(format!(
            "{} reference(s) resolve to no loaded resource, e.g. {}",
            dangling.count,
            dangling.examples.join(", ")
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_tree::Tree;
    use serde_json::{Value, json};

    fn identified(resource: Value) -> Result<(String, String), LoadError> {
        let text = resource.to_string();
        let tree = Tree::parse(text.as_bytes()).unwrap();
        identify(tree.root(), || "f0.json".to_owned()).map(|(t, i)| (t.to_owned(), i.to_owned()))
    }

    #[test]
    fn missing_or_bad_ids_are_errors() {
        let err = identified(json!({"resourceType":"Patient"})).unwrap_err();
        assert_eq!(err.0, "f0.json: Patient has no id");
        let err = identified(json!({"resourceType":"Patient","id":"a/b"})).unwrap_err();
        assert!(err.0.contains("not a valid FHIR id"), "{err}");
        assert!(err.0.contains("\"a/b\""), "{err}");
        let err = identified(json!({"resourceType":"Patient","id":7})).unwrap_err();
        assert!(err.0.contains("id 7 is not"), "{err}");
        assert_eq!(
            identified(json!({"resourceType":"Patient","id":"a-1.B"})).unwrap(),
            ("Patient".to_owned(), "a-1.B".to_owned())
        );
    }
}
