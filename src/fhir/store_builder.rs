//! Building the store from batches (docs/fhir-api.md, docs/access.md#member-compartment, docs/data.md): batches are joined in the order given
//! (which decides nothing but which of two resources with the same type and id is the
//! duplicate), then `finish` numbers the resources in the default order (newest
//! `meta.lastUpdated` first, undated last, ties by id, then type), resolves references
//! (`store_resolve`), and builds the id lookup, the reverse index and each Patient's
//! compartment.

use std::time::Instant;

use bytes::Bytes;
use hashbrown::HashTable;

use super::date::{Nanos, OPEN_END};
use super::fx_hash::FxHashMap;
use super::search_params::{RESOURCES, TypeSlot};
use super::store::{Idx, Indexed, NO_SYSTEM, Record, Store, Sym, global_param, id_hash, narrow};
use super::store_batch::{Batch, Prepared, RawRef};
use super::store_resolve::{Lists, Positions, Resolved};
use super::strings::Interner;

/// A resource whose type and id were already added: both as positions in the order added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// `Type/id`.
    pub resource: String,
    pub first: usize,
    pub again: usize,
}

/// `Type/id` references to served types that match no loaded resource.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dangling {
    pub count: usize,
    /// The first few, in the order the resources were added.
    pub examples: Vec<String>,
}

#[derive(Debug, Default)]
pub struct StoreBuilder {
    strings: Interner,
    segments: Vec<Bytes>,
    /// In the order added; `segment` is the batch's JSON (or its input) in `segments`.
    resources: Vec<(u32, Prepared)>,
    values: Vec<Indexed>,
    value_offsets: Vec<u32>,
    candidates: Vec<(TypeSlot, Sym)>,
    candidate_offsets: Vec<u32>,
    refs: Vec<RawRef>,
    /// `(type slot, id)` → position in `resources`.
    by_id: Positions,
}

