//! Resolving references at load time: where each resource was added, by type and id, and from
//! that each resource's reference-parameter targets and followed references as store numbers,
//! plus the `Type/id` references that match nothing (reported as a warning).

use super::fx_hash::FxHashMap;
use super::search_params::{RESOURCES, TypeSlot};
use super::store::{Idx, Sym};
use super::store_batch::{Prepared, RawRef};
use super::store_builder::Dangling;
use super::strings::Interner;

/// How many unresolved references are named in `Dangling::examples`.
const EXAMPLES: usize = 5;

/// Positions of resources by type slot and id. Almost every id string names one resource, so
/// the first is kept in a list indexed by the string's number (one memory access, no hashing),
/// and only a second type with the same id goes to a map.
#[derive(Debug, Default)]
pub(super) struct Positions {
    /// `slot << SLOT_SHIFT | position`, or `NONE`.
    first: Vec<u32>,
    others: FxHashMap<(TypeSlot, Sym), u32>,
}

const SLOT_SHIFT: u32 = 27;
const NONE: u32 = u32::MAX;

impl Positions {
    pub(super) fn get(&self, slot: TypeSlot, id: Sym) -> Option<u32> {
        match self.first.get(id.index()) {
            Some(&packed) if packed != NONE && packed >> SLOT_SHIFT == slot.index() as u32 => {
                Some(packed & ((1 << SLOT_SHIFT) - 1))
            }
            _ => self.others.get(&(slot, id)).copied(),
        }
    }

    /// For a type and id not yet present.
    pub(super) fn insert(&mut self, slot: TypeSlot, id: Sym, position: u32) {
        let at = id.index();
        if at >= self.first.len() {
            self.first.resize((at + 1).next_power_of_two(), NONE);
        }
        // Slots below 16 keep every packed value below `NONE`.
        let fits = position < 1 << SLOT_SHIFT && slot.index() < 16;
        match self.first.get_mut(at) {
            Some(packed) if *packed == NONE && fits => {
                *packed = (slot.index() as u32) << SLOT_SHIFT | position;
            }
            _ => {
                self.others.insert((slot, id), position);
            }
        }
    }
}

/// The builder's lists that resolving reads.
#[derive(Clone, Copy)]
pub(super) struct Lists<'b> {
    pub candidates: &'b [(TypeSlot, Sym)],
    pub candidate_offsets: &'b [u32],
    pub refs: &'b [RawRef],
    pub strings: &'b Interner,
}

/// Every resource's reference-parameter targets (laid out like its values: `target_offsets`
/// has the same positions as the values' offsets) and followed references (`reference_spans`
/// in `references`, by position in the order added), as store numbers; and what resolved to
/// nothing.
pub(super) struct Resolved {
    pub targets: Vec<Idx>,
    pub target_offsets: Vec<u32>,
    pub references: Vec<Idx>,
    pub reference_spans: Vec<(u32, u32)>,
    pub dangling: Dangling,
}

/// One part's targets and references, numbered from the part's start.
struct Part {
    targets: Vec<Idx>,
    references: Vec<Idx>,
    dangling: Dangling,
}

