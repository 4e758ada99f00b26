//! The string arena of the store while it is being filled: each distinct string once, named by
//! its number (`Sym`). Batches fill their own and the store builder renumbers them into one.

use super::fx_hash::FxHashMap;
use super::store::Sym;

#[derive(Debug, Default)]
pub(super) struct Interner {
    text: String,
    spans: Vec<(u32, u32)>,
    lookup: FxHashMap<Box<str>, Sym>,
}

impl Interner {
    /// An interner expecting about `strings` distinct strings.
    pub(super) fn with_capacity(strings: usize) -> Interner {
        Interner {
            text: String::with_capacity(strings * 16),
            spans: Vec::with_capacity(strings),
            lookup: FxHashMap::with_capacity_and_hasher(strings, Default::default()),
        }
    }

    pub(super) fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.lookup.get(s) {
            return sym;
        }
        let sym = self.spans.len() as Sym;
        self.spans.push((self.text.len() as u32, s.len() as u32));
        self.text.push_str(s);
        self.lookup.insert(s.into(), sym);
        sym
    }

    pub(super) fn get(&self, sym: Sym) -> &str {
        self.spans
            .get(sym as usize)
            .and_then(|&(start, len)| self.text.get(start as usize..(start + len) as usize))
            .unwrap_or_default()
    }

    /// Every string, in the order of their numbers.
    pub(super) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.spans.len() as Sym).map(|sym| self.get(sym))
    }

    /// The arena without its lookup table: the text and each string's `(start, len)` in it.
    pub(super) fn into_parts(self) -> (String, Vec<(u32, u32)>) {
        (self.text, self.spans)
    }
}
