//! Filling a `Tree` from serde_json's parser: a `DeserializeSeed` that appends nodes instead of
//! building values, so the grammar, the error messages and the nesting limit are serde_json's.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::{Kind, Slot, Tree};

pub(super) fn document<'a>(tree: &mut Tree<'a>, bytes: &'a [u8]) -> Result<(), serde_json::Error> {
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
        self.tree.slots.push(Slot { kind, end });
    }

    fn owned(self, s: &str) {
        let index = self.tree.owned.len() as u32;
        self.tree.owned.push(s.into());
        self.leaf(Kind::Owned(index));
    }

    /// Opens a container; `close` sets its end once its contents are in.
    fn open(&mut self, kind: Kind<'a>) -> usize {
        self.tree.slots.push(Slot { kind, end: 0 });
        self.tree.slots.len() - 1
    }

    fn close(&mut self, at: usize) {
        let end = self.tree.slots.len() as u32;
        if let Some(slot) = self.tree.slots.get_mut(at) {
            slot.end = end;
        }
    }

    fn text(&self, at: usize) -> &str {
        match self.tree.slots.get(at).map(|slot| slot.kind) {
            Some(Kind::Str(s)) => s,
            Some(Kind::Owned(i)) => self.tree.owned.get(i as usize).map_or("", |s| s),
            _ => "",
        }
    }

    /// Whether the key just added at `key` repeats one of the object's earlier keys.
    fn repeats(&self, object: usize, key: usize) -> bool {
        let new = self.text(key);
        let mut at = object + 1;
        while at < key {
            if self.text(at) == new {
                return true;
            }
            at = self
                .tree
                .slots
                .get(at + 1)
                .map_or(key, |slot| slot.end as usize);
        }
        false
    }
}

/// A cheap fingerprint of a key: one bit of 64. Two keys of an object with different bits
/// differ, so only a shared bit costs a comparison with the earlier keys.
fn key_bit(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let mix = bytes.len() as u64 * 31
        + u64::from(bytes.first().copied().unwrap_or(0)) * 7
        + u64::from(bytes.last().copied().unwrap_or(0));
    1 << (mix % 64)
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
        let at = self.open(Kind::Object { repeats: false });
        let mut bits = 0u64;
        let mut repeats = false;
        loop {
            let key = self.tree.slots.len();
            let more = map.next_key_seed(Value {
                tree: &mut *self.tree,
            })?;
            if more.is_none() {
                break;
            }
            let bit = key_bit(self.text(key));
            if bits & bit != 0 && !repeats {
                repeats = self.repeats(at, key);
            }
            bits |= bit;
            map.next_value_seed(Value {
                tree: &mut *self.tree,
            })?;
        }
        if repeats {
            if let Some(slot) = self.tree.slots.get_mut(at) {
                slot.kind = Kind::Object { repeats: true };
            }
        }
        self.close(at);
        Ok(())
    }
}
