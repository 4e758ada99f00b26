//! A JSON response body gzipped for the wire (docs/fhir-api.md#compression). A searchset or
//! history Bundle starts with what changes on every request (its `meta.lastUpdated`, the sandbox
//! clock's now) and goes on with its entries, which repeat for as long as the data does: the
//! head, up to `"entry":[`, is sent as stored (uncompressed) DEFLATE blocks, a few hundred bytes,
//! and the rest is one cached segment ([`SegmentCache`]). Any other body is one cached segment.
//! The result decompresses to exactly `identity`.
//!
//! A body that comes as several buffers ([`gzip_parts`]: a search's per-request head and its
//! entries, which the server keeps written) needs no search for where its entries start: short
//! parts go as stored blocks, and each long one is the segment of that very buffer
//! ([`SegmentCache::shared_segment`]), found without reading its bytes.

use bytes::Bytes;

use super::{GzipBody, Gzipped, SegmentCache};

/// Where a Bundle's entries start: the first `"entry":[`, which its head (meta, type, total,
/// links, whose URLs are percent-encoded) cannot contain.
const ENTRIES: &[u8] = b"\"entry\":[";
/// How far into a Bundle its entries may start: a head is a few hundred bytes (links included).
const HEAD_WITHIN: usize = 8 * 1024;

/// `identity` gzipped, its repeating part from `cache`.
pub fn gzip(identity: &Bytes, cache: &SegmentCache) -> Gzipped {
    let split = identity
        .starts_with(b"{\"resourceType\":\"Bundle\"")
        .then(|| find(&identity[..identity.len().min(HEAD_WITHIN)], ENTRIES))
        .flatten();
    let mut body = GzipBody::new();
    match split {
        Some(at) => {
            body.piece(identity.slice(..at));
            body.segment(&cache.segment(&identity[at..]));
        }
        None => body.segment(&cache.segment(identity)),
    }
    body.finish()
}

/// A part this long or longer is bytes the server keeps (a search page's entries), sent as the
/// cached segment of that very buffer.
const SHARED_FROM: usize = HEAD_WITHIN;

/// The body made of `parts`, in order, gzipped: the first part, when short, is the per-request
/// head and goes as stored blocks; each long part is a kept buffer's segment; any other part is
/// a segment found by its content, like a whole body.
pub fn gzip_parts(parts: &[Bytes], cache: &SegmentCache) -> Gzipped {
    if let [whole] = parts {
        return gzip(whole, cache);
    }
    let mut body = GzipBody::new();
    for (i, part) in parts.iter().enumerate() {
        if part.len() >= SHARED_FROM {
            body.segment(&cache.shared_segment(part));
        } else if i == 0 {
            body.piece(part.clone());
        } else {
            body.segment(&cache.segment(part));
        }
    }
    body.finish()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gunzip(gzipped: &Gzipped) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gzipped.chunks().concat()[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn bundle(now: &str, entries: usize) -> Bytes {
        let mut json = format!(
            "{{\"resourceType\":\"Bundle\",\"meta\":{{\"lastUpdated\":\"{now}\"}},\"type\":\"searchset\",\"entry\":["
        );
        for i in 0..entries {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&format!(
                "{{\"fullUrl\":\"http://x/r4/Coverage/c{i}\",\"resource\":{{\"resourceType\":\"Coverage\",\"id\":\"c{i}\",\"status\":\"active\"}}}}"
            ));
        }
        json.push_str("]}");
        Bytes::from(json)
    }

    #[test]
    fn a_bundle_s_entries_are_compressed_once_whatever_its_head_says() {
        let cache = SegmentCache::default();
        let first = bundle("2026-01-01T00:00:00Z", 200);
        let later = bundle("2026-01-01T00:00:07Z", 200);
        let a = gzip(&first, &cache);
        let held = cache.held();
        let b = gzip(&later, &cache);
        assert_eq!(gunzip(&a), first.to_vec());
        assert_eq!(gunzip(&b), later.to_vec());
        assert_eq!(cache.held(), held, "the entries were compressed once");
        assert!(
            a.encoded_len() * 5 < first.len() as u64,
            "{}",
            a.encoded_len()
        );
    }

    #[test]
    fn any_other_body_is_one_cached_segment() {
        let cache = SegmentCache::default();
        for body in [
            Bytes::from_static(b"{\"resourceType\":\"Patient\",\"id\":\"p\"}"),
            Bytes::from_static(b"{\"resourceType\":\"Bundle\"}"),
            Bytes::new(),
            Bytes::from(vec![b'x'; 100_000]),
        ] {
            assert_eq!(gunzip(&gzip(&body, &cache)), body.to_vec());
        }
    }

    #[test]
    fn parts_are_a_head_as_stored_blocks_then_shared_buffers_found_by_address() {
        let cache = SegmentCache::default();
        let whole = bundle("2026-01-01T00:00:00Z", 300);
        let at = find(&whole, ENTRIES).unwrap();
        let (head, entries) = (whole.slice(..at), whole.slice(at..));
        let a = gzip_parts(&[head.clone(), entries.clone()], &cache);
        assert_eq!(gunzip(&a), whole.to_vec());
        let held = cache.held();
        // The same buffer again, after another head: nothing compressed, nothing hashed.
        let later = bundle("2026-01-01T00:00:09Z", 300);
        let later_head = later.slice(..find(&later, ENTRIES).unwrap());
        let b = gzip_parts(&[later_head, entries.clone()], &cache);
        assert_eq!(gunzip(&b), later.to_vec());
        assert_eq!(cache.held(), held);
        // Equal bytes in another buffer are still right (found by their hash).
        let copy = Bytes::from(entries.to_vec());
        let c = gzip_parts(&[head, copy], &cache);
        assert_eq!(gunzip(&c), whole.to_vec());
        // Short later parts are compressed too (found by their content).
        let small = bundle("2026-01-01T00:00:00Z", 3);
        let at = find(&small, ENTRIES).unwrap();
        let d = gzip_parts(&[small.slice(..at), small.slice(at..)], &cache);
        assert_eq!(gunzip(&d), small.to_vec());
        // One part is a whole body; none is an empty one.
        assert_eq!(
            gunzip(&gzip_parts(std::slice::from_ref(&whole), &cache)),
            whole.to_vec()
        );
        assert!(gunzip(&gzip_parts(&[], &cache)).is_empty());
    }

    #[test]
    fn the_cache_starts_again_past_its_budget() {
        let cache = SegmentCache::default();
        // Incompressible bodies fill the budget quickly.
        let mut seed = 1u64;
        let mut noise = |n: usize| {
            (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect::<Vec<u8>>()
        };
        for _ in 0..(super::super::segment_cache::BUDGET / (4 << 20) + 2) {
            cache.segment(&noise(4 << 20));
            assert!(cache.held() <= super::super::segment_cache::BUDGET);
        }
    }
}
