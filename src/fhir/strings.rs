//! The string arena of the store while it is being filled: each distinct string once, named by
//! its number (`Sym`). Batches fill their own and the store builder renumbers them into one.

use hashbrown::HashTable;

use super::fx_hash::hash_str;
use super::store::Sym;

/// The table holds only numbers and compares through the arena: no copy of each string.
#[derive(Debug, Default)]
pub(super) struct Interner {
    text: String,
    spans: Vec<(u32, u32)>,
    lookup: HashTable<Sym>,
}

fn text_of<'t>(text: &'t str, spans: &[(u32, u32)], sym: Sym) -> &'t str {
    spans
        .get(sym.index())
        .and_then(|&(start, len)| text.get(start as usize..(start + len) as usize))
        .unwrap_or_default()
}

impl Interner {
    /// An interner expecting about `strings` distinct strings.
    pub(super) fn with_capacity(strings: usize) -> Interner {
        Interner {
            text: String::with_capacity(strings * 16),
            spans: Vec::with_capacity(strings),
            lookup: HashTable::with_capacity(strings),
        }
    }

    pub(super) fn intern(&mut self, s: &str) -> Sym {
        let Interner {
            text,
            spans,
            lookup,
        } = self;
        let hash = hash_str(s);
        if let Some(&sym) = lookup.find(hash, |&sym| text_of(text, spans, sym) == s) {
            return sym;
        }
        let sym = Sym::new(spans.len());
        spans.push((text.len() as u32, s.len() as u32));
        text.push_str(s);
        lookup.insert_unique(hash, sym, |&sym| hash_str(text_of(text, spans, sym)));
        sym
    }

    pub(super) fn get(&self, sym: Sym) -> &str {
        text_of(&self.text, &self.spans, sym)
    }

    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Every string, in the order of their numbers.
    pub(super) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.spans.len()).map(|n| self.get(Sym::new(n)))
    }

    /// The arena without its lookup table: the text and each string's `(start, len)` in it.
    pub(super) fn into_parts(self) -> (String, Vec<(u32, u32)>) {
        (self.text, self.spans)
    }
}
