//! A JSON document as a flat list of nodes that borrow their strings from the text they were
//! parsed from: what the loader reads each resource into instead of a `serde_json::Value`, so
//! that parsing a resource allocates a few buffers (reused from one resource to the next) rather
//! than one allocation per object, array and string.
//!
//! serde_json does the parsing ([`parse`]), so syntax errors, numbers and the nesting limit are
//! exactly serde_json's; [`write`] writes a node back as compact JSON byte for byte as
//! serde_json writes the same `Value` (keys in the document's order: `preserve_order`). A key
//! given twice in one object behaves as in a `Value`: one entry, at the first one's place, with
//! the last one's value.

mod parse;
mod write;

pub use write::{Edits, write};

/// One node. Containers are followed by their contents (an object by key, value, key, value…),
/// and `end` is the position just after the node's last descendant, so siblings are one step
/// apart whatever their size.
#[derive(Debug, Clone, Copy)]
struct Slot<'a> {
    kind: Kind<'a>,
    end: u32,
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
    Object {
        repeats: bool,
    },
}

/// A parsed document: node 0 is the root.
#[derive(Debug, Default)]
pub struct Tree<'a> {
    slots: Vec<Slot<'a>>,
    owned: Vec<Box<str>>,
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
        self.slots.clear();
        self.owned.clear();
        parse::document(self, bytes)
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
        let Kind::Object { repeats } = self.kind() else {
            return None;
        };
        let mut found = None;
        for (k, value) in self.pairs() {
            if k == key {
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
        let repeats = matches!(self.kind(), Kind::Object { repeats: true });
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

    /// The node as a `serde_json::Value` (for tests and tools; the loader never builds one).
    pub fn to_value(&self) -> serde_json::Value {
        let mut bytes = Vec::new();
        write(&mut bytes, *self, &Edits::default());
        serde_json::from_slice(&bytes).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn round_trip(text: &str) -> String {
        let tree = Tree::parse(text.as_bytes()).unwrap();
        let mut out = Vec::new();
        write(&mut out, tree.root(), &Edits::default());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_what_serde_json_writes() {
        for text in [
            r#"{"b":1,"a":[true,false,null,-3,0,2.50,1e2,-0.0,"x\"y\u00e9\n"],"c":{},"d":[]}"#,
            "  [ 1 , {\"k\" : \"v\"} ]  ",
            r#""\ud83d\ude00 \/""#,
            "18446744073709551615",
            "-9223372036854775808",
            "123456789012345678901234567890",
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(round_trip(text), value.to_string(), "{text}");
        }
    }

    #[test]
    fn repeated_keys_keep_the_first_place_and_the_last_value() {
        let text = r#"{"a":1,"b":{"x":1},"a":{"y":[2]},"c":3}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(round_trip(text), value.to_string());
        let tree = Tree::parse(text.as_bytes()).unwrap();
        let a = tree.root().get("a").unwrap();
        assert_eq!(a.path(&["y"]).unwrap().items().count(), 1);
        let keys: Vec<_> = tree.root().entries().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[test]
    fn navigation() {
        let text = json!({"name":[{"given":["Jo","Al"]},{"family":"X"}],"n":1}).to_string();
        let tree = Tree::parse(text.as_bytes()).unwrap();
        let root = tree.root();
        let names: Vec<_> = root.get("name").unwrap().items().collect();
        assert_eq!(names.len(), 2);
        let given: Vec<_> = names[0]
            .get("given")
            .unwrap()
            .items()
            .filter_map(|n| n.as_str())
            .collect();
        assert_eq!(given, ["Jo", "Al"]);
        assert_eq!(names[1].path(&["family"]).unwrap().as_str(), Some("X"));
        assert!(root.get("n").unwrap().as_str().is_none());
        assert!(root.get("missing").is_none());
        assert_eq!(root.get("name").unwrap().get("x").map(|_| ()), None);
        assert_eq!(
            root.to_value(),
            serde_json::from_str::<Value>(&text).unwrap()
        );
    }

    #[test]
    fn errors_are_serde_json_errors() {
        let text = "{\n \"a\": 1,\n oops\n}";
        let ours = Tree::parse(text.as_bytes()).unwrap_err();
        let theirs = serde_json::from_str::<Value>(text).unwrap_err();
        assert_eq!(ours.to_string(), theirs.to_string());
        assert!(Tree::parse(b"{} x").is_err());
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(Tree::parse(deep.as_bytes()).is_err());
    }
}
