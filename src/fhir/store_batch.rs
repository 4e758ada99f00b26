//! Resources turned into what the store keeps, a batch at a time, so that threads can prepare
//! batches side by side and the store builder only joins them (in a fixed order) and indexes
//! them: each resource's served bytes (with `meta.versionId` filled in), its search-parameter
//! values, and its references, still as type and id. Strings are numbered within the batch.
//! Nothing of the parsed JSON is kept.
//!
//! A resource whose served bytes are exactly its bytes in an input that lives as long as the
//! process (the embedded data, docs/data.md#seed-data) is not copied: it is served from the
//! input itself (`Batch::serving_from`).

use super::date::{self, Nanos};
use super::extract::{self, IndexValue, split_reference};
use super::search_params::{self, RESOURCES, TypeSlot};
use super::store::{Indexed, NO_SYSTEM, Sym};
use super::strings::Interner;
use crate::json_tree::{self, Edits, Node};

/// One prepared resource; its values and references are ranges of the batch's lists.
#[derive(Debug, Clone, Copy)]
pub(super) struct Prepared {
    pub slot: TypeSlot,
    pub id: Sym,
    pub version_id: Sym,
    pub last_updated: Option<Nanos>,
    /// A span of the batch's `json`, or, when `in_input`, of the batch's input.
    pub json_start: u32,
    pub json_len: u32,
    pub in_input: bool,
    /// Where the resource's `param_count + 1` offsets start in `value_offsets` and
    /// `candidate_offsets`.
    pub offsets_at: u32,
    pub refs_start: u32,
    pub refs_len: u32,
}

/// A `reference` string of a resource, as the builder needs it.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawRef {
    pub slot: TypeSlot,
    pub id: Sym,
    /// A literal reference to a served type (`extract::split_reference`): followed for
    /// compartments and `$everything` when it resolves.
    pub follow: bool,
    /// Written exactly `Type/id` with a served type: reported when nothing has that type and id.
    pub check: bool,
}

/// The batch would pass 4 GiB of JSON, which its offsets cannot address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

#[derive(Debug, Default)]
pub struct Batch {
    pub(super) strings: Interner,
    pub(super) json: Vec<u8>,
    /// The bytes the resources are parsed from, when they live as long as the process.
    pub(super) input: Option<&'static [u8]>,
    pub(super) resources: Vec<Prepared>,
    pub(super) values: Vec<Indexed>,
    pub(super) value_offsets: Vec<u32>,
    /// Values of reference parameters that name one of the parameter's target types, as
    /// `(type slot, id)`: resolved to store numbers by the builder.
    pub(super) candidates: Vec<(TypeSlot, Sym)>,
    pub(super) candidate_offsets: Vec<u32>,
    pub(super) refs: Vec<RawRef>,
}

impl Batch {
    /// A batch expecting about `json_bytes` of served JSON.
    pub fn with_capacity(json_bytes: usize) -> Batch {
        // Rough densities of claims data, so that the lists rarely grow (each growth copies
        // and touches fresh pages); room not used is never touched.
        Batch {
            json: Vec::with_capacity(json_bytes),
            strings: Interner::with_capacity(json_bytes / 300),
            values: Vec::with_capacity(json_bytes / 128),
            value_offsets: Vec::with_capacity(json_bytes / 128),
            candidates: Vec::with_capacity(json_bytes / 512),
            candidate_offsets: Vec::with_capacity(json_bytes / 128),
            refs: Vec::with_capacity(json_bytes / 256),
            ..Batch::default()
        }
    }

