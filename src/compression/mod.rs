//! Compressed responses at (nearly) no CPU per request: gzip (RFC 1952) bodies assembled from
//! DEFLATE (RFC 1951) segments compressed once. No HTTP framework types.
//!
//! A stored resource's identity bytes are compressed once into a [`Segment`]: a raw DEFLATE
//! stream of non-final blocks that ends on a byte boundary (a sync flush), with the CRC-32 and
//! length of the bytes it stands for, ready to be spliced into any gzip body.

mod deflate_segment;

pub use deflate_segment::{LEVEL, Segment};
