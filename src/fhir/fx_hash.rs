//! FxHash (the hasher rustc uses, from the `rustc-hash` crate) for the store's tables, whose keys
//! are strings and numbers from the data being loaded rather than a remote party's choice: the
//! flooding resistance of the default SipHash buys nothing there, and hashing is a visible part of
//! loading millions of strings.

use std::hash::{BuildHasher, Hasher};

pub use rustc_hash::{FxHashMap, FxHashSet};

/// One string's FxHash, for tables that store hashes beside the string arena.
pub fn hash_str(s: &str) -> u64 {
    let mut hasher = rustc_hash::FxBuildHasher.build_hasher();
    hasher.write(s.as_bytes());
    hasher.finish()
}
