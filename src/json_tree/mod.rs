//! A JSON document as a flat list of nodes that borrow their strings from the text they were
//! parsed from: what the loader reads each resource into instead of a `serde_json::Value`, so
//! that parsing a resource allocates a few buffers (reused from one resource to the next) rather
//! than one allocation per object, array and string.
//!
//! Text already in serde_json's compact form is read by a fast scanner (`scan`), which can then
//! serve the text itself; anything else is parsed by serde_json (`parse`), so syntax errors,
//! numbers and the nesting limit are exactly serde_json's. [`write`] writes a node back as
//! compact JSON byte for byte as serde_json writes the same `Value` (keys in the document's
//! order: `preserve_order`). A key given twice in one object behaves as in a `Value`: one
//! entry, at the first one's place, with the last one's value.

mod parse;
mod scan;
mod write;

pub use write::{Edits, write};

/// One node. Containers are followed by their contents (an object by key, value, key, value…),
/// and `end` is the position just after the node's last descendant, so siblings are one step
/// apart whatever their size.
#[derive(Debug, Clone, Copy)]
struct Slot<'a> {
    kind: Kind<'a>,
    end: u32,
    /// Containers read by `scan`: the position of the closing bracket in the text.
    close: u32,
}

#[derive(Debug, Clone, Copy)]
enum Kind<'a> {
    Null,
    Bool(bool),
    /// Non-negative integers, as serde_json keeps them.
    U64(u64),
    /// Negative integers.
    I64(i64),
    F64(f64),
    /// A string without escapes, borrowed from the text.
    Str(&'a str),
    /// A string that had escapes, unescaped into `Tree::owned`.
    Owned(u32),
    Array,
    /// `repeats`: some key occurs more than once (rare; lookups then take the last value).
    /// `keys`: the `key_bit`s of the keys, so that most lookups of an absent key scan nothing.
    Object {
        repeats: bool,
        keys: u64,
    },
}

/// A parsed document: node 0 is the root.
#[derive(Debug, Default)]
pub struct Tree<'a> {
    slots: Vec<Slot<'a>>,
    owned: Vec<Box<str>>,
    /// The text, when it is exactly what writing the root back would give.
    canonical: Option<&'a str>,
    /// Read by `scan`: every string that is the value of a `reference` key, in order, and
    /// whether no `reference` that is not a string encloses it.
    references: Vec<(u32, bool)>,
}

impl<'a> Tree<'a> {
    /// Parses `bytes` as one JSON document, as `serde_json::from_slice` does.
    pub fn parse(bytes: &'a [u8]) -> Result<Tree<'a>, serde_json::Error> {
        let mut tree = Tree::default();
        tree.reparse(bytes)?;
        Ok(tree)
    }

    /// Parses another document into the same buffers (for many small documents in a row).
    pub fn reparse(&mut self, bytes: &'a [u8]) -> Result<(), serde_json::Error> {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.reparse_str(text),
            Err(_) => {
                self.clear();
                parse::document_bytes(self, bytes)
            }
        }
    }

    /// `reparse` of text known to be UTF-8.
    pub fn reparse_str(&mut self, text: &'a str) -> Result<(), serde_json::Error> {
        self.clear();
        // JSON's whitespace only: serde_json rejects any other.
        let trimmed = text.trim_matches([' ', '\t', '\n', '\r']);
        if trimmed.len() < u32::MAX as usize && scan::canonical(self, trimmed) {
            self.canonical = Some(trimmed);
            return Ok(());
        }
        self.clear();
        parse::document_str(self, text)
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.owned.clear();
        self.canonical = None;
        self.references.clear();
    }

    /// Parses with serde_json even where the scanner would do (tests compare the two).
    #[cfg(test)]
    fn parse_slow(text: &'a str) -> Result<Tree<'a>, serde_json::Error> {
        let mut tree = Tree::default();
        parse::document_str(&mut tree, text)?;
        Ok(tree)
    }

    pub fn root(&self) -> Node<'_, 'a> {
        Node { tree: self, at: 0 }
    }
}

/// A node of a tree, cheap to copy. A lookup that finds nothing gives `None`; a node of
/// another JSON type than asked for reads as absent (`as_str` of a number is `None`).
#[derive(Clone, Copy)]
pub struct Node<'t, 'a> {
    tree: &'t Tree<'a>,
    at: usize,
}

impl<'t, 'a> Node<'t, 'a> {
    fn kind(&self) -> Kind<'a> {
        self.tree
            .slots
            .get(self.at)
            .map_or(Kind::Null, |slot| slot.kind)
    }

    /// The position after this node and its descendants: its next sibling.
    fn next(&self) -> usize {
        self.tree
            .slots
            .get(self.at)
            .map_or(self.at + 1, |slot| slot.end as usize)
    }

    fn at(&self, at: usize) -> Node<'t, 'a> {
        Node {
            tree: self.tree,
            at,
        }
    }