impl StoreBuilder {
    /// A builder expecting about `json_bytes` of input. Its lists are reserved up front from
    /// the densities of claims data, so that they rarely grow (growing the string table
    /// rehashes every string so far); room never used is never touched.
    pub fn with_capacity(json_bytes: usize) -> StoreBuilder {
        StoreBuilder {
            strings: Interner::with_capacity(json_bytes / 2048),
            resources: Vec::with_capacity(json_bytes / 4096),
            values: Vec::with_capacity(json_bytes / 256),
            value_offsets: Vec::with_capacity(json_bytes / 256),
            candidates: Vec::with_capacity(json_bytes / 1024),
            candidate_offsets: Vec::with_capacity(json_bytes / 256),
            refs: Vec::with_capacity(json_bytes / 512),
            ..StoreBuilder::default()
        }
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// Adds a batch's resources after those already added. On a duplicate, the resources of
    /// the batch before it are in and the builder should be dropped.
    pub fn append(&mut self, batch: Batch) -> Result<(), Duplicate> {
        let Batch {
            strings,
            mut json,
            input,
            resources,
            values,
            value_offsets,
            candidates,
            candidate_offsets,
            refs,
        } = batch;
        let syms: Vec<Sym> = strings.iter().map(|s| self.strings.intern(s)).collect();
        let sym = |s: Sym| syms.get(s.index()).copied().unwrap_or(NO_SYSTEM);

        let segment = self.segments.len() as u32;
        json.shrink_to_fit();
        self.segments.push(Bytes::from(json));
        // Resources served from the batch's input: the input is a segment too, shared, not
        // copied (`Bytes::from_static`).
        let input_segment = match input {
            Some(input) if resources.iter().any(|r| r.in_input) => {
                self.segments.push(Bytes::from_static(input));
                segment + 1
            }
            _ => segment,
        };
        let values_base = self.values.len() as u32;
        let offsets_base = self.value_offsets.len() as u32;
        let candidates_base = self.candidates.len() as u32;
        let refs_base = self.refs.len() as u32;
        self.values
            .extend(values.iter().map(|v| renumber(*v, &sym)));
        self.value_offsets
            .extend(value_offsets.iter().map(|o| o + values_base));
        self.candidates
            .extend(candidates.iter().map(|&(slot, id)| (slot, sym(id))));
        self.candidate_offsets
            .extend(candidate_offsets.iter().map(|o| o + candidates_base));
        self.refs.extend(refs.iter().map(|r| RawRef {
            id: sym(r.id),
            ..*r
        }));
        for resource in resources {
            let id = sym(resource.id);
            let again = self.resources.len();
            if let Some(first) = self.by_id.get(resource.slot, id) {
                let name = RESOURCES.get(resource.slot.index()).map_or("", |d| d.name);
                return Err(Duplicate {
                    resource: format!("{name}/{}", self.strings.get(id)),
                    first: first as usize,
                    again,
                });
            }
            self.by_id.insert(resource.slot, id, again as u32);
            self.resources.push((
                if resource.in_input {
                    input_segment
                } else {
                    segment
                },
                Prepared {
                    id,
                    version_id: sym(resource.version_id),
                    offsets_at: resource.offsets_at + offsets_base,
                    refs_start: resource.refs_start + refs_base,
                    ..resource
                },
            ));
        }
        Ok(())
    }

    /// The store, and the references that resolved to nothing.
    pub fn finish(self) -> (Store, Dangling) {
        let StoreBuilder {
            strings,
            segments,
            resources,
            values,
            value_offsets,
            candidates,
            candidate_offsets,
            refs,
            by_id,
        } = self;

        let started = Instant::now();
        // Default order: newest first (undated last), then id, then type (docs/fhir-api.md#order).
        // The keys side by side, so that sorting reads memory in order; undated sorts as the
        // oldest possible instant, which no date reaches.
        let mut keys: Vec<SortKey> = resources
            .iter()
            .enumerate()
            .map(|(i, (_, r))| SortKey {
                last_updated: r.last_updated.unwrap_or(Nanos::MIN),
                id: r.id,
                slot: r.slot,
                position: i as u32,
            })
            .collect();
        keys.sort_unstable_by(|a, b| {
            b.last_updated
                .cmp(&a.last_updated)
                .then_with(|| match a.id == b.id {
                    true => std::cmp::Ordering::Equal,
                    false => strings.get(a.id).cmp(strings.get(b.id)),
                })
                .then(a.slot.cmp(&b.slot))
        });
        let order: Vec<u32> = keys.iter().map(|k| k.position).collect();
        drop(keys);
        let mut rank = vec![Idx::new(0); resources.len()];
        for (n, &i) in order.iter().enumerate() {
            rank[i as usize] = Idx::new(n);
        }
        let resolve = |slot: TypeSlot, id: Sym| by_id.get(slot, id).map(|i| rank[i as usize]);
        let sorted_at = started.elapsed();

        // Targets of reference parameters, laid out like the values (same offsets), and every
        // reference followed.
        let lists = Lists {
            candidates: &candidates,
            candidate_offsets: &candidate_offsets,
            refs: &refs,
            strings: &strings,
        };
        let Resolved {
            targets,
            target_offsets,
            references,
            reference_spans,
            dangling,
        } = lists.resolve_all(&resources, &resolve);
        drop(candidates);
        drop(refs);
        drop(by_id);

        let records: Vec<Record> = order
            .iter()
            .map(|&i| {
                let (segment, r) = &resources[i as usize];
                let (references_start, references_len) = reference_spans[i as usize];
                Record {
                    type_slot: r.slot,
                    id: r.id,
                    version_id: r.version_id,
                    last_updated: r.last_updated.map(|lu: Nanos| narrow(lu, OPEN_END)),
                    segment: *segment,
                    json_start: r.json_start,
                    json_len: r.json_len,
                    offsets_at: r.offsets_at,
                    references_start,
                    references_len,
                }
            })
            .collect();
        drop(resources);

        let distinct_strings = strings.len();
        let (text, spans) = strings.into_parts();
        let mut store = Store {
            records,
            segments,
            text,
            spans,
            values,
            value_offsets,
            targets,
            target_offsets,
            references,
            ..Store::default()
        };
        let resolved_at = started.elapsed();
        // Three passes that only read the store, side by side.
        let (ids, reverse, visible) = std::thread::scope(|scope| {
            let ids = scope.spawn(|| id_table(&store));
            let visible = scope.spawn(|| store.compartments());
            let reverse = reverse_index(&store);
            let ids = ids.join().unwrap_or_else(|_| id_table(&store));
            let visible = visible.join().unwrap_or_else(|_| store.compartments());
            (ids, reverse, visible)
        });
        store.by_id = ids;
        store.reverse = reverse;
        store.visible = visible;
        tracing::debug!(
            resources = store.len(),
            strings = distinct_strings,
            text_bytes = store.text.len(),
            sort_ms = sorted_at.as_millis() as u64,
            resolve_ms = (resolved_at - sorted_at).as_millis() as u64,
            index_ms = (started.elapsed() - resolved_at).as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "store built"
        );
        (store, dangling)
    }
}

/// What the default order compares, for one resource.
struct SortKey {
    last_updated: Nanos,
    id: Sym,
    slot: TypeSlot,
    /// In the order added.
    position: u32,
}

/// The builder's string numbers for a batch's.
fn renumber(value: Indexed, sym: &impl Fn(Sym) -> Sym) -> Indexed {
    match value {
        Indexed::Token { system, code } => Indexed::Token {
            system: if system == NO_SYSTEM {
                NO_SYSTEM
            } else {
                sym(system)
            },
            code: sym(code),
        },
        Indexed::Date { .. } => value,
        Indexed::Reference { resource_type, id } => Indexed::Reference {
            resource_type: sym(resource_type),
            id: sym(id),
        },
        Indexed::Text(t) => Indexed::Text(sym(t)),
        Indexed::Uri(u) => Indexed::Uri(sym(u)),
    }
}

/// Every resource by type and id, for `Store::find`.
fn id_table(store: &Store) -> HashTable<Idx> {
    let hash = |n: Idx| {
        store
            .records
            .get(n.index())
            .map_or(0, |r| id_hash(r.type_slot, store.text(r.id)))
    };
    let mut table = HashTable::with_capacity(store.records.len());
    for n in (0..store.records.len()).map(Idx::new) {
        table.insert_unique(hash(n), n, |&n| hash(n));
    }
    table
}

/// `(global parameter, target)` → the resources whose parameter references the target, in
/// store order.
fn reverse_index(store: &Store) -> FxHashMap<(u16, Idx), Vec<Idx>> {
    let mut reverse: FxHashMap<(u16, Idx), Vec<Idx>> = FxHashMap::default();
    for n in (0..store.len()).map(Idx::new) {
        let entry = store.numbers_of(n);
        let Some(def) = RESOURCES.get(entry.type_slot.index()) else {
            continue;
        };
        for (index, _) in def.reference_params() {
            for &target in entry.targets(index) {
                reverse
                    .entry((global_param(entry.type_slot, index), target))
                    .or_default()
                    .push(n);
            }
        }
    }
    reverse
}

#[cfg(test)]
mod tests {
    use super::testing::store_of;
    use super::*;
    use serde_json::json;

