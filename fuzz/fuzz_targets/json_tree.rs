//! The loader's JSON parser (a scanner for serde_json's own compact form, serde_json for the
//! rest): any bytes get serde_json's verdict, the same error, the same value, and written back
//! the same bytes, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payer_sandbox::json_tree::{Edits, Tree, write};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let ours = Tree::parse(data);
    let theirs = serde_json::from_slice::<Value>(data);
    match (ours, theirs) {
        (Ok(tree), Ok(value)) => {
            assert_eq!(tree.root().to_value(), value);
            let mut out = Vec::new();
            write(&mut out, tree.root(), &Edits::default());
            assert_eq!(Some(out), serde_json::to_vec(&value).ok());
        }
        (Err(ours), Err(theirs)) => assert_eq!(ours.to_string(), theirs.to_string()),
        (ours, theirs) => panic!("ours {:?}, serde_json {:?}", ours.is_ok(), theirs.is_ok()),
    }
});