impl Lists<'_> {
    /// Resolves every resource's targets and references, in two halves side by side, then
    /// puts them end to end.
    pub(super) fn resolve_all(
        &self,
        resources: &[(u32, Prepared)],
        resolve: &(impl Fn(TypeSlot, Sym) -> Option<Idx> + Sync),
    ) -> Resolved {
        let mut target_offsets = vec![0u32; self.candidate_offsets.len()];
        let mut reference_spans = vec![(0u32, 0u32); resources.len()];
        let half = resources.len() / 2;
        let split = resources
            .get(half)
            .map_or(target_offsets.len(), |(_, r)| r.offsets_at as usize);
        let (first, second) = {
            let (offsets_a, offsets_b) = target_offsets.split_at_mut(split);
            let (spans_a, spans_b) = reference_spans.split_at_mut(half);
            std::thread::scope(|scope| {
                let second = scope
                    .spawn(|| self.resolve(&resources[half..], offsets_b, split, spans_b, resolve));
                let first = self.resolve(&resources[..half], offsets_a, 0, spans_a, resolve);
                (first, second.join().ok())
            })
        };
        let second = match second {
            Some(second) => second,
            None => self.resolve(
                &resources[half..],
                &mut target_offsets[split..],
                split,
                &mut reference_spans[half..],
                resolve,
            ),
        };
        for offset in &mut target_offsets[split..] {
            *offset += first.targets.len() as u32;
        }
        for span in &mut reference_spans[half..] {
            span.0 += first.references.len() as u32;
        }
        let mut targets = first.targets;
        targets.extend_from_slice(&second.targets);
        let mut references = first.references;
        references.extend_from_slice(&second.references);
        let mut dangling = first.dangling;
        dangling.count += second.dangling.count;
        let room = EXAMPLES.saturating_sub(dangling.examples.len());
        dangling
            .examples
            .extend(second.dangling.examples.into_iter().take(room));
        Resolved {
            targets,
            target_offsets,
            references,
            reference_spans,
            dangling,
        }
    }

    /// Resolves the reference-parameter values and the references of consecutive `resources`,
    /// writing their target offsets into `target_offsets` (the part of the offsets that starts
    /// at position `first_offset`) and their reference spans into `reference_spans`.
    fn resolve(
        &self,
        resources: &[(u32, Prepared)],
        target_offsets: &mut [u32],
        first_offset: usize,
        reference_spans: &mut [(u32, u32)],
        resolve: &(impl Fn(TypeSlot, Sym) -> Option<Idx> + Sync),
    ) -> Part {
        let mut out = Part {
            targets: Vec::new(),
            references: Vec::new(),
            dangling: Dangling::default(),
        };
        let mut resolved = Vec::new();
        for ((_, r), span) in resources.iter().zip(reference_spans.iter_mut()) {
            let at = r.offsets_at as usize;
            let params = RESOURCES.get(r.slot.index()).map_or(0, |d| d.param_count());
            for p in at..=at + params {
                if let Some(offset) = target_offsets.get_mut(p - first_offset) {
                    *offset = out.targets.len() as u32;
                }
                if p == at + params {
                    break;
                }
                let range =
                    self.candidate_offsets[p] as usize..self.candidate_offsets[p + 1] as usize;
                resolved.clear();
                resolved.extend(
                    self.candidates[range]
                        .iter()
                        .filter_map(|&(slot, id)| resolve(slot, id)),
                );
                resolved.sort_unstable();
                resolved.dedup();
                out.targets.extend_from_slice(&resolved);
            }

            resolved.clear();
            let start = r.refs_start as usize;
            for raw in &self.refs[start..start + r.refs_len as usize] {
                let target = resolve(raw.slot, raw.id);
                if raw.follow {
                    resolved.extend(target);
                }
                if raw.check && target.is_none() {
                    out.dangling.count += 1;
                    if out.dangling.examples.len() < EXAMPLES {
                        let name = RESOURCES.get(raw.slot.index()).map_or("", |d| d.name);
                        out.dangling
                            .examples
                            .push(format!("{name}/{}", self.strings.get(raw.id)));
                    }
                }
            }
            resolved.sort_unstable();
            resolved.dedup();
            *span = (out.references.len() as u32, resolved.len() as u32);
            out.references.extend_from_slice(&resolved);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_by_slot_and_id() {
        let slot = TypeSlot::from_raw;
        let sym = Sym::new;
        let mut positions = Positions::default();
        positions.insert(slot(3), sym(7), 0);
        positions.insert(slot(4), sym(7), 1);
        positions.insert(slot(3), sym(100), 2);
        positions.insert(slot(20), sym(5), 3);
        assert_eq!(positions.get(slot(3), sym(7)), Some(0));
        assert_eq!(positions.get(slot(4), sym(7)), Some(1));
        assert_eq!(positions.get(slot(3), sym(100)), Some(2));
        assert_eq!(positions.get(slot(20), sym(5)), Some(3));
        assert_eq!(positions.get(slot(5), sym(7)), None);
        assert_eq!(positions.get(slot(3), sym(8)), None);
        assert_eq!(positions.get(slot(3), sym(1000)), None);
    }
}
