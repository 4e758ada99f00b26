//! The in-memory resource store (SPEC §6, §6.1, §8), built once at start-up and read-only after:
//! every resource serialised once (the bytes reads and bundles send), its search-parameter values
//! indexed, references resolved in both directions, and each Patient's compartment listed per
//! type, so that a search costs time in proportion to one member's data, never to the data set.
//!
//! Resources are numbered in the default result order (newest `meta.lastUpdated` first, ties by
//! id), so any list of numbers kept sorted is already in that order.

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use serde_json::Value;

use super::date::{self, Nanos};
use super::extract::{self, IndexValue, Reference};
use super::search_params::{self, ParamIndex, RESOURCES};

/// A resource's number in the store.
pub type Idx = u32;

/// Types a member may read when one of the member's resources references them (SPEC §6.1).
const SHARED_WHEN_REFERENCED: &[&str] = &[
    "Location",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "RelatedPerson",
];

#[derive(Debug)]
pub struct Entry {
    /// Position of the type in `search_params::RESOURCES`.
    pub type_slot: usize,
    pub id: Box<str>,
    pub version_id: Box<str>,
    pub last_updated: Option<Nanos>,
    /// The resource as served, with `meta.versionId` filled in.
    pub json: Bytes,
    /// Per search parameter of the type (by `ParamIndex`), its values.
    values: Box<[Box<[IndexValue]>]>,
    /// Per search parameter, the store numbers its references resolve to.
    targets: Box<[Box<[Idx]>]>,
    /// Every resolved reference anywhere in the resource.
    pub references: Box<[Idx]>,
}

impl Entry {
    pub fn resource_type(&self) -> &'static str {
        RESOURCES[self.type_slot].name
    }

    pub fn values(&self, param: ParamIndex) -> &[IndexValue] {
        self.values.get(param).map_or(&[], |v| v)
    }

    pub fn targets(&self, param: ParamIndex) -> &[Idx] {
        self.targets.get(param).map_or(&[], |v| v)
    }
}

/// What one Patient's token may see, per type slot, each list sorted (so in default order).
#[derive(Debug, Default)]
struct Visible {
    by_type: Vec<Vec<Idx>>,
}

#[derive(Debug, Default)]
pub struct Store {
    entries: Vec<Entry>,
    by_id: Vec<HashMap<Box<str>, Idx>>,
    /// `(global parameter, target)` → the resources whose parameter references the target.
    reverse: HashMap<(u16, Idx), Vec<Idx>>,
    /// Patient number → what a token for that Patient may see.
    visible: HashMap<Idx, Visible>,
}

/// A parameter's number across all types, for the reverse index.
fn global_param(type_slot: usize, param: ParamIndex) -> u16 {
    (type_slot * 64 + param) as u16
}

impl Store {
    pub fn new(resources: Vec<Value>) -> Self {
        let mut keyed: Vec<(usize, String, Option<Nanos>, Value)> = resources
            .into_iter()
            .filter_map(|resource| {
                let (slot, _) = search_params::resource(resource["resourceType"].as_str()?)?;
                let id = resource["id"].as_str()?.to_owned();
                let last_updated = resource["meta"]["lastUpdated"]
                    .as_str()
                    .and_then(date::parse)
                    .map(|r| r.start);
                Some((slot, id, last_updated, resource))
            })
            .collect();
        // Newest first (undated last), then id, then type: the default order of SPEC §6.
        keyed.sort_by(|a, b| {
            b.2.is_some()
                .cmp(&a.2.is_some())
                .then(b.2.cmp(&a.2))
                .then_with(|| a.1.cmp(&b.1))
                .then(a.0.cmp(&b.0))
        });

        let mut by_id: Vec<HashMap<Box<str>, Idx>> = vec![HashMap::new(); RESOURCES.len()];
        for (n, (slot, id, _, _)) in keyed.iter().enumerate() {
            by_id[*slot].insert(id.as_str().into(), n as Idx);
        }
        let resolve = |r: &Reference| -> Option<Idx> {
            let (slot, _) = search_params::resource(&r.resource_type)?;
            by_id[slot].get(&r.id).copied()
        };

        let mut entries = Vec::with_capacity(keyed.len());
        let mut reverse: HashMap<(u16, Idx), Vec<Idx>> = HashMap::new();
        for (n, (slot, id, last_updated, mut resource)) in keyed.into_iter().enumerate() {
            let def = &RESOURCES[slot];
            let mut values = Vec::with_capacity(def.param_count());
            let mut targets = Vec::with_capacity(def.param_count());
            for (index, param) in def.params() {
                let found = extract::values(&resource, param);
                let mut resolved: Vec<Idx> = found
                    .iter()
                    .filter_map(|v| match v {
                        IndexValue::Reference(r) if param.targets.contains(&&*r.resource_type) => {
                            resolve(r)
                        }
                        _ => None,
                    })
                    .collect();
                resolved.sort_unstable();
                resolved.dedup();
                for &target in &resolved {
                    reverse
                        .entry((global_param(slot, index), target))
                        .or_default()
                        .push(n as Idx);
                }
                values.push(found.into_boxed_slice());
                targets.push(resolved.into_boxed_slice());
            }
            let mut refs = Vec::new();
            extract::all_references(&resource, &mut refs);
            let mut references: Vec<Idx> = refs.iter().filter_map(resolve).collect();
            references.sort_unstable();
            references.dedup();
            let version_id = fill_version_id(&mut resource);
            let json = serde_json::to_vec(&resource).unwrap_or_default();
            entries.push(Entry {
                type_slot: slot,
                id: id.into(),
                version_id: version_id.into(),
                last_updated,
                json: Bytes::from(json),
                values: values.into_boxed_slice(),
                targets: targets.into_boxed_slice(),
                references: references.into_boxed_slice(),
            });
        }
        let mut store = Store {
            entries,
            by_id,
            reverse,
            visible: HashMap::new(),
        };
        store.visible = store.compartments();
        store
    }