    /// Resolved in two halves, joined: the dangling references are counted and named in the
    /// order the resources were added, and references resolve across the halves.
    #[test]
    fn dangling_references_in_order_and_targets_across_halves() {
        let mut resources = vec![json!({"resourceType":"Patient","id":"p"})];
        for i in 0..9 {
            resources.push(json!({"resourceType":"Coverage","id":format!("c{i}"),
                "beneficiary":{"reference":"Patient/p"},
                "payor":[{"reference":format!("Organization/gone{i}")}]}));
        }
        let (store, dangling) = store_of(&resources);
        assert_eq!(dangling.count, 9);
        assert_eq!(
            dangling.examples,
            (0..5)
                .map(|i| format!("Organization/gone{i}"))
                .collect::<Vec<_>>()
        );
        let p = store.patient("p").unwrap();
        let (coverage, def) = crate::fhir::search_params::resource("Coverage").unwrap();
        let (beneficiary, _) = def.find("beneficiary").unwrap();
        assert_eq!(store.referring(coverage, beneficiary, p).len(), 9);
        for n in (0..store.len()).map(Idx::new) {
            let entry = store.entry(n);
            if entry.type_slot == coverage {
                assert_eq!(entry.targets(beneficiary), [p]);
                assert_eq!(entry.references(), [p]);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::fhir::search_params;
    use crate::json_tree::Tree;
    use serde_json::Value;

    /// A store of the given resources (served types, distinct ids), for tests.
    pub fn store_of(resources: &[Value]) -> (Store, Dangling) {
        let mut batch = Batch::default();
        for resource in resources {
            let text = resource.to_string();
            let tree = Tree::parse(text.as_bytes()).unwrap();
            let (slot, _) =
                search_params::resource(resource["resourceType"].as_str().unwrap()).unwrap();
            batch
                .add(tree.root(), slot, resource["id"].as_str().unwrap())
                .unwrap();
        }
        let mut builder = StoreBuilder::default();
        builder.append(batch).unwrap();
        builder.finish()
    }
}
