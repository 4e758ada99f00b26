//! `_include`, `_revinclude` and their `:iterate` forms (FHIR R4 search §3.1.1.5.4; docs/fhir-api.md#includes):
//! what a page's matches reference, or are referenced by, through the parameters the table
//! declares. Plain forms apply to the page's matches; `:iterate` forms apply again to whatever
//! was added until nothing new turns up. Nothing outside the member's compartment, nor of a
//! type the token may not read, is ever added (docs/access.md#includes-never-leak).

use crate::fhir::compartment::Compartment;
use crate::fhir::fx_hash::FxHashSet;
use crate::fhir::search_params::{self, ParamIndex};
use crate::fhir::store::Idx;

use super::query::{IncludeSpec, SearchRequest};

/// Rounds of `:iterate` before giving up: reference chains in payer data are short.
const MAX_ROUNDS: usize = 8;

pub fn collect(viewer: &Compartment, matches: &[Idx], request: &SearchRequest) -> Vec<Idx> {
    if request.includes.is_empty() && request.revincludes.is_empty() {
        return Vec::new();
    }
    // Every resource looked at once: a page's claims reference the same few resources (the
    // member, the payer, the coverage) over and over, and whether one may be added does not
    // depend on what led to it, so a refused one is not asked about again either.
    let mut seen: FxHashSet<Idx> = matches.iter().copied().collect();
    let mut added = Vec::new();
    let mut frontier = matches.to_vec();
    for round in 0..MAX_ROUNDS {
        let mut next = Vec::new();
        let wanted = |spec: &&IncludeSpec| round == 0 || spec.iterate;
        for spec in request.includes.iter().filter(wanted) {
            let params = params(spec);
            for &n in &frontier {
                forward(viewer, n, spec, &params, |target| {
                    if seen.insert(target) && viewer.may_add(target) {
                        next.push(target);
                    }
                });
            }
        }
        for spec in request.revincludes.iter().filter(wanted) {
            for &n in &frontier {
                for source in reverse(viewer, n, spec) {
                    if seen.insert(source) && viewer.may_add(source) {
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

/// Gives `found` what `n` references through `params`, the spec's parameters (when `n` is of
/// the source type).
fn forward(
    viewer: &Compartment,
    n: Idx,
    spec: &IncludeSpec,
    params: &[ParamIndex],
    mut found: impl FnMut(Idx),
) {
    let entry = viewer.store().entry(n);
    if entry.type_slot != spec.source_slot {
        return;
    }
    for &p in params {
        for &t in entry.targets(p) {
            if spec
                .target
                .is_none_or(|wanted| viewer.store().entry(t).resource_type() == wanted)
            {
                found(t);
            }
        }
    }
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
