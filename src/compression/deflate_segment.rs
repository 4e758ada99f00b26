//! A DEFLATE segment (RFC 1951): one piece of identity bytes compressed once, as raw DEFLATE
//! blocks that a gzip body (RFC 1952) can include anywhere among other blocks, with the CRC-32
//! and length that the gzip trailer needs.
//!
//! What makes a segment splice-able:
//!
//! - **Raw DEFLATE**, no zlib or gzip framing: the gzip body writes its own header and trailer.
//! - **A fresh compressor per segment**: its back-references reach only into its own bytes, so it
//!   decodes the same whatever came before it in the body (a decoder's window holds the earlier
//!   pieces' output, which a segment never refers to).
//! - **Ended with a sync flush** (`FlushCompress::Sync`, zlib's `Z_SYNC_FLUSH`): the compressor
//!   closes its last block, none of them marked final (BFINAL = 0), and pads with an empty stored
//!   block (`00 00 FF FF` after the 3 header bits), so the segment ends on a byte boundary and the
//!   next block (another segment, a stored block, the final block) can start at the next byte.
//!   A finishing flush would mark the last block final and end the stream; a partial or block
//!   flush can leave the stream mid-byte.

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress, Status};

/// The compression level of every segment: zlib's default, the usual balance for text. A segment
/// is compressed once per stored resource, not per request, so a higher level would cost only at
/// load, but on JSON it gains about a percent for several times the time; a fixed level also
/// keeps a resource's compressed bytes the same from one run to the next.
pub const LEVEL: u32 = 6;

/// The largest stored block (RFC 1951 §3.2.4: LEN is 16 bits).
pub(crate) const MAX_STORED: usize = 65_535;

/// What a sync flush leaves at the end of a segment: the LEN and NLEN of an empty stored block.
const SYNC_MARKER: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// Identity bytes compressed once: raw DEFLATE ending on a byte boundary, no final block.
#[derive(Clone)]
pub struct Segment {
    deflate: Bytes,
    crc: u32,
    len: u64,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment")
            .field("deflate_len", &self.deflate.len())
            .field("crc", &format_args!("{:08x}", self.crc))
            .field("len", &self.len)
            .finish()
    }
}

impl Segment {
    /// Compresses `identity` at [`LEVEL`] into a segment. Cannot fail: should the compressor
    /// report an error, or its output not end as a sync flush does, the segment is the identity
    /// bytes as stored blocks instead (valid DEFLATE, only not smaller).
    pub fn compress(identity: &[u8]) -> Segment {
        let crc = crc32fast::hash(identity);
        let len = identity.len() as u64;
        if identity.is_empty() {
            // Nothing to say: an empty segment adds no block at all.
            return Segment {
                deflate: Bytes::new(),
                crc,
                len,
            };
        }
        let deflate = match sync_flushed(identity) {
            Some(deflate) => deflate,
            None => stored_blocks(identity),
        };
        Segment {
            deflate: Bytes::from(deflate),
            crc,
            len,
        }
    }

    /// The raw DEFLATE bytes (no header, no final block); cloning the `Bytes` shares them.
    pub fn deflate(&self) -> &Bytes {
        &self.deflate
    }

    /// The CRC-32 (RFC 1952's, ISO 3309) of the identity bytes.
    pub fn crc32(&self) -> u32 {
        self.crc
    }

    /// How many identity bytes the segment stands for.
    pub fn identity_len(&self) -> u64 {
        self.len
    }
}

