//! FHIR search parameters: any query string, for any resource type, with chained parameters
//! run or ignored, parses to a request or a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payer_sandbox::fhir::search::query;
use payer_sandbox::fhir::search_params::RESOURCES;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, query_bytes)) = data.split_first() else {
        return;
    };
    let def = &RESOURCES[usize::from(selector) % RESOURCES.len()];
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(query_bytes).unwrap_or_default();
    let _ = query::parse(def, &pairs);
    // The public APIs run chained parameters.
    let _ = query::parse_with(def, &pairs, query::Chains::Run);
});