    pub fn as_str(&self) -> Option<&'t str> {
        match self.kind() {
            Kind::Str(s) => Some(s),
            Kind::Owned(i) => self.tree.owned.get(i as usize).map(|s| &**s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind() {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.kind(), Kind::Object { .. })
    }

    pub fn is_array(&self) -> bool {
        matches!(self.kind(), Kind::Array)
    }

    /// An object's value for `key` (the last one if the key repeats).
    pub fn get(&self, key: &str) -> Option<Node<'t, 'a>> {
        let Kind::Object { repeats, keys } = self.kind() else {
            return None;
        };
        if keys & key_bit(key) == 0 {
            return None;
        }
        let mut found = None;
        for (k, value) in self.pairs() {
            // Most keys differ in length or first byte: no call to compare the rest.
            if k.len() == key.len() && k.as_bytes().first() == key.as_bytes().first() && k == key {
                found = Some(value);
                if !repeats {
                    break;
                }
            }
        }
        found
    }

    /// `get` along a path of keys: `node.path(&["meta", "versionId"])`.
    pub fn path(&self, keys: &[&str]) -> Option<Node<'t, 'a>> {
        keys.iter().try_fold(*self, |node, key| node.get(key))
    }

    /// An array's items (none for anything else).
    pub fn items(&self) -> impl Iterator<Item = Node<'t, 'a>> + use<'t, 'a> {
        let (mut at, end) = match self.kind() {
            Kind::Array => (self.at + 1, self.next()),
            _ => (0, 0),
        };
        let node = *self;
        std::iter::from_fn(move || {
            (at < end).then(|| {
                let item = node.at(at);
                at = item.next();
                item
            })
        })
    }

    /// An object's entries in order, each key once (at its first place, with its last value).
    pub fn entries(&self) -> impl Iterator<Item = (&'t str, Node<'t, 'a>)> + use<'t, 'a> {
        let repeats = matches!(self.kind(), Kind::Object { repeats: true, .. });
        let node = *self;
        self.pairs()
            .enumerate()
            .filter_map(move |(i, (key, value))| {
                if !repeats {
                    return Some((key, value));
                }
                let mut pairs = node.pairs();
                if pairs.by_ref().take(i).any(|(k, _)| k == key) {
                    return None;
                }
                let last = pairs.filter(|(k, _)| *k == key).last();
                Some((key, last.map_or(value, |(_, v)| v)))
            })
    }

    /// An object's key/value pairs as written, repeats included.
    fn pairs(&self) -> impl Iterator<Item = (&'t str, Node<'t, 'a>)> + use<'t, 'a> {
        let (mut at, end) = match self.kind() {
            Kind::Object { .. } => (self.at + 1, self.next()),
            _ => (0, 0),
        };
        let node = *self;
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let key = node.at(at);
            let value = node.at(at + 1);
            at = value.next();
            Some((key.as_str().unwrap_or_default(), value))
        })
    }

    /// The text of the root, when it is exactly what writing it would give.
    pub fn canonical(&self) -> Option<&'a str> {
        if self.at == 0 {
            self.tree.canonical
        } else {
            None
        }
    }

    /// For a root read by `scan`: each string value of a `reference` key in document order,
    /// and whether no `reference` that is not a string encloses it. `None` elsewhere, where
    /// the caller walks the tree instead.
    pub fn reference_strings(&self) -> Option<impl Iterator<Item = (&'t str, bool)> + use<'t, 'a>> {
        self.canonical()?;
        let node = *self;
        Some(self.tree.references.iter().map(move |&(at, checked)| {
            (node.at(at as usize).as_str().unwrap_or_default(), checked)
        }))
    }

    /// Read by `scan`: the position of a container's closing bracket.
    fn close(&self) -> Option<usize> {
        self.tree.slots.get(self.at).map(|slot| slot.close as usize)
    }

    /// The node as a `serde_json::Value` (for tests and tools; the loader never builds one).
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match self.kind() {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(b),
            Kind::U64(n) => Value::from(n),
            Kind::I64(n) => Value::from(n),
            Kind::F64(n) => serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
            Kind::Str(_) | Kind::Owned(_) => Value::from(self.as_str().unwrap_or_default()),
            Kind::Array => Value::Array(self.items().map(|item| item.to_value()).collect()),
            Kind::Object { .. } => Value::Object(
                self.entries()
                    .map(|(key, value)| (key.to_owned(), value.to_value()))
                    .collect(),
            ),
        }
    }
}

/// A cheap fingerprint of an object key: one bit of 64. Two keys with different bits differ,
/// so only a shared bit costs comparing a new key with the object's earlier ones.
fn key_bit(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let mix = bytes.len() as u64 * 31
        + u64::from(bytes.first().copied().unwrap_or(0)) * 7
        + u64::from(bytes.last().copied().unwrap_or(0));
    1 << (mix % 64)
}

/// Whether the key just added at `key` repeats one of the earlier keys of the object at
/// `object` (whose earlier values are complete).
fn repeats(tree: &Tree<'_>, object: usize, key: usize) -> bool {
    let text = |at: usize| Node { tree, at }.as_str();
    let new = text(key);
    let mut at = object + 1;
    while at < key {
        if text(at) == new {
            return true;
        }
        at = tree.slots.get(at + 1).map_or(key, |slot| slot.end as usize);
    }
    false
}

#[cfg(test)]
mod tests;
