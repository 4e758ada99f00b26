//! Reading `application/x-www-form-urlencoded` bodies and queries into typed values without
//! axum's rejections, so each endpoint answers malformed input in its own error format.

use serde::de::DeserializeOwned;

use crate::clock::UnixTime;

/// Parses a form or query string. Repeated parameters are an error (RFC 6749 §3.1, §3.2).
pub fn parse<T: DeserializeOwned>(input: &[u8]) -> Result<T, String> {
    serde_urlencoded::from_bytes(input).map_err(|e| format!("malformed form data: {e}"))
}

/// RFC 3339 timestamp of a Unix time, for JSON and pages.
pub fn rfc3339(at: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(at.seconds())
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
