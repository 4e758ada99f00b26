//! Reads FHIR JSON from the embedded seed data or a directory: Bundles of any type (their entries'
//! resources are taken, `urn:uuid:` and absolute fullUrl references rewritten to `Type/id`),
//! single resources, and NDJSON. Errors name the file (and line) and the problem; nothing is
//! served half-loaded.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde_json::Value;

use super::Dataset;
use super::validate;

static SEED_DATA: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/seed-data");

#[derive(Debug, Clone)]
pub enum DataSource {
    Embedded,
    Directory(PathBuf),
}

/// Why the data could not be loaded: always names the file and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError(pub String);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

/// One resource and where it came from, for messages.
pub(super) struct Sourced {
    pub resource: Value,
    pub origin: String,
}

pub fn load(source: &DataSource) -> Result<Dataset, LoadError> {
    let files = match source {
        DataSource::Embedded => embedded_files(),
        DataSource::Directory(dir) => directory_files(dir)?,
    };
    let mut sourced = Vec::new();
    for (name, bytes) in &files {
        parse_file(name, bytes, &mut sourced)?;
    }
    validate::check(sourced)
}

fn is_data_file(name: &str) -> bool {
    name.ends_with(".json") || name.ends_with(".ndjson")
}

fn embedded_files() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    collect_embedded(&SEED_DATA, &mut files);
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

fn collect_embedded(dir: &Dir<'static>, out: &mut Vec<(String, Vec<u8>)>) {
    for file in dir.files() {
        let name = file.path().display().to_string();
        if is_data_file(&name) {
            out.push((format!("seed-data/{name}"), file.contents().to_vec()));
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

fn directory_files(root: &Path) -> Result<Vec<(String, Vec<u8>)>, LoadError> {
    let mut paths = Vec::new();
    walk(root, &mut paths)?;
    paths.sort();
    if paths.is_empty() {
        return Err(LoadError(format!(
            "{}: no .json or .ndjson files found",
            root.display()
        )));
    }
    paths
        .into_iter()
        .map(|path| {
            std::fs::read(&path)
                .map(|bytes| (path.display().to_string(), bytes))
                .map_err(|e| LoadError(format!("{}: cannot read: {e}", path.display())))
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| LoadError(format!("{}: cannot read directory: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry
            .map_err(|e| LoadError(format!("{}: cannot read directory: {e}", dir.display())))?;
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_data_file(&path.to_string_lossy()) {
            out.push(path);
        }
    }
    Ok(())
}

fn parse_file(name: &str, bytes: &[u8], out: &mut Vec<Sourced>) -> Result<(), LoadError> {
    if name.ends_with(".ndjson") {
        let text =
            std::str::from_utf8(bytes).map_err(|e| LoadError(format!("{name}: not UTF-8: {e}")))?;
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let origin = format!("{name}:{}", index + 1);
            let value: Value = serde_json::from_str(line).map_err(|e| {
                LoadError(format!(
                    "{origin}: invalid JSON at column {}: {e}",
                    e.column()
                ))
            })?;
            take_resource(value, &origin, out)?;
        }
        return Ok(());
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        LoadError(format!(
            "{name}: invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    take_resource(value, name, out)
}

/// A Bundle contributes its entries' resources; anything else is one resource.
fn take_resource(value: Value, origin: &str, out: &mut Vec<Sourced>) -> Result<(), LoadError> {
    let resource_type = value
        .get("resourceType")
        .and_then(Value::as_str)
        .ok_or_else(|| LoadError(format!("{origin}: missing resourceType")))?;
    if resource_type != "Bundle" {
        out.push(Sourced {
            resource: value,
            origin: origin.to_owned(),
        });
        return Ok(());
    }
    let Value::Object(mut bundle) = value else {
        return Err(LoadError(format!(
            "{origin}: a Bundle must be a JSON object"
        )));
    };
    let entries = match bundle.remove("entry") {
        None => return Ok(()),
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            return Err(LoadError(format!(
                "{origin}: Bundle.entry must be an array"
            )));
        }
    };
    let mut resources = Vec::with_capacity(entries.len());
    let mut aliases = HashMap::new();
    for (index, mut entry) in entries.into_iter().enumerate() {
        let entry_origin = format!("{origin} entry {index}");
        let Some(mut resource) = entry.get_mut("resource").map(Value::take) else {
            return Err(LoadError(format!("{entry_origin}: entry has no resource")));
        };
        let full_url = entry.get("fullUrl").and_then(Value::as_str).unwrap_or("");
        let resource_type = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .ok_or_else(|| LoadError(format!("{entry_origin}: missing resourceType")))?
            .to_owned();
        // Transaction bundles (e.g. Synthea's) identify resources by urn:uuid only.
        if resource.get("id").is_none() {
            if let Some(uuid) = full_url.strip_prefix("urn:uuid:") {
                resource["id"] = Value::String(uuid.to_owned());
            }
        }
        if let Some(id) = resource.get("id").and_then(Value::as_str) {
            if !full_url.is_empty() {
                aliases.insert(full_url.to_owned(), format!("{resource_type}/{id}"));
            }
        }
        resources.push((resource, entry_origin));
    }
    for (mut resource, entry_origin) in resources {
        if !aliases.is_empty() {
            rewrite_references(&mut resource, &aliases);
        }
        if resource.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
            take_resource(resource, &entry_origin, out)?;
        } else {
            out.push(Sourced {
                resource,
                origin: entry_origin,
            });
        }
    }
    Ok(())
}

fn rewrite_references(value: &mut Value, aliases: &HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "reference" {
                    if let Value::String(reference) = child {
                        if let Some(local) = aliases.get(reference.as_str()) {
                            *reference = local.clone();
                        }
                    }
                } else {
                    rewrite_references(child, aliases);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_references(item, aliases)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(name: &str, text: &str) -> Result<Vec<Value>, LoadError> {
        let mut out = Vec::new();
        parse_file(name, text.as_bytes(), &mut out)?;
        Ok(out.into_iter().map(|s| s.resource).collect())
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
    }

    #[test]
    fn transaction_bundles_get_ids_and_local_references() {
        let bundle = json!({"resourceType":"Bundle","type":"transaction","entry":[
            {"fullUrl":"urn:uuid:p1","resource":{"resourceType":"Patient"}},
            {"fullUrl":"urn:uuid:c1","resource":{"resourceType":"Coverage",
              "beneficiary":{"reference":"urn:uuid:p1"}}}
        ]});
        let resources = parse("t.json", &bundle.to_string()).unwrap();
        assert_eq!(resources[0]["id"], "p1");
        assert_eq!(resources[1]["beneficiary"]["reference"], "Patient/p1");
    }

    #[test]
    fn embedded_seed_data_loads_cleanly() {
        let data = load(&DataSource::Embedded).expect("embedded data loads");
        assert!(!data.resources.is_empty());
    }
}
