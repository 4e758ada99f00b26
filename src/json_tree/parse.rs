//! Filling a `Tree` from serde_json's parser: a `DeserializeSeed` that appends nodes instead of
//! building values, so the grammar, the error messages and the nesting limit are serde_json's.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::{Kind, Slot, Tree, key_bit, repeats};

/// Text known to be UTF-8: serde_json then skips checking each string again.
pub(super) fn document_str<'a>(
    tree: &mut Tree<'a>,
    text: &'a str,
) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    Value { tree }.deserialize(&mut deserializer)?;
    deserializer.end()
}

pub(super) fn document_bytes<'a>(
    tree: &mut Tree<'a>,
    bytes: &'a [u8],
) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    Value { tree }.deserialize(&mut deserializer)?;
    deserializer.end()
}

/// Appends one value (and its contents) to the tree.
struct Value<'t, 'a> {
    tree: &'t mut Tree<'a>,
}

impl<'t, 'a> Value<'t, 'a> {
    fn leaf(self, kind: Kind<'a>) {
        let end = self.tree.slots.len() as u32 + 1;
        self.tree.slots.push(Slot {
            kind,
            end,
            close: 0,
        });
    }

    fn owned(self, s: &str) {
        let index = self.tree.owned.len() as u32;
        self.tree.owned.push(s.into());
        self.leaf(Kind::Owned(index));
    }

    /// Opens a container; `close` sets its end once its contents are in.
    fn open(&mut self, kind: Kind<'a>) -> usize {
        self.tree.slots.push(Slot {
            kind,
            end: 0,
            close: 0,
        });
        self.tree.slots.len() - 1
    }

    fn close(&mut self, at: usize) {
        let end = self.tree.slots.len() as u32;
        if let Some(slot) = self.tree.slots.get_mut(at) {
            slot.end = end;
        }
    }
}

impl<'de, 't> DeserializeSeed<'de> for Value<'t, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, 't> Visitor<'de> for Value<'t, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.leaf(Kind::Null);
        Ok(())
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.leaf(Kind::Bool(v));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.leaf(Kind::U64(v));
        Ok(())
    }

    /// As `serde_json::Number`: only negative numbers are kept signed.
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.leaf(if v < 0 {
            Kind::I64(v)
        } else {
            Kind::U64(v as u64)
        });
        Ok(())
    }

    /// As `serde_json::Value`: a float that is not finite becomes null.
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.leaf(if v.is_finite() {
            Kind::F64(v)
        } else {
            Kind::Null
        });
        Ok(())
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.leaf(Kind::Str(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.owned(v);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let at = self.open(Kind::Array);
        while seq
            .next_element_seed(Value {
                tree: &mut *self.tree,
            })?
            .is_some()
        {}
        self.close(at);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let at = self.open(Kind::Object {
            repeats: false,
            keys: 0,
        });
        let mut bits = 0u64;
        let mut repeated = false;
        loop {
            let key = self.tree.slots.len();
            let more = map.next_key_seed(Value {
                tree: &mut *self.tree,
            })?;
            if more.is_none() {
                break;
            }
            let bit = key_bit(
                super::Node {
                    tree: self.tree,
                    at: key,
                }
                .as_str()
                .unwrap_or(""),
            );
            if bits & bit != 0 && !repeated {
                repeated = repeats(self.tree, at, key);
            }
            bits |= bit;
            map.next_value_seed(Value {
                tree: &mut *self.tree,
            })?;
        }
        if let Some(slot) = self.tree.slots.get_mut(at) {
            slot.kind = Kind::Object {
                repeats: repeated,
                keys: bits,
            };
        }
        self.close(at);
        Ok(())
    }
}
