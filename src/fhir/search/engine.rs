//! Running a parsed search inside one member's compartment (docs/fhir-api.md, docs/access.md#scope-enforcement): pick the smallest
//! candidate list the indexes offer (the member's resources of the type, an `_id` lookup, or
//! the reverse references of a reference parameter), keep the candidates every filter accepts
//! and the member may see, order them, and cut the requested page. The compartment limit is
//! applied here, before totals and paging, never to a page afterwards.

use std::cmp::Ordering;

use crate::fhir::compartment::{Compartment, Permission};
use crate::fhir::date::Nanos;
use crate::fhir::search_params::{self, ParamIndex, ParamType, TypeSlot};
use crate::fhir::store::{Idx, StoredResource};

use super::include;
use super::matching::matches;
use super::query::{Filter, FilterValue, Modifier, SearchRequest, SortKey, Summary};

#[derive(Debug)]
pub struct Page {
    /// Every match, before paging.
    pub total: usize,
    pub matches: Vec<Idx>,
    pub included: Vec<Idx>,
}

pub fn run(viewer: &Compartment, request: &SearchRequest) -> Page {
    let store = viewer.store();
    let type_slot = viewer.type_slot();
    let compartment = viewer.visible_list(type_slot);
    let (candidates, from_compartment) =
        match narrowest(viewer, type_slot, request, compartment.len()) {
            Some(list) => (list, false),
            None => (compartment.to_vec(), true),
        };
    let mut matched: Vec<Idx> = candidates
        .into_iter()
        .filter(|&n| from_compartment || viewer.sees(n))
        .filter(|&n| viewer.allowed(n, Permission::Search))
        .filter(|&n| {
            let entry = store.entry(n);
            entry.type_slot == type_slot
                && request.filters.iter().all(|f| matches(store, &entry, f))
        })
        .collect();
    if !request.sort.is_empty() {
        matched.sort_by(|&a, &b| {
            compare(&store.entry(a), &store.entry(b), &request.sort).then(a.cmp(&b))
        });
    }
    let mut page = cut(matched, request);
    page.included = include::collect(viewer, &page.matches, request);
    page
}

/// `Patient/{id}/$everything`'s matches: the Patient, then the compartment type by type (each
/// in default order), of the types the rights let the caller read and `_type` names, updated
/// since `_since`; paged like a search.
pub fn run_everything(viewer: &Compartment, patient: Idx, request: &SearchRequest) -> Page {
    let store = viewer.store();
    let wanted = |slot: TypeSlot| request.types.as_ref().is_none_or(|t| t.contains(&slot));
    let recent = |n: &Idx| {
        request
            .since
            .is_none_or(|s| store.entry(*n).last_updated.is_some_and(|lu| lu >= s))
    };
    let patient_slot = store.entry(patient).type_slot;
    let mut all: Vec<Idx> = Vec::new();
    if wanted(patient_slot) && recent(&patient) {
        all.push(patient);
    }
    for (slot, def) in search_params::slots() {
        if slot == patient_slot || !wanted(slot) || !viewer.permits(def.name, Permission::Read) {
            continue;
        }
        all.extend(
            viewer
                .visible_list(slot)
                .iter()
                .filter(|n| recent(n) && viewer.allowed(**n, Permission::Read)),
        );
    }
    cut(all, request)
}

/// The requested page of every match (none for `_summary=count`), and the total.
fn cut(matched: Vec<Idx>, request: &SearchRequest) -> Page {
    let total = matched.len();
    let wanted = if request.summary == Summary::Count {
        0
    } else {
        request.count
    };
    let start = request.offset.min(total);
    let end = start.saturating_add(wanted).min(total);
    Page {
        total,
        matches: matched[start..end].to_vec(),
        included: Vec::new(),
    }
}

