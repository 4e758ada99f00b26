//! Content negotiation (docs/fhir-api.md#base-and-format): JSON only. `_format` or an `Accept` header that asks for XML
//! (or anything but JSON, with no JSON or wildcard alternative) gets 406 before anything else.
//! Also reads `Prefer: handling=strict`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use url::form_urlencoded;

use crate::fhir::Handling;
use crate::state::AppState;

use super::error::FhirError;

/// Proof that the client accepts FHIR JSON.
pub struct JsonOnly;

impl FromRequestParts<AppState> for JsonOnly {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, FhirError> {
        let query = parts.uri.query().unwrap_or_default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if name == "_format" && !format_is_json(&value) {
                return Err(FhirError::NotAcceptable(format!(
                    "_format={value}: this server serves application/fhir+json only"
                )));
            }
        }
        if let Some(accept) = parts.headers.get(header::ACCEPT) {
            let accept = accept.to_str().unwrap_or_default();
            if !accept_allows_json(accept) {
                return Err(FhirError::NotAcceptable(format!(
                    "Accept: {accept}: this server serves application/fhir+json only"
                )));
            }
        }
        Ok(JsonOnly)
    }
}

fn format_is_json(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    let mime = value.split(';').next().unwrap_or_default().trim();
    matches!(
        mime,
        "json" | "application/json" | "application/fhir+json" | "application/json+fhir"
    )
}

/// An empty Accept, a wildcard, or any JSON type is fine; only a list of nothing but other
/// types (XML, Turtle, HTML alone) is refused.
fn accept_allows_json(accept: &str) -> bool {
    accept.trim().is_empty()
        || accept.split(',').any(|item| {
            let mime = item
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            mime == "*/*"
                || mime == "application/*"
                || mime.ends_with("json")
                || mime.ends_with("+json")
        })
}

/// `Prefer: handling=strict` (FHIR R4 search §3.1.1.3.4 "Handling errors"); lenient otherwise.
pub fn handling(headers: &HeaderMap) -> Handling {
    let strict = headers.get_all("prefer").iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split([',', ';'])
                .any(|p| p.trim().eq_ignore_ascii_case("handling=strict"))
        })
    });
    if strict {
        Handling::Strict
    } else {
        Handling::Lenient
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_and_format() {
        assert!(accept_allows_json("application/fhir+json"));
        assert!(accept_allows_json(
            "text/html,application/xhtml+xml,*/*;q=0.8"
        ));
        assert!(!accept_allows_json("application/fhir+xml"));
        assert!(!accept_allows_json("application/xml, text/xml"));
        assert!(format_is_json("json"));
        assert!(format_is_json("application/fhir+json"));
        assert!(!format_is_json("xml"));
        assert!(!format_is_json("application/fhir+xml"));
    }
}