/// `identity` through a fresh raw compressor with a sync flush, or `None` if the compressor
/// fails or stops making progress (neither is expected; the caller then stores the bytes).
fn sync_flushed(identity: &[u8]) -> Option<Vec<u8>> {
    let mut compressor = Compress::new(Compression::new(LEVEL), false);
    // JSON usually compresses to a fifth or less; the buffer grows if not.
    let mut out = Vec::with_capacity(identity.len() / 4 + 64);
    loop {
        let consumed = usize::try_from(compressor.total_in()).ok()?;
        let input = identity.get(consumed..)?;
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(4096));
        }
        let (in_before, out_before) = (compressor.total_in(), compressor.total_out());
        let status = compressor
            .compress_vec(input, &mut out, FlushCompress::Sync)
            .ok()?;
        let all_in = compressor.total_in() == identity.len() as u64;
        // As with zlib's Z_SYNC_FLUSH, the flush is complete once a call leaves output space
        // unused: had it more to write, it would have filled the buffer.
        if all_in && out.len() < out.capacity() {
            break;
        }
        let progressed = compressor.total_in() != in_before || compressor.total_out() != out_before;
        if !progressed && all_in {
            // The previous call's flush filled the buffer exactly and was complete after all;
            // the marker check below confirms it.
            break;
        }
        if !progressed || matches!(status, Status::StreamEnd) {
            return None;
        }
    }
    // A sync flush always ends with an empty stored block; anything else is not splice-able.
    if !out.ends_with(&SYNC_MARKER) {
        return None;
    }
    // Segments live as long as the data; do not keep the slack.
    out.shrink_to_fit();
    Some(out)
}

/// `identity` as non-final stored blocks (RFC 1951 §3.2.4): valid DEFLATE ending on a byte
/// boundary, used only when the compressor did not deliver.
fn stored_blocks(identity: &[u8]) -> Vec<u8> {
    let blocks = identity.len().div_ceil(MAX_STORED);
    let mut out = Vec::with_capacity(identity.len() + 5 * blocks);
    for chunk in identity.chunks(MAX_STORED) {
        out.extend_from_slice(&stored_header(chunk.len()));
        out.extend_from_slice(chunk);
    }
    out
}

/// The 5 bytes that open a non-final stored block of `len` (at most [`MAX_STORED`]) bytes, at a
/// byte boundary: BFINAL = 0 and BTYPE = 00 in the first byte's low bits (the rest of that byte
/// is padding), then LEN and its one's complement NLEN, little-endian.
pub(crate) fn stored_header(len: usize) -> [u8; 5] {
    // Callers cut their bytes into blocks of at most MAX_STORED, so this never saturates.
    let len = u16::try_from(len).unwrap_or(u16::MAX);
    let [l0, l1] = len.to_le_bytes();
    let [n0, n1] = (!len).to_le_bytes();
    [0x00, l0, l1, n0, n1]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inflates raw DEFLATE that has no final block by appending one (an empty final stored
    /// block), as the gzip body does.
    fn inflate(deflate: &[u8]) -> Vec<u8> {
        use std::io::Read;
        let mut stream = deflate.to_vec();
        stream.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(&stream[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn a_segment_inflates_to_its_input_and_ends_with_a_sync_flush() {
        let json = br#"{"resourceType":"Observation","id":"a","status":"final"}"#.repeat(50);
        let segment = Segment::compress(&json);
        assert!(segment.deflate().ends_with(&SYNC_MARKER));
        assert!(segment.deflate().len() < json.len() / 5);
        assert_eq!(segment.crc32(), crc32fast::hash(&json));
        assert_eq!(segment.identity_len(), json.len() as u64);
        assert_eq!(inflate(segment.deflate()), json);
    }

    #[test]
    fn incompressible_and_large_input_survives_the_output_buffer_growing() {
        // A xorshift stream: no repetition for DEFLATE to find, so the output outgrows the
        // first guess at its size several times.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let noise: Vec<u8> = (0..300_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let segment = Segment::compress(&noise);
        assert!(segment.deflate().ends_with(&SYNC_MARKER));
        assert_eq!(inflate(segment.deflate()), noise);
    }

    #[test]
    fn an_empty_input_is_an_empty_segment() {
        let segment = Segment::compress(b"");
        assert!(segment.deflate().is_empty());
        assert_eq!(segment.crc32(), 0);
        assert_eq!(segment.identity_len(), 0);
    }

    #[test]
    fn stored_blocks_are_valid_deflate() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(inflate(&stored_blocks(&data)), data);
        assert_eq!(stored_header(1), [0, 1, 0, 0xFE, 0xFF]);
        assert_eq!(stored_header(MAX_STORED), [0, 0xFF, 0xFF, 0, 0]);
    }
}