    /// The resources added from now on are parsed from `input`, which lives as long as the
    /// process: each one whose served bytes are a span of it is served from there, not copied.
    pub fn serving_from(&mut self, input: &'static [u8]) {
        self.input = Some(input);
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// How many bytes of served JSON the batch holds.
    pub fn json_len(&self) -> usize {
        self.json.len()
    }

    /// Adds one resource of a served type (`slot` in `RESOURCES`) with id `id`.
    pub fn add(
        &mut self,
        resource: Node<'_, '_>,
        slot: TypeSlot,
        id: &str,
    ) -> Result<(), TooLarge> {
        let json_start = self.json.len();
        json_tree::write(
            &mut self.json,
            resource,
            &Edits {
                version_id: true,
                ..Edits::default()
            },
        );
        let json_len = self.json.len() - json_start;
        let in_input = self.span_in_input(resource, json_start);
        if in_input.is_some() {
            self.json.truncate(json_start);
        }
        let start = in_input.unwrap_or(json_start);
        if self.json.len() > u32::MAX as usize || start > u32::MAX as usize {
            self.json.truncate(json_start);
            return Err(TooLarge);
        }

        let offsets_at = self.value_offsets.len() as u32;
        let mut found = Vec::new();
        for (_, param) in RESOURCES
            .get(slot.index())
            .into_iter()
            .flat_map(|def| def.params())
        {
            self.value_offsets.push(self.values.len() as u32);
            self.candidate_offsets.push(self.candidates.len() as u32);
            found.clear();
            extract::values(resource, param, &mut found);
            for value in &found {
                if let IndexValue::Reference { resource_type, id } = *value {
                    if param.targets.contains(&resource_type) {
                        if let Some((target, _)) = search_params::resource(resource_type) {
                            let id = self.strings.intern(id);
                            self.candidates.push((target, id));
                        }
                    }
                }
                let indexed = compact(value, &mut self.strings);
                self.values.push(indexed);
            }
        }
        self.value_offsets.push(self.values.len() as u32);
        self.candidate_offsets.push(self.candidates.len() as u32);

        let refs_start = self.refs.len() as u32;
        extract::reference_strings(resource, &mut |text, checked| self.reference(text, checked));

        let meta = |key: &str| resource.path(&["meta", key]).and_then(|n| n.as_str());
        let version_id = self.strings.intern(meta("versionId").unwrap_or("1"));
        let last_updated = meta("lastUpdated").and_then(date::parse).map(|r| r.start);
        let id = self.strings.intern(id);
        self.resources.push(Prepared {
            slot,
            id,
            version_id,
            last_updated,
            json_start: start as u32,
            json_len: json_len as u32,
            in_input: in_input.is_some(),
            offsets_at,
            refs_start,
            refs_len: self.refs.len() as u32 - refs_start,
        });
        Ok(())
    }

    /// Where in the batch's input the bytes just written from `json_start` on already are: the
    /// resource's own text, when writing it changed nothing. Found by the text's address, and
    /// then compared byte for byte, so a span is only ever one that holds the very bytes the
    /// store would otherwise keep.
    fn span_in_input(&self, resource: Node<'_, '_>, json_start: usize) -> Option<usize> {
        let input = self.input?;
        let text = resource.canonical()?.as_bytes();
        let written = self.json.get(json_start..)?;
        let start = (text.as_ptr() as usize).checked_sub(input.as_ptr() as usize)?;
        let span = input.get(start..start.checked_add(written.len())?)?;
        (span == written).then_some(start)
    }

    /// Keeps what the builder needs of one `reference` string: the literal reference it makes,
    /// if any, and whether it is written `Type/id` (the form the dangling check reports).
    fn reference(&mut self, text: &str, checked: bool) {
        fn served<'s>((t, id): (&str, &'s str)) -> Option<(TypeSlot, &'s str)> {
            search_params::resource(t).map(|(slot, _)| (slot, id))
        }
        let follow = split_reference(text);
        let written = extract::split_first(text, b'/')
            .filter(|(_, id)| checked && !id.as_bytes().contains(&b'/'));
        if follow.is_some() && follow == written {
            // The usual `Type/id`: one lookup of the type.
            if let Some(f) = follow.and_then(served) {
                let id = self.strings.intern(f.1);
                self.refs.push(RawRef {
                    slot: f.0,
                    id,
                    follow: true,
                    check: true,
                });
            }
            return;
        }
        let follow = follow.and_then(served);
        let check = written.and_then(served);
        let mut push = |(slot, id): (TypeSlot, &str), follow, check| {
            let id = self.strings.intern(id);
            self.refs.push(RawRef {
                slot,
                id,
                follow,
                check,
            });
        };
        match (follow, check) {
            (Some(f), Some(c)) if f == c => push(f, true, true),
            _ => {
                if let Some(f) = follow {
                    push(f, true, false);
                }
                if let Some(c) = check {
                    push(c, false, true);
                }
            }
        }
    }
}

/// An extracted value in the arena's terms.
fn compact(value: &IndexValue<'_>, strings: &mut Interner) -> Indexed {
    match *value {
        IndexValue::Token { system, code } => Indexed::Token {
            system: system.map_or(NO_SYSTEM, |s| strings.intern(s)),
            code: strings.intern(code),
        },
        IndexValue::Date(range) => Indexed::date(range),
        IndexValue::Reference { resource_type, id } => Indexed::Reference {
            resource_type: strings.intern(resource_type),
            id: strings.intern(id),
        },
        IndexValue::Text(t) => Indexed::Text(strings.intern(t)),
        IndexValue::Uri(u) => Indexed::Uri(strings.intern(u)),
    }
}
