//! The in-memory resource store (docs/fhir-api.md, docs/access.md#member-compartment, docs/data.md), built once at start-up and read-only after:
//! every resource serialised once (the bytes reads and bundles send), its search-parameter values
//! indexed, references resolved in both directions, and each Patient's compartment listed per
//! type, so that a search costs time in proportion to one member's data, never to the data set.
//!
//! Resources are numbered in the default result order (newest `meta.lastUpdated` first, ties by
//! id), so any list of numbers kept sorted is already in that order. `StoreBuilder` builds it.

use bytes::Bytes;
use hashbrown::HashTable;

use super::date::{DateRange, Nanos, OPEN_END, OPEN_START};
use super::fx_hash::{FxHashMap, FxHashSet, hash_str};
use super::search_params::{self, ParamIndex, RESOURCES, TypeSlot};

/// A resource's number in the store. A newtype, so that it cannot be passed where a string,
/// a type slot or a parameter position is expected; ordered as the numbers are, which is the
/// default result order (sorted lists of them are searched with `binary_search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Idx(u32);

impl Idx {
    /// The resource numbered `n` (the store holds fewer than 2^32).
    pub(super) fn new(n: usize) -> Idx {
        Idx(n as u32)
    }

    /// The number, for indexing the store's per-resource lists.
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }
}

/// A string in the store's string arena (or a batch's, while loading). A newtype, so that it
/// cannot be passed where a resource number is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Sym(u32);

impl Sym {
    /// The string numbered `n` (an arena holds fewer than 2^32).
    pub(super) fn new(n: usize) -> Sym {
        Sym(n as u32)
    }

    /// The number, for indexing the arena's spans.
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }
}

/// `Indexed::Token::system` of a bare code.
pub const NO_SYSTEM: Sym = Sym(u32::MAX);

/// Types a member may read when one of the member's resources references them (docs/access.md#member-compartment).
const SHARED_WHEN_REFERENCED: &[&str] = &[
    "Location",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "RelatedPerson",
];

/// An indexed search value, compact: strings live once in the store's arena, and instants are
/// nanoseconds in an `i64` (years 1678-2261; `i64::MIN`/`i64::MAX` stand for an open side), so
/// that millions of values cost little memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indexed {
    Token { system: Sym, code: Sym },
    Date { start: i64, end: i64 },
    Reference { resource_type: Sym, id: Sym },
    Text(Sym),
    Uri(Sym),
}

impl Indexed {
    pub fn date(range: DateRange) -> Indexed {
        Indexed::Date {
            start: narrow(range.start, OPEN_START),
            end: narrow(range.end, OPEN_END),
        }
    }

    pub fn date_range(&self) -> Option<DateRange> {
        match *self {
            Indexed::Date { start, end } => Some(DateRange {
                start: if start == i64::MIN {
                    OPEN_START
                } else {
                    Nanos::from(start)
                },
                end: if end == i64::MAX {
                    OPEN_END
                } else {
                    Nanos::from(end)
                },
            }),
            _ => None,
        }
    }
}

/// Open sides map to the sentinels; real instants are clamped just inside them.
pub(super) fn narrow(n: Nanos, open: Nanos) -> i64 {
    if n == open {
        return if open == OPEN_START {
            i64::MIN
        } else {
            i64::MAX
        };
    }
    n.clamp(Nanos::from(i64::MIN + 1), Nanos::from(i64::MAX - 1)) as i64
}

#[derive(Debug)]
pub(super) struct Record {
    pub type_slot: TypeSlot,
    pub id: Sym,
    pub version_id: Sym,
    pub last_updated: Option<i64>,
    /// The served JSON (with `meta.versionId` filled in): a span of `segments[segment]`.
    pub segment: u32,
    pub json_start: u32,
    pub json_len: u32,
    /// Where this resource's `param_count + 1` offsets start in `value_offsets` and
    /// `target_offsets`.
    pub offsets_at: u32,
    /// Every resolved reference anywhere in the resource, in `references`.
    pub references_start: u32,
    pub references_len: u32,
}

/// One stored resource, as the search, include and read code sees it.
#[derive(Clone, Copy)]
pub struct StoredResource<'a> {
    store: &'a Store,
    record: &'a Record,
    number: Idx,
    pub type_slot: TypeSlot,
    pub id: &'a str,
    pub version_id: &'a str,
    pub last_updated: Option<Nanos>,
}

impl<'a> StoredResource<'a> {
    /// The resource's number in the store.
    pub(in crate::fhir) fn number(&self) -> Idx {
        self.number
    }

