//! A gzip member (RFC 1952) assembled from pieces without compressing per request: precompressed
//! DEFLATE segments (RFC 1951) as they are, per-request bytes as stored blocks, and a trailer
//! whose CRC-32 is combined from the pieces' CRCs.
//!
//! The layout:
//!
//! ```text
//! 1F 8B 08 00 | 00 00 00 00 | 00 FF     header: deflate, no flags, no MTIME, OS unknown
//! <blocks>                              the pieces in order, each ending on a byte boundary
//! 01 00 00 FF FF                        an empty final stored block: the end of the DEFLATE data
//! CRC32 (LE) | ISIZE (LE)               of the whole identity body; ISIZE = length mod 2^32
//! ```
//!
//! MTIME is 0 ("no time stamp") and OS 255 ("unknown") so that the same pieces always make the
//! same bytes, whatever the machine or the hour.
//!
//! The output is a list of `Bytes`: a segment is its stored `Bytes` (a reference count, not a
//! copy); a large per-request piece is sliced into its stored blocks' payloads; the small bytes
//! around them (the header, stored block headers, coalesced small pieces, the trailer) are
//! written into one growing buffer, cut off each time a shared `Bytes` has to follow.

use bytes::{BufMut, Bytes, BytesMut};
use crc32fast::Hasher;

use super::deflate_segment::{MAX_STORED, Segment, stored_header};

/// The gzip header (RFC 1952 §2.3.1): ID1 ID2, CM = 8 (deflate), FLG = 0, MTIME = 0, XFL = 0,
/// OS = 255 (unknown).
const HEADER: [u8; 10] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF];

/// The last DEFLATE block: stored, BFINAL = 1, empty.
const FINAL_BLOCK: [u8; 5] = [0x01, 0x00, 0x00, 0xFF, 0xFF];

/// A per-request piece shorter than this is copied into the current stored block, together with
/// its neighbours, rather than given stored blocks and a `Bytes` of its own: a Bundle's glue
/// (`{"fullUrl":"…","resource":`, `,"search":{"mode":"match"}}`) is tens of bytes, and copying
/// up to 1 KiB costs less than the extra `Bytes`, iovec entry and 5-byte block header it saves.
pub const COALESCE_BELOW: usize = 1024;

/// Builds a gzip body from pieces in order; [`GzipBody::finish`] closes it.
pub struct GzipBody {
    /// The finished parts of the body.
    chunks: Vec<Bytes>,
    /// Bytes written since the last shared `Bytes`: headers, coalesced pieces.
    tail: BytesMut,
    /// Where in `tail` the open stored block's 5-byte header is, while small pieces are added to
    /// it (its LEN and NLEN are filled in when it closes).
    open_stored: Option<usize>,
    /// The CRC-32 and length of the identity bytes so far.
    crc: Hasher,
    /// The length of `chunks` so far.
    chunks_len: u64,
}

impl Default for GzipBody {
    fn default() -> Self {
        Self::new()
    }
}

impl GzipBody {
    /// A body with the gzip header written.
    pub fn new() -> Self {
        let mut tail = BytesMut::with_capacity(4096);
        tail.put_slice(&HEADER);
        GzipBody {
            chunks: Vec::new(),
            tail,
            open_stored: None,
            crc: Hasher::new(),
            chunks_len: 0,
        }
    }

    /// A per-request piece, as stored blocks: copied if short (below [`COALESCE_BELOW`]),
    /// otherwise sliced (its blocks' payloads share `bytes`).
    pub fn piece(&mut self, bytes: Bytes) {
        if bytes.len() < COALESCE_BELOW {
            self.piece_slice(&bytes);
            return;
        }
        self.crc.update(&bytes);
        self.close_stored();
        let mut at = 0;
        while at < bytes.len() {
            let end = bytes.len().min(at + MAX_STORED);
            self.tail.put_slice(&stored_header(end - at));
            self.push_shared(bytes.slice(at..end));
            at = end;
        }
    }

