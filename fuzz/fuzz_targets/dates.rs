//! FHIR dates, dateTimes and instants with search prefixes: any text parses to a range or `None`,
//! and a parsed range is never inverted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payer_sandbox::fhir::date;

fuzz_target!(|text: &str| {
    if let Some(range) = date::parse(text) {
        assert!(range.length() >= 0, "inverted range for {text:?}");
        assert!(range.overlaps(&range), "a range overlaps itself: {text:?}");
    }
});