    /// Each Patient's compartment (SPEC §6.1): the Patient; resources whose compartment
    /// parameters reference it; and, transitively, the shared resources those reference.
    fn compartments(&self) -> HashMap<Idx, Visible> {
        let Some((patient_slot, _)) = search_params::resource("Patient") else {
            return HashMap::new();
        };
        let mut visible: HashMap<Idx, Visible> = HashMap::new();
        let mut add = |patient: Idx, n: Idx, slot: usize| {
            let v = visible.entry(patient).or_insert_with(|| Visible {
                by_type: vec![Vec::new(); RESOURCES.len()],
            });
            v.by_type[slot].push(n);
        };
        for (n, entry) in self.entries.iter().enumerate() {
            let n = n as Idx;
            let def = &RESOURCES[entry.type_slot];
            if entry.type_slot == patient_slot {
                add(n, n, patient_slot);
                continue;
            }
            let mut owners: Vec<Idx> = def
                .compartment
                .iter()
                .filter_map(|name| def.find(name))
                .flat_map(|(index, _)| entry.targets(index).iter().copied())
                .filter(|&t| self.entries[t as usize].type_slot == patient_slot)
                .collect();
            owners.sort_unstable();
            owners.dedup();
            for owner in owners {
                add(owner, n, entry.type_slot);
            }
        }
        for v in visible.values_mut() {
            let mut seen: HashSet<Idx> = v.by_type.iter().flatten().copied().collect();
            let mut queue: Vec<Idx> = seen.iter().copied().collect();
            while let Some(n) = queue.pop() {
                for &target in self.entries[n as usize].references.iter() {
                    let slot = self.entries[target as usize].type_slot;
                    if SHARED_WHEN_REFERENCED.contains(&RESOURCES[slot].name) && seen.insert(target)
                    {
                        v.by_type[slot].push(target);
                        queue.push(target);
                    }
                }
            }
            for list in &mut v.by_type {
                list.sort_unstable();
            }
        }
        visible
    }

    pub fn entry(&self, n: Idx) -> &Entry {
        &self.entries[n as usize]
    }

    pub fn find(&self, type_slot: usize, id: &str) -> Option<Idx> {
        self.by_id.get(type_slot)?.get(id).copied()
    }

    /// The store number of a Patient, which is how a token's member is named here.
    pub fn patient(&self, patient_id: &str) -> Option<Idx> {
        let (slot, _) = search_params::resource("Patient")?;
        self.find(slot, patient_id)
    }

    /// What the member whose Patient is `member` may see of one type, in default order.
    pub fn visible_list(&self, member: Idx, type_slot: usize) -> &[Idx] {
        self.visible
            .get(&member)
            .and_then(|v| v.by_type.get(type_slot))
            .map_or(&[], Vec::as_slice)
    }

    pub fn is_visible(&self, member: Idx, n: Idx) -> bool {
        let slot = self.entry(n).type_slot;
        self.visible_list(member, slot).binary_search(&n).is_ok()
    }

    /// The resources whose parameter `param` of `type_slot` references `target`, in default order.
    pub fn referring(&self, type_slot: usize, param: ParamIndex, target: Idx) -> &[Idx] {
        self.reverse
            .get(&(global_param(type_slot, param), target))
            .map_or(&[], Vec::as_slice)
    }

    pub fn count(&self, resource_type: &str) -> usize {
        search_params::resource(resource_type)
            .and_then(|(slot, _)| self.by_id.get(slot))
            .map_or(0, HashMap::len)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `meta.versionId` as served: the data's, else "1" (the sandbox never changes a resource).
fn fill_version_id(resource: &mut Value) -> String {
    if let Some(existing) = resource["meta"]["versionId"].as_str() {
        return existing.to_owned();
    }
    if let Value::Object(map) = resource {
        let meta = map
            .entry("meta")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Value::Object(meta) = meta {
            meta.insert("versionId".to_owned(), Value::String("1".to_owned()));
        }
    }
    "1".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> Store {
        Store::new(vec![
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
    }

    #[test]
    fn default_order_is_newest_first_then_id() {
        let s = store();
        let ids: Vec<_> = (0..s.len() as Idx).map(|n| &*s.entry(n).id).collect();
        assert_eq!(&ids[..2], ["b", "a"]);
        assert_eq!(s.entry(0).version_id.as_ref(), "1");
        let served: Value = serde_json::from_slice(&s.entry(0).json).unwrap();
        assert_eq!(served["meta"]["versionId"], "1");
    }

    #[test]
    fn compartments_and_reachability() {
        let s = store();
        let a = s.patient("a").unwrap();
        let b = s.patient("b").unwrap();
        let (org, _) = search_params::resource("Organization").unwrap();
        let (cov, _) = search_params::resource("Coverage").unwrap();
        let id = |n: &Idx| s.entry(*n).id.to_string();
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
