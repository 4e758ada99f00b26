//! `Patient/{id}/$everything` (SPEC §6; FHIR R4 Patient-everything): the Patient, then every
//! resource of the member's compartment and every shared resource they reference, type by type
//! (each newest first), of the types the token may read; paged by `_count` like a search.
//! `_type` (comma list) and `_since` (instant) narrow it.

use axum::body::Bytes;

use crate::oauth::scopes::Interaction;

use super::access::Viewer;
use super::bundle::{BundleWriter, Mode};
use super::date;
use super::outcome::{Severity, operation_outcome};
use super::search::links::page_links;
use super::search::query::{DEFAULT_COUNT, MAX_COUNT, QueryError};
use super::search::render::Target;
use super::search_params::{self, RESOURCES};
use super::store::Idx;

pub fn everything(
    viewer: &Viewer,
    patient: Idx,
    pairs: &[(String, String)],
    target: &Target,
) -> Result<Bytes, QueryError> {
    let mut count = DEFAULT_COUNT;
    let mut offset = 0;
    let mut types: Option<Vec<usize>> = None;
    let mut since = None;
    let mut ignored = Vec::new();
    let mut echo = Vec::new();
    for (name, value) in pairs {
        if name != "_count" && name != "_offset" {
            echo.push((name.clone(), value.clone()));
        }
        match name.as_str() {
            "_count" => count = number(name, value)?.min(MAX_COUNT),
            "_offset" => offset = number(name, value)?,
            "_type" => {
                let mut slots = Vec::new();
                for t in value.split(',').map(str::trim) {
                    match search_params::resource(t) {
                        Some((slot, _)) => slots.push(slot),
                        None => ignored.push(format!("_type={t}: not a type this server serves")),
                    }
                }
                types = Some(slots);
            }
            "_since" => {
                let range = date::parse(&value.replace(' ', "+"))
                    .ok_or_else(|| QueryError(format!("_since={value}: not a FHIR instant")))?;
                since = Some(range.start);
            }
            "_format" | "_pretty" => {}
            other => ignored.push(format!("{other}: not a parameter of $everything")),
        }
    }
    let wanted = |slot: usize| types.as_ref().is_none_or(|t| t.contains(&slot));
    let recent = |n: &Idx| {
        since.is_none_or(|s| {
            viewer
                .store
                .entry(*n)
                .last_updated
                .is_some_and(|lu| lu >= s)
        })
    };
    let patient_slot = viewer.store.entry(patient).type_slot;
    let mut all: Vec<Idx> = Vec::new();
    if wanted(patient_slot) && recent(&patient) {
        all.push(patient);
    }
    for (slot, def) in RESOURCES.iter().enumerate() {
        if slot == patient_slot || !wanted(slot) || !viewer.permits(def.name, Interaction::Read) {
            continue;
        }
        all.extend(viewer.visible_list(slot).iter().filter(|n| recent(n)));
    }
    let total = all.len();
    let start = offset.min(total);
    let end = start.saturating_add(count).min(total);
    let links = page_links(target.search_url, &echo, count, offset, total);
    let mut bundle = BundleWriter::searchset(target.base, target.now, Some(total), &links);
    for &n in &all[start..end] {
        bundle.entry(&viewer.store.entry(n), Mode::Match, None);
    }
    if !ignored.is_empty() {
        bundle.outcome(&operation_outcome(
            Severity::Warning,
            "not-supported",
            &ignored,
        ));
    }
    Ok(bundle.finish())
}

fn number(name: &str, value: &str) -> Result<usize, QueryError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError(format!(
            "{name}={value}: must be a non-negative integer"
        )));
    }
    Ok(value.parse().unwrap_or(usize::MAX))
}
