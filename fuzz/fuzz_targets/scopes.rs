//! SMART scopes: any requested scope string grants a set that re-grants to itself, and narrowing
//! to the granted set is the identity.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payer_sandbox::oauth::scopes::GrantedScopes;

fuzz_target!(|text: &str| {
    let granted = GrantedScopes::grant(text, None);
    assert_eq!(GrantedScopes::grant(&granted.to_string(), None), granted);
    if !granted.is_empty() {
        assert_eq!(granted.narrow(&granted.to_string()), Ok(granted.clone()));
    }
    let _ = granted.narrow(text);
});