    pub fn resource_type(&self) -> &'static str {
        RESOURCES[self.type_slot.index()].name
    }

    /// The served JSON, shared without copying.
    pub fn json(&self) -> Bytes {
        match self.store.segments.get(self.record.segment as usize) {
            Some(segment) => segment.slice(self.json_range()),
            None => Bytes::new(),
        }
    }

    pub fn json_bytes(&self) -> &'a [u8] {
        self.store
            .segments
            .get(self.record.segment as usize)
            .and_then(|segment| segment.get(self.json_range()))
            .unwrap_or_default()
    }

    fn json_range(&self) -> std::ops::Range<usize> {
        let start = self.record.json_start as usize;
        start..start + self.record.json_len as usize
    }

    /// The values of one search parameter of the type (by `ParamIndex`).
    pub(in crate::fhir) fn values(&self, param: ParamIndex) -> &'a [Indexed] {
        let at = self.record.offsets_at as usize + param.index();
        match (
            self.store.value_offsets.get(at),
            self.store.value_offsets.get(at + 1),
        ) {
            (Some(&a), Some(&b))
                if param.index() < RESOURCES[self.type_slot.index()].param_count() =>
            {
                &self.store.values[a as usize..b as usize]
            }
            _ => &[],
        }
    }

    /// The store numbers one reference parameter's values resolve to, sorted.
    pub(in crate::fhir) fn targets(&self, param: ParamIndex) -> &'a [Idx] {
        let at = self.record.offsets_at as usize + param.index();
        match (
            self.store.target_offsets.get(at),
            self.store.target_offsets.get(at + 1),
        ) {
            (Some(&a), Some(&b))
                if param.index() < RESOURCES[self.type_slot.index()].param_count() =>
            {
                &self.store.targets[a as usize..b as usize]
            }
            _ => &[],
        }
    }

    pub(in crate::fhir) fn references(&self) -> &'a [Idx] {
        let start = self.record.references_start as usize;
        &self.store.references[start..start + self.record.references_len as usize]
    }
}

/// What one Patient's token may see, per type slot, each list sorted (so in default order).
#[derive(Debug, Default)]
pub(super) struct Visible {
    by_type: Vec<Vec<Idx>>,
}

#[derive(Debug, Default)]
pub struct Store {
    pub(super) records: Vec<Record>,
    /// The served resources' JSON, back to back in a few large allocations (one per batch the
    /// loader made), sliced per resource.
    pub(super) segments: Vec<Bytes>,
    pub(super) text: String,
    pub(super) spans: Vec<(u32, u32)>,
    pub(super) values: Vec<Indexed>,
    pub(super) value_offsets: Vec<u32>,
    pub(super) targets: Vec<Idx>,
    pub(super) target_offsets: Vec<u32>,
    pub(super) references: Vec<Idx>,
    /// Every resource, found by the hash of its type slot and id (`id_hash`).
    pub(super) by_id: HashTable<Idx>,
    /// `(global parameter, target)` → the resources whose parameter references the target.
    pub(super) reverse: FxHashMap<(u16, Idx), Vec<Idx>>,
    /// Patient number → what a token for that Patient may see.
    pub(super) visible: FxHashMap<Idx, Visible>,
    /// Every resource of each type slot, in default order: what a public API searches. Worked
    /// out on first use, so that the member data, which never needs it, pays nothing.
    pub(super) by_type: std::sync::OnceLock<Vec<Vec<Idx>>>,
    /// Search pages' entries already written (`super::rendered`): empty until a search asks.
    pub(super) rendered: super::rendered::RenderedEntries,
}

