//! Compressed bodies kept for the next request that sends the same bytes
//! (docs/fhir-api.md#compression). The sandbox's responses repeat: the same read, the same
//! search page, for as long as the data does not change. A body is looked up by the XXH3-128
//! hash of its identity bytes (a content key: a changed resource is a different key, so nothing
//! is ever stale), and compressed once, at level 6, on its first request. The cache holds at most
//! `BUDGET` bytes of compressed output; past that it starts again empty, which costs one
//! compression per body still in use and never grows memory.
//!
//! A body the server keeps in one shared buffer (a search page's entries, which `crate::fhir`
//! writes once and shares) is also found by that buffer, without hashing it: by its address and
//! length. That key is sound because the cache holds a reference to the buffer: while the entry
//! exists, the buffer cannot be freed, so no other bytes can ever be at that address, and the
//! bytes of a `Bytes` never change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
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
    /// `(address, length)` of a shared buffer → the buffer (held, see above) and its segment.
    by_buffer: HashMap<(usize, usize), (Bytes, Arc<Segment>)>,
    /// Compressed bytes held, plus the shared buffers `by_buffer` keeps alive.
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
        if inner.make_room(size) {
            inner.by_hash.insert(key, segment.clone());
        }
        segment
    }

    /// `shared` as a segment, found by the buffer itself: for bytes the server keeps and sends
    /// again as the same `Bytes`.
    pub fn shared_segment(&self, shared: &Bytes) -> Arc<Segment> {
        let key = (shared.as_ptr() as usize, shared.len());
        if let Some((_, found)) = self.lock().by_buffer.get(&key) {
            return found.clone();
        }
        let segment = self.segment(shared);
        let size = shared.len() + segment.deflate().len();
        let mut inner = self.lock();
        if inner.make_room(size) {
            inner
                .by_buffer
                .insert(key, (shared.clone(), segment.clone()));
        }
        segment
    }

    /// The bytes held now: compressed ones, and the shared buffers found by address.
    pub fn held(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    /// Whether `size` more bytes may be kept, emptying the cache first if they would not fit.
    fn make_room(&mut self, size: usize) -> bool {
        if self.bytes + size > BUDGET {
            self.by_hash.clear();
            self.by_buffer.clear();
            self.bytes = 0;
        }
        if size > BUDGET {
            return false;
        }
        self.bytes += size;
        true
    }
}
