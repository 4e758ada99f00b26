//! A plan whose claims do not link to Coverage (docs/plans.md#behaviour-profiles,
//! `eob-coverage-links = false`): before loading, every ExplanationOfBenefit's
//! `insurance.coverage` reference is replaced by the Coverage's member identifier and a
//! display, the shape some payers' claims have (and the default plan's unlinked member's). Apps
//! that assume a resolvable reference meet the difference here.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::loader::LoadError;
use super::sources::InputFile;

/// The files, rewritten. Only JSON and NDJSON data files are read; each is parsed whole, which
/// is fine for the small data sets of a plan.
pub(super) fn unlink_coverage(files: &[InputFile]) -> Result<Vec<InputFile>, LoadError> {
    let mut parsed = Vec::new();
    for file in files {
        let bytes = file.whole();
        let values = if file.name.ends_with(".ndjson") {
            let text = std::str::from_utf8(&bytes)
                .map_err(|e| LoadError(format!("{}: {e}", file.name)))?;
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(serde_json::from_str)
                .collect::<Result<Vec<Value>, _>>()
        } else {
            serde_json::from_slice(&bytes).map(|v| vec![v])
        }
        .map_err(|e| LoadError(format!("{}: {e}", file.name)))?;
        parsed.push((file, values));
    }
    let mut coverages = HashMap::new();
    for (_, values) in &parsed {
        for value in values {
            each_resource(value, &mut |r| {
                if r["resourceType"] == "Coverage" {
                    if let Some(id) = r["id"].as_str() {
                        coverages.insert(format!("Coverage/{id}"), coverage_identifier(r));
                    }
                }
            });
        }
    }
    let mut out = Vec::new();
    for (file, mut values) in parsed {
        for value in &mut values {
            each_resource_mut(value, &mut |r| unlink(r, &coverages));
        }
        let text = if file.name.ends_with(".ndjson") {
            values.iter().map(|v| format!("{v}\n")).collect::<String>()
        } else {
            values.first().map(Value::to_string).unwrap_or_default()
        };
        out.push(InputFile::from_text(&file.name, text));
    }
    Ok(out)
}

/// The Coverage's member ID identifier (type `MB`, else the first) and a display.
fn coverage_identifier(coverage: &Value) -> Value {
    let identifiers = coverage["identifier"].as_array();
    let member = identifiers.and_then(|ids| {
        ids.iter()
            .find(|i| {
                i["type"]["coding"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["code"] == "MB"))
            })
            .or_else(|| ids.first())
    });
    // The plan's name (the class of type `plan`), as the default plan's unlinked claims give it.
    let classes = coverage["class"].as_array();
    let of_type = |code: &str| {
        classes.and_then(|c| {
            c.iter()
                .filter(|c| {
                    c["type"]["coding"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|t| t["code"] == code))
                })
                .find_map(|c| c["name"].as_str())
        })
    };
    let display = of_type("plan")
        .or_else(|| classes.and_then(|c| c.iter().find_map(|c| c["name"].as_str())))
        .or_else(|| coverage["payor"][0]["display"].as_str())
        .unwrap_or("Coverage on file");
    let mut reference = json!({"display": display});
    if let Some(member) = member {
        reference["identifier"] = member.clone();
    } else if let Some(subscriber) = coverage["subscriberId"].as_str() {
        reference["identifier"] = json!({"value": subscriber});
    }
    reference
}

fn unlink(resource: &mut Value, coverages: &HashMap<String, Value>) {
    if resource["resourceType"] != "ExplanationOfBenefit" {
        return;
    }
    let Some(insurance) = resource.get_mut("insurance").and_then(Value::as_array_mut) else {
        return;
    };
    for entry in insurance {
        let target = entry["coverage"]["reference"].as_str().map(str::to_owned);
        if let Some(replacement) = target.and_then(|t| coverages.get(&t)) {
            entry["coverage"] = replacement.clone();
        }
    }
}

fn each_resource(value: &Value, f: &mut impl FnMut(&Value)) {
    match value["entry"].as_array() {
        Some(entries) if value["resourceType"] == "Bundle" => {
            for entry in entries {
                each_resource(&entry["resource"], f);
            }
        }
        _ => f(value),
    }
}

fn each_resource_mut(value: &mut Value, f: &mut impl FnMut(&mut Value)) {
    if value["resourceType"] == "Bundle" {
        if let Some(entries) = value.get_mut("entry").and_then(Value::as_array_mut) {
            for entry in entries {
                if let Some(resource) = entry.get_mut("resource") {
                    each_resource_mut(resource, f);
                }
            }
            return;
        }
    }
    f(value);
}