    /// A per-request piece copied into stored blocks, coalesced with the small pieces around it.
    pub fn piece_slice(&mut self, mut bytes: &[u8]) {
        self.crc.update(bytes);
        while !bytes.is_empty() {
            let open = match self.open_stored {
                Some(open) => open,
                None => {
                    let open = self.tail.len();
                    // LEN and NLEN are filled in by `close_stored`.
                    self.tail.put_slice(&stored_header(0));
                    self.open_stored = Some(open);
                    open
                }
            };
            let room = MAX_STORED.saturating_sub(self.tail.len().saturating_sub(open + 5));
            let (now, later) = bytes.split_at(bytes.len().min(room));
            self.tail.put_slice(now);
            bytes = later;
            if now.len() == room {
                // Full: the rest goes into a new block.
                self.close_stored();
            }
        }
    }

    /// A precompressed segment: its bytes are shared, and its CRC is combined, not recomputed.
    pub fn segment(&mut self, segment: &Segment) {
        if segment.identity_len() == 0 {
            return;
        }
        self.crc.combine(&Hasher::new_with_initial_len(
            segment.crc32(),
            segment.identity_len(),
        ));
        self.close_stored();
        self.push_shared(segment.deflate().clone());
    }

    /// How many identity bytes the body holds so far.
    pub fn identity_len(&self) -> u64 {
        self.crc.total_len()
    }

    /// Closes the body: the final block and the trailer.
    pub fn finish(mut self) -> Gzipped {
        self.close_stored();
        let identity_len = self.crc.total_len();
        let crc = self.crc.finalize();
        self.tail.put_slice(&FINAL_BLOCK);
        self.tail.put_u32_le(crc);
        // ISIZE: the length modulo 2^32 (RFC 1952 §2.3.1), hence the truncation.
        self.tail.put_u32_le(identity_len as u32);
        let last = self.tail.split().freeze();
        self.chunks_len += last.len() as u64;
        self.chunks.push(last);
        Gzipped {
            chunks: self.chunks,
            len: self.chunks_len,
            identity_len,
            crc32: crc,
        }
    }

    /// Fills in the open stored block's LEN and NLEN, if a block is open.
    fn close_stored(&mut self) {
        if let Some(open) = self.open_stored.take() {
            let header = stored_header(self.tail.len().saturating_sub(open + 5));
            if let Some(at) = self.tail.get_mut(open..open + 5) {
                at.copy_from_slice(&header);
            }
        }
    }

    /// Cuts off what `tail` holds, then appends `shared`; no stored block may be open.
    fn push_shared(&mut self, shared: Bytes) {
        if !self.tail.is_empty() {
            let written = self.tail.split().freeze();
            self.chunks_len += written.len() as u64;
            self.chunks.push(written);
        }
        if !shared.is_empty() {
            self.chunks_len += shared.len() as u64;
            self.chunks.push(shared);
        }
    }
}

/// A finished gzip body: its parts in order, for a vectored write.
#[derive(Debug, Clone)]
pub struct Gzipped {
    chunks: Vec<Bytes>,
    len: u64,
    identity_len: u64,
    crc32: u32,
}

impl Gzipped {
    /// The parts, in order; their concatenation is the gzip body.
    pub fn chunks(&self) -> &[Bytes] {
        &self.chunks
    }

    /// The parts, to hand to a writer.
    pub fn into_chunks(self) -> Vec<Bytes> {
        self.chunks
    }

    /// The body's length in bytes (its `Content-Length`).
    pub fn encoded_len(&self) -> u64 {
        self.len
    }

    /// The length of the identity bytes it decompresses to.
    pub fn identity_len(&self) -> u64 {
        self.identity_len
    }

    /// The CRC-32 of the identity bytes, as written in the trailer.
    pub fn crc32(&self) -> u32 {
        self.crc32
    }
}

/// A gzip body of one piece (a resource read, a CapabilityStatement): compressed as a segment at
/// [`LEVEL`](super::LEVEL) and wrapped. This one compresses per call; a caller that sends the
/// same bytes again should keep the [`Segment`] instead.
pub fn gzip_whole(identity: &[u8]) -> Gzipped {
    let mut body = GzipBody::new();
    body.segment(&Segment::compress(identity));
    body.finish()
}
