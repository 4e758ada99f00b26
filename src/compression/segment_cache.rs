//! Compressed bodies kept for the next request that sends the same bytes
//! (docs/fhir-api.md#compression). The sandbox's responses repeat: the same read, the same
//! search page, for as long as the data does not change. A body is looked up by the XXH3-128
//! hash of its identity bytes (a content key: a changed resource is a different key, so nothing
//! is ever stale), and compressed once, at level 6, on its first request. The cache holds at most
//! `BUDGET` bytes of compressed output; past that it starts again empty, which costs one
//! compression per body still in use and never grows memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use xxhash_rust::xxh3::xxh3_128;

use super::Segment;

/// The compressed bytes the cache holds at most.
pub const BUDGET: usize = 64 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct SegmentCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_hash: HashMap<u128, Arc<Segment>>,
    bytes: usize,
}

impl SegmentCache {
    /// `identity` as a segment: the cached one, or compressed now and kept.
    pub fn segment(&self, identity: &[u8]) -> Arc<Segment> {
        let key = xxh3_128(identity);
        if let Some(found) = self.lock().by_hash.get(&key) {
            return found.clone();
        }
        // Compressed outside the lock: another request may compress the same bytes meanwhile,
        // and one of the two copies is kept.
        let segment = Arc::new(Segment::compress(identity));
        let size = segment.deflate().len();
        let mut inner = self.lock();
        if inner.bytes + size > BUDGET {
            inner.by_hash.clear();
            inner.bytes = 0;
        }
        if size <= BUDGET {
            inner.bytes += size;
            inner.by_hash.insert(key, segment.clone());
        }
        segment
    }

    /// The compressed bytes held now.
    pub fn held(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}
