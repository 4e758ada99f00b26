//! `_include`, `_revinclude` and their `:iterate` forms (FHIR R4 search §3.1.1.5.4; docs/fhir-api.md#includes):
//! what a page's matches reference, or are referenced by, through the parameters the table
//! declares. Plain forms apply to the page's matches; `:iterate` forms apply again to whatever
//! was added until nothing new turns up. Nothing outside the member's compartment, nor of a
//! type the token may not read, is ever added (docs/access.md#includes-never-leak).

use std::collections::HashSet;

use crate::fhir::compartment::Compartment;
use crate::fhir::search_params::{self, ParamIndex};
use crate::fhir::store::Idx;

use super::query::{IncludeSpec, SearchRequest};

/// Rounds of `:iterate` before giving up: reference chains in payer data are short.
const MAX_ROUNDS: usize = 8;

pub fn collect(viewer: &Compartment, matches: &[Idx], request: &SearchRequest) -> Vec<Idx> {
    if request.includes.is_empty() && request.revincludes.is_empty() {
        return Vec::new();
    }
    let mut seen: HashSet<Idx> = matches.iter().copied().collect();
    let mut added = Vec::new();
    let mut frontier = matches.to_vec();
    for round in 0..MAX_ROUNDS {
        let mut next = Vec::new();
        let wanted = |spec: &&IncludeSpec| round == 0 || spec.iterate;
        for spec in request.includes.iter().filter(wanted) {
            for &n in &frontier {
                for target in forward(viewer, n, spec) {
                    if viewer.may_add(target) && seen.insert(target) {
                        next.push(target);
                    }
                }
            }
        }
        for spec in request.revincludes.iter().filter(wanted) {
            for &n in &frontier {
                for source in reverse(viewer, n, spec) {
                    if viewer.may_add(source) && seen.insert(source) {
                        next.push(source);
                    }
                }
            }
        }
        if next.is_empty() {
            break;
        }
        added.extend_from_slice(&next);
        frontier = next;
    }
    added
}

/// The parameters a spec names on its source type: one, or every reference parameter for `*`.
fn params(spec: &IncludeSpec) -> Vec<ParamIndex> {
    match (spec.param, search_params::by_slot(spec.source_slot)) {
        (Some(p), _) => vec![p],
        (None, Some(def)) => def.reference_params().map(|(i, _)| i).collect(),
        (None, None) => Vec::new(),
    }
}

/// What `n` references through the spec's parameters (when `n` is of the source type).
fn forward(viewer: &Compartment, n: Idx, spec: &IncludeSpec) -> Vec<Idx> {
    let entry = viewer.store().entry(n);
    if entry.type_slot != spec.source_slot {
        return Vec::new();
    }
    params(spec)
        .into_iter()
        .flat_map(|p| entry.targets(p).iter().copied())
        .filter(|&t| {
            spec.target
                .is_none_or(|wanted| viewer.store().entry(t).resource_type() == wanted)
        })
        .collect()
}

/// The resources of the spec's source type that reference `n` through its parameters. Reads
/// whichever is shorter: the reverse index for `n`, or the member's resources of the source
/// type (a payer Organization is referenced by every member's claims).
fn reverse(viewer: &Compartment, n: Idx, spec: &IncludeSpec) -> Vec<Idx> {
    let store = viewer.store();
    if spec
        .target
        .is_some_and(|wanted| store.entry(n).resource_type() != wanted)
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    for p in params(spec) {
        let referring = store.referring(spec.source_slot, p, n);
        let own = viewer.visible_list(spec.source_slot);
        if referring.len() <= own.len() {
            out.extend_from_slice(referring);
        } else {
            out.extend(
                own.iter()
                    .copied()
                    .filter(|&s| store.entry(s).targets(p).binary_search(&n).is_ok()),
            );
        }
    }
    out
}
