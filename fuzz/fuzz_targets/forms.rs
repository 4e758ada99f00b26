//! Form bodies and query strings of the OAuth endpoints, and HTTP Basic credentials: any bytes
//! parse or are refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payer_sandbox::http::form;
use payer_sandbox::oauth::authorize::AuthorizeParams;
use payer_sandbox::oauth::token_exchange::{TokenRequest, parse_basic};

fuzz_target!(|data: &[u8]| {
    let _ = form::parse::<AuthorizeParams>(data);
    let _ = form::parse::<TokenRequest>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_basic(text);
    }
});
