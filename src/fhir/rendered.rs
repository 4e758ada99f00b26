//! Bundle entries already written, kept for the next search that gives the same page
//! (docs/fhir-api.md#bundles). A searchset's entries (`fullUrl`, the stored resource, `search`)
//! depend only on which resources the page holds, in which order and mode, and on the FHIR base of
//! their `fullUrl`s; the rest of the Bundle (its `meta.lastUpdated`, `total` and links) is written
//! per request. The sandbox answers the same searches over and over, so the entries of a page are
//! written once, into one contiguous buffer, and shared by every later response that holds the
//! same page: a 400 KB Bundle then costs no copy and no allocation of its size per request, and
//! its compressed form (`crate::compression`) can be found by the buffer rather than by hashing
//! its bytes.
//!
//! The cache belongs to one [`Store`](super::store::Store): the bytes of a resource never change
//! within a store (a data change builds a new store), so an entry is never stale. The key is the
//! page's resources themselves, decided by the search after every access check, so a page is only
//! ever shared with a caller the search gave that same page to. The cache holds at most `BUDGET`
//! bytes; past that it starts again empty.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

use super::store::Idx;

/// The entry bytes a store keeps at most.
pub const BUDGET: usize = 32 * 1024 * 1024;

/// What a page's entries are written from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// The FHIR base of the `fullUrl`s.
    pub base: String,
    /// The matches, in order (`search.mode` `match`).
    pub matches: Vec<Idx>,
    /// Then the included resources, in order (`search.mode` `include`).
    pub included: Vec<Idx>,
}

#[derive(Debug, Default)]
pub struct RenderedEntries {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    pages: HashMap<PageKey, Bytes>,
    bytes: usize,
}

impl RenderedEntries {
    /// The entries of `key`'s page: kept ones, or written by `write` now and kept.
    pub fn get_or_write(&self, key: PageKey, write: impl FnOnce() -> Bytes) -> Bytes {
        if let Some(found) = self.lock().pages.get(&key) {
            return found.clone();
        }
        // Written outside the lock; two requests for a new page may both write it, and the
        // later copy is kept.
        let written = write();
        let mut inner = self.lock();
        if inner.bytes + written.len() > BUDGET {
            inner.pages.clear();
            inner.bytes = 0;
        }
        if written.len() <= BUDGET {
            inner.bytes += written.len();
            if let Some(replaced) = inner.pages.insert(key, written.clone()) {
                inner.bytes -= replaced.len();
            }
        }
        written
    }

    /// The bytes held now.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(base: &str, matches: &[u32], included: &[u32]) -> PageKey {
        PageKey {
            base: base.into(),
            matches: matches.iter().map(|&n| Idx::new(n as usize)).collect(),
            included: included.iter().map(|&n| Idx::new(n as usize)).collect(),
        }
    }

    #[test]
    fn a_page_is_written_once_and_shared() {
        let cache = RenderedEntries::default();
        let mut writes = 0;
        let mut get = |k: PageKey| {
            cache.get_or_write(k, || {
                writes += 1;
                Bytes::from(vec![b'x'; 1000])
            })
        };
        let a = get(key("http://x/r4", &[1, 2], &[3]));
        let b = get(key("http://x/r4", &[1, 2], &[3]));
        assert_eq!(a.as_ptr(), b.as_ptr(), "the same buffer, not a copy");
        // Any difference is another page: order, mode, base.
        get(key("http://x/r4", &[2, 1], &[3]));
        get(key("http://x/r4", &[1, 2, 3], &[]));
        get(key("http://y/r4", &[1, 2], &[3]));
        assert_eq!(writes, 4);
        assert_eq!(cache.held(), 4000);
    }

    #[test]
    fn past_the_budget_it_starts_again() {
        let cache = RenderedEntries::default();
        let size = BUDGET / 3 + 1;
        for n in 0..10u32 {
            cache.get_or_write(key("b", &[n], &[]), || Bytes::from(vec![0; size]));
            assert!(cache.held() <= BUDGET);
        }
        let huge = cache.get_or_write(key("b", &[99], &[]), || Bytes::from(vec![0; BUDGET + 1]));
        assert_eq!(huge.len(), BUDGET + 1, "answered, not kept");
        assert!(cache.held() <= BUDGET);
    }
}
