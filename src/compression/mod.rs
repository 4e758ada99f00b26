//! Compressed responses at (nearly) no CPU per request: gzip (RFC 1952) bodies assembled from
//! DEFLATE (RFC 1951) segments compressed once, and the `Accept-Encoding` negotiation
//! (RFC 9110 §12.5.3) that decides whether to send one. No HTTP framework types: `src/http`
//! passes header values in as strings and writes the returned `Bytes` out.
//!
//! How a body is made:
//!
//! - A stored resource's identity bytes are compressed once into a [`Segment`]: a raw DEFLATE
//!   stream of non-final blocks that ends on a byte boundary (a sync flush), with the CRC-32 and
//!   length of the bytes it stands for.
//! - A [`GzipBody`] lays out the gzip header, then the pieces in order: a segment's bytes as they
//!   are (the same `Bytes`, shared, not copied), or a per-request piece (a Bundle's `fullUrl`,
//!   its links) as *stored* (uncompressed) DEFLATE blocks, then an empty final block and the
//!   trailer, whose CRC-32 is combined from the pieces' CRCs rather than computed over the body.
//! - [`Gzipped`] is the result: a list of `Bytes` for a vectored write, and its length for
//!   `Content-Length`.
//!
//! - A response ([`gzip`]) is a Bundle's head as stored blocks and the rest as one segment, or
//!   the whole body as one segment, each segment from a [`SegmentCache`] keyed by the content's
//!   hash: compressed on the first request that sends those bytes, reused by every later one.
//!
//! Each segment starts with an empty window, so compressing resources separately costs some
//! ratio against compressing a whole Bundle at once (each segment has its own Huffman tables and
//! cannot refer back to the previous resource); the tests print the figures.

mod accept_encoding;
mod deflate_segment;
mod gzip_body;
mod response;
mod segment_cache;

#[cfg(test)]
mod tests;

pub use accept_encoding::{MIN_GZIP_LEN, ResponseCoding, negotiate};
pub use deflate_segment::{LEVEL, Segment};
pub use gzip_body::{COALESCE_BELOW, GzipBody, Gzipped, gzip_whole};
pub use response::{gzip, gzip_parts};
pub use segment_cache::SegmentCache;