/// The hash `by_id` files a resource under.
pub(super) fn id_hash(type_slot: TypeSlot, id: &str) -> u64 {
    hash_str(id) ^ (type_slot.index() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A parameter's number across all types, for the reverse index.
pub(super) fn global_param(type_slot: TypeSlot, param: ParamIndex) -> u16 {
    (type_slot.index() * 64 + param.index()) as u16
}

impl Store {
    /// The search pages' entries this store has written.
    pub(in crate::fhir) fn rendered(&self) -> &super::rendered::RenderedEntries {
        &self.rendered
    }

    /// Each Patient's compartment (docs/access.md#member-compartment): the Patient; resources whose compartment
    /// parameters reference it; and, transitively, the shared resources those reference.
    pub(super) fn compartments(&self) -> FxHashMap<Idx, Visible> {
        let Some((patient_slot, _)) = search_params::resource("Patient") else {
            return FxHashMap::default();
        };
        let mut visible: FxHashMap<Idx, Visible> = FxHashMap::default();
        // Each type's compartment parameters, found by name once rather than per resource.
        let compartment_params: Vec<Vec<ParamIndex>> = RESOURCES
            .iter()
            .map(|def| {
                def.compartment
                    .iter()
                    .filter_map(|name| def.find(name))
                    .map(|(index, _)| index)
                    .collect()
            })
            .collect();
        let mut add = |patient: Idx, n: Idx, slot: TypeSlot| {
            let v = visible.entry(patient).or_insert_with(|| Visible {
                by_type: vec![Vec::new(); RESOURCES.len()],
            });
            v.by_type[slot.index()].push(n);
        };
        for n in (0..self.records.len()).map(Idx::new) {
            let entry = self.numbers_of(n);
            if entry.type_slot == patient_slot {
                add(n, n, patient_slot);
                continue;
            }
            let mut owners: Vec<Idx> = compartment_params[entry.type_slot.index()]
                .iter()
                .flat_map(|&index| entry.targets(index).iter().copied())
                .filter(|&t| self.numbers_of(t).type_slot == patient_slot)
                .collect();
            owners.sort_unstable();
            owners.dedup();
            for owner in owners {
                add(owner, n, entry.type_slot);
            }
        }
        for v in visible.values_mut() {
            let mut seen: FxHashSet<Idx> = v.by_type.iter().flatten().copied().collect();
            let mut queue: Vec<Idx> = seen.iter().copied().collect();
            while let Some(n) = queue.pop() {
                for &target in self.numbers_of(n).references() {
                    let slot = self.numbers_of(target).type_slot;
                    if SHARED_WHEN_REFERENCED.contains(&RESOURCES[slot.index()].name)
                        && seen.insert(target)
                    {
                        v.by_type[slot.index()].push(target);
                        queue.push(target);
                    }
                }
            }
            for list in &mut v.by_type {
                list.sort_unstable();
                list.shrink_to_fit();
            }
        }
        visible
    }

    /// `entry` without looking up its id and version (left empty): for the load-time passes
    /// over every resource, which read only numbers and would otherwise touch the string arena
    /// at random twice per resource.
    pub(super) fn numbers_of(&self, n: Idx) -> StoredResource<'_> {
        let record = &self.records[n.index()];
        StoredResource {
            store: self,
            record,
            number: n,
            type_slot: record.type_slot,
            id: "",
            version_id: "",
            last_updated: None,
        }
    }

    pub(in crate::fhir) fn entry(&self, n: Idx) -> StoredResource<'_> {
        let record = &self.records[n.index()];
        StoredResource {
            store: self,
            record,
            number: n,
            type_slot: record.type_slot,
            id: self.text(record.id),
            version_id: self.text(record.version_id),
            last_updated: record.last_updated.map(Nanos::from),
        }
    }

    /// A string of the arena.
    pub(in crate::fhir) fn text(&self, sym: Sym) -> &str {
        self.spans
            .get(sym.index())
            .and_then(|&(start, len)| self.text.get(start as usize..(start + len) as usize))
            .unwrap_or_default()
    }

    pub(in crate::fhir) fn find(&self, type_slot: TypeSlot, id: &str) -> Option<Idx> {
        self.by_id
            .find(id_hash(type_slot, id), |&n| {
                self.records
                    .get(n.index())
                    .is_some_and(|r| r.type_slot == type_slot && self.text(r.id) == id)
            })
            .copied()
    }

    /// The store number of a Patient, which is how a token's member is named here.
    pub(in crate::fhir) fn patient(&self, patient_id: &str) -> Option<Idx> {
        let (slot, _) = search_params::resource("Patient")?;
        self.find(slot, patient_id)
    }

    /// Every resource of one type, in default order (a public API's searches).
    pub(in crate::fhir) fn all_of_type(&self, type_slot: TypeSlot) -> &[Idx] {
        let lists = self.by_type.get_or_init(|| {
            let mut lists = vec![Vec::new(); RESOURCES.len()];
            for (n, record) in self.records.iter().enumerate() {
                if let Some(list) = lists.get_mut(record.type_slot.index()) {
                    list.push(Idx::new(n));
                }
            }
            lists
        });
        lists.get(type_slot.index()).map_or(&[], Vec::as_slice)
    }

    /// What the member whose Patient is `member` may see of one type, in default order.
    pub(in crate::fhir) fn visible_list(&self, member: Idx, type_slot: TypeSlot) -> &[Idx] {
        self.visible
            .get(&member)
            .and_then(|v| v.by_type.get(type_slot.index()))
            .map_or(&[], Vec::as_slice)
    }

    pub(in crate::fhir) fn is_visible(&self, member: Idx, n: Idx) -> bool {
        let slot = self.entry(n).type_slot;
        self.visible_list(member, slot).binary_search(&n).is_ok()
    }

    /// The resources whose parameter `param` of `type_slot` references `target`, in default order.
    pub(in crate::fhir) fn referring(
        &self,
        type_slot: TypeSlot,
        param: ParamIndex,
        target: Idx,
    ) -> &[Idx] {
        self.reverse
            .get(&(global_param(type_slot, param), target))
            .map_or(&[], Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The types the store holds, each once, in table order.
    pub fn types(&self) -> impl Iterator<Item = &'static str> + '_ {
        let mut seen = vec![false; RESOURCES.len()];
        for record in &self.records {
            if let Some(slot) = seen.get_mut(record.type_slot.index()) {
                *slot = true;
            }
        }
        RESOURCES
            .iter()
            .zip(seen)
            .filter(|(_, present)| *present)
            .map(|(def, _)| def.name)
    }

    /// Whether the data holds a resource of this type and id.
    pub fn contains(&self, resource_type: &str, id: &str) -> bool {
        search_params::resource(resource_type)
            .is_some_and(|(slot, _)| self.find(slot, id).is_some())
    }

    /// How many bytes of served JSON the store holds (also those it serves from the embedded
    /// data's bytes).
    pub fn json_len(&self) -> usize {
        self.segments.iter().map(Bytes::len).sum()
    }

    /// Every stored resource's served bytes, for tests of where they are kept. Not for
    /// handlers, which reach a resource through a compartment-bound view.
    #[cfg(test)]
    pub(crate) fn every_json(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.records.len()).map(|n| self.entry(Idx::new(n)).json_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::store_builder::testing::store_of;
    use serde_json::{Value, json};

    fn store() -> Store {
        store_of(&[
            json!({"resourceType":"Patient","id":"a","meta":{"lastUpdated":"2020-01-01T00:00:00Z"}}),
            json!({"resourceType":"Patient","id":"b","meta":{"lastUpdated":"2021-01-01T00:00:00Z"}}),
            json!({"resourceType":"Organization","id":"payer"}),
            json!({"resourceType":"Organization","id":"parent"}),
            json!({"resourceType":"Organization","id":"lonely"}),
            json!({"resourceType":"Practitioner","id":"doc"}),
            json!({"resourceType":"PractitionerRole","id":"role",
                "practitioner":{"reference":"Practitioner/doc"},
                "organization":{"reference":"Organization/parent"}}),
            json!({"resourceType":"Coverage","id":"cov-a","beneficiary":{"reference":"Patient/a"},
                "subscriber":{"reference":"Patient/b"},"payor":[{"reference":"Organization/payer"}]}),
            json!({"resourceType":"ExplanationOfBenefit","id":"eob-b","patient":{"reference":"Patient/b"},
                "provider":{"reference":"PractitionerRole/role"}}),
        ])
        .0
    }

    #[test]
    fn default_order_is_newest_first_then_id() {
        let s = store();
        let ids: Vec<_> = (0..s.len()).map(|n| s.entry(Idx::new(n)).id).collect();
        assert_eq!(&ids[..2], ["b", "a"]);
        assert_eq!(s.entry(Idx::new(0)).version_id, "1");
        let served: Value = serde_json::from_slice(s.entry(Idx::new(0)).json_bytes()).unwrap();
        assert_eq!(served["meta"]["versionId"], "1");
    }

    #[test]
    fn compartments_and_reachability() {
        let s = store();
        let a = s.patient("a").unwrap();
        let b = s.patient("b").unwrap();
        let (org, _) = search_params::resource("Organization").unwrap();
        let (cov, _) = search_params::resource("Coverage").unwrap();
        let id = |n: &Idx| s.entry(*n).id.to_owned();
        // Coverage belongs to its beneficiary and its subscriber.
        assert_eq!(s.visible_list(a, cov).len(), 1);
        assert_eq!(s.visible_list(b, cov).len(), 1);
        let mut a_orgs: Vec<_> = s.visible_list(a, org).iter().map(id).collect();
        a_orgs.sort();
        assert_eq!(a_orgs, ["payer"]);
        // b reaches the role's organization through its EOB's provider, transitively.
        let mut b_orgs: Vec<_> = s.visible_list(b, org).iter().map(id).collect();
        b_orgs.sort();
        assert_eq!(b_orgs, ["parent", "payer"]);
        assert!(!s.is_visible(a, b));
        assert!(s.is_visible(a, a));
    }
}
