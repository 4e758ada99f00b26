//! Load-time checks (SPEC §8): every resource has a resourceType and a valid id, no two resources
//! share a type and id (errors); references that resolve to nothing and resource types the server
//! does not serve are warnings, and unserved resources are left out.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::Dataset;
use super::loader::{LoadError, Sourced};
use crate::fhir::resource_types::is_supported;

/// How many unresolved references are spelled out before the rest are only counted.
const SHOWN_DANGLING: usize = 5;

pub(super) fn check(sourced: Vec<Sourced>) -> Result<Dataset, LoadError> {
    let mut seen: HashMap<(String, String), String> = HashMap::new();
    let mut skipped: HashMap<String, usize> = HashMap::new();
    let mut resources = Vec::with_capacity(sourced.len());
    for Sourced { resource, origin } in sourced {
        let resource_type = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .ok_or_else(|| LoadError(format!("{origin}: missing resourceType")))?
            .to_owned();
        let id = match resource.get("id") {
            None => return Err(LoadError(format!("{origin}: {resource_type} has no id"))),
            Some(Value::String(id)) if is_valid_id(id) => id.clone(),
            Some(other) => {
                return Err(LoadError(format!(
                    "{origin}: {resource_type} id {other} is not a valid FHIR id \
                     (1-64 of A-Z a-z 0-9 - .)"
                )));
            }
        };
        if !is_supported(&resource_type) {
            *skipped.entry(resource_type).or_default() += 1;
            continue;
        }
        if let Some(first) = seen.insert((resource_type.clone(), id.clone()), origin.clone()) {
            return Err(LoadError(format!(
                "{origin}: duplicate {resource_type}/{id} (first defined in {first})"
            )));
        }
        resources.push(resource);
    }

    let mut warnings = Vec::new();
    let mut skipped: Vec<_> = skipped.into_iter().collect();
    skipped.sort();
    for (resource_type, count) in skipped {
        warnings.push(format!(
            "{count} {resource_type} resource(s) skipped: payer-sandbox does not serve {resource_type}"
        ));
    }
    let known: HashSet<(&str, &str)> = seen.keys().map(|(t, i)| (t.as_str(), i.as_str())).collect();
    let mut dangling = Vec::new();
    for resource in &resources {
        collect_dangling(resource, &known, &mut dangling);
    }
    if !dangling.is_empty() {
        let shown: Vec<_> = dangling.iter().take(SHOWN_DANGLING).cloned().collect();
        warnings.push(format!(
            "{} reference(s) resolve to no loaded resource, e.g. {}",
            dangling.len(),
            shown.join(", ")
        ));
    }
    Ok(Dataset {
        resources,
        warnings,
    })
}

/// FHIR R4 `id`: `[A-Za-z0-9\-\.]{1,64}`.
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Relative `Type/id` references whose target is a served type but is not loaded.
fn collect_dangling(value: &Value, known: &HashSet<(&str, &str)>, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "reference" {
                    if let Some((t, i)) = child.as_str().and_then(|r| r.split_once('/')) {
                        if is_supported(t) && !i.contains('/') && !known.contains(&(t, i)) {
                            out.push(format!("{t}/{i}"));
                        }
                    }
                } else {
                    collect_dangling(child, known, out);
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_dangling(item, known, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sourced(values: Vec<Value>) -> Vec<Sourced> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, resource)| Sourced {
                resource,
                origin: format!("f{i}.json"),
            })
            .collect()
    }

    #[test]
    fn duplicates_are_errors_naming_both_files() {
        let err = check(sourced(vec![
            json!({"resourceType":"Patient","id":"a"}),
            json!({"resourceType":"Patient","id":"a"}),
        ]))
        .unwrap_err();
        assert_eq!(
            err.0,
            "f1.json: duplicate Patient/a (first defined in f0.json)"
        );
    }

    #[test]
    fn missing_or_bad_ids_are_errors() {
        let err = check(sourced(vec![json!({"resourceType":"Patient"})])).unwrap_err();
        assert_eq!(err.0, "f0.json: Patient has no id");
        let err = check(sourced(vec![json!({"resourceType":"Patient","id":"a/b"})])).unwrap_err();
        assert!(err.0.contains("not a valid FHIR id"), "{err}");
    }

    #[test]
    fn dangling_references_and_unserved_types_warn() {
        let data = check(sourced(vec![
            json!({"resourceType":"Coverage","id":"c","beneficiary":{"reference":"Patient/gone"}}),
            json!({"resourceType":"Claim","id":"x"}),
        ]))
        .unwrap();
        assert_eq!(data.resources.len(), 1);
        assert_eq!(data.warnings.len(), 2);
        assert!(data.warnings[0].contains("Claim"));
        assert!(data.warnings[1].contains("Patient/gone"));
    }
}