/// A candidate list shorter than the compartment's, from an `_id` filter or a reference filter
/// whose every value resolves; `None` when the compartment list is the best start.
fn narrowest(
    viewer: &Compartment,
    type_slot: TypeSlot,
    request: &SearchRequest,
    compartment_len: usize,
) -> Option<Vec<Idx>> {
    let store = viewer.store();
    let mut best: Option<(usize, &Filter)> = None;
    for filter in &request.filters {
        if !matches!(filter.modifier, Modifier::None | Modifier::Type(_)) {
            continue;
        }
        let size = if filter.chain.is_some() {
            Some(
                chain_targets(viewer, filter)
                    .iter()
                    .map(|&t| store.referring(type_slot, filter.param, t).len())
                    .sum(),
            )
        } else if filter.def.name == "_id" {
            Some(filter.values.len())
        } else if filter.def.kind == ParamType::Reference {
            reference_targets(viewer, filter).map(|targets| {
                targets
                    .iter()
                    .map(|&t| store.referring(type_slot, filter.param, t).len())
                    .sum()
            })
        } else {
            None
        };
        if let Some(size) = size {
            if size < compartment_len && best.is_none_or(|(b, _)| size < b) {
                best = Some((size, filter));
            }
        }
    }
    let (_, filter) = best?;
    let mut list: Vec<Idx> = if filter.def.name == "_id" {
        filter
            .values
            .iter()
            .filter_map(|v| match v {
                FilterValue::Token {
                    code: Some(code), ..
                } => store.find(type_slot, code),
                _ => None,
            })
            .collect()
    } else {
        let targets = match filter.chain {
            Some(_) => chain_targets(viewer, filter),
            None => reference_targets(viewer, filter)?,
        };
        targets
            .iter()
            .flat_map(|&t| store.referring(type_slot, filter.param, t).iter().copied())
            .collect()
    };
    list.sort_unstable();
    list.dedup();
    Some(list)
}

/// A chained filter's targets: the resources of the chain's type the inner filter matches, so
/// that the reverse index gives the candidates (`location.address-city=Boston`: the Boston
/// locations, then the roles that reference them) instead of testing every resource.
fn chain_targets(viewer: &Compartment, filter: &Filter) -> Vec<Idx> {
    let Some(chain) = &filter.chain else {
        return Vec::new();
    };
    let store = viewer.store();
    viewer
        .visible_list(chain.target)
        .iter()
        .copied()
        .filter(|&t| matches(store, &store.entry(t), &chain.inner))
        .collect()
}

/// The store numbers a reference filter's values name, or `None` if any value does not resolve
/// to a loaded resource (a textual match might still exist, so the index cannot answer alone).
fn reference_targets(viewer: &Compartment, filter: &Filter) -> Option<Vec<Idx>> {
    let store = viewer.store();
    let mut targets = Vec::new();
    for value in &filter.values {
        let FilterValue::Reference { resource_type, id } = value else {
            return None;
        };
        let types: Vec<&str> = match resource_type {
            Some(t) => vec![t.as_str()],
            None => filter.def.targets.to_vec(),
        };
        let before = targets.len();
        for t in types {
            if let Some(n) = search_params::resource(t).and_then(|(slot, _)| store.find(slot, id)) {
                targets.push(n);
            }
        }
        if targets.len() == before {
            return None;
        }
    }
    Some(targets)
}

fn compare(a: &StoredResource, b: &StoredResource, keys: &[SortKey]) -> Ordering {
    for key in keys {
        let (x, y, descending) = match *key {
            SortKey::LastUpdated { descending } => (a.last_updated, b.last_updated, descending),
            SortKey::Date { param, descending } => (
                date_key(a, param, descending),
                date_key(b, param, descending),
                descending,
            ),
        };
        // Resources without a value sort last in either direction.
        let order = match (x, y) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) if descending => y.cmp(&x),
            (Some(x), Some(y)) => x.cmp(&y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

/// Ascending sorts by the earliest instant of any value, descending by the latest.
fn date_key(entry: &StoredResource, param: ParamIndex, descending: bool) -> Option<Nanos> {
    let ranges = entry.values(param).iter().filter_map(|v| v.date_range());
    if descending {
        ranges.map(|r| r.end).max()
    } else {
        ranges.map(|r| r.start).min()
    }
}
