//! Which FHIR RESTful interaction (FHIR R4 §3.1.0) a request under `/r4` was, read from its
//! method and path alone, so that the report does not depend on how the FHIR handlers are
//! written.

use crate::http::routes;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interaction {
    /// `GET /r4/metadata`.
    Capabilities,
    /// `/r4/.well-known/…`.
    Discovery,
    Read(String),
    Vread(String),
    History(String),
    /// `GET /r4/{type}` or `POST /r4/{type}/_search`.
    Search(String),
    /// `/r4/{type}/{id}/$op` or `/r4/{type}/$op`, e.g. `$everything`.
    Operation(String, String),
    /// Any create, update, patch or delete (the server answers 405).
    Write(String),
    Other,
}

impl Interaction {
    pub fn resource_type(&self) -> Option<&str> {
        match self {
            Self::Read(t)
            | Self::Vread(t)
            | Self::History(t)
            | Self::Search(t)
            | Self::Operation(t, _)
            | Self::Write(t) => Some(t),
            _ => None,
        }
    }
}

fn is_type(segment: &str) -> bool {
    segment.starts_with(|c: char| c.is_ascii_uppercase())
        && segment.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `None` when the path is not under the FHIR base.
pub fn classify(method: &str, path: &str) -> Option<Interaction> {
    let rest = path.strip_prefix(routes::FHIR_BASE)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let get = method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD");
    let post = method.eq_ignore_ascii_case("POST");
    let interaction = match segments.as_slice() {
        ["metadata"] if get => Interaction::Capabilities,
        [".well-known", ..] => Interaction::Discovery,
        [t] if is_type(t) && get => Interaction::Search((*t).to_owned()),
        [t, "_search"] if is_type(t) && post => Interaction::Search((*t).to_owned()),
        [t, op] if is_type(t) && op.starts_with('$') => {
            Interaction::Operation((*t).to_owned(), (*op).to_owned())
        }
        [t, _, op] if is_type(t) && op.starts_with('$') => {
            Interaction::Operation((*t).to_owned(), (*op).to_owned())
        }
        [t, ..] if is_type(t) && !get => Interaction::Write((*t).to_owned()),
        [t, _] if is_type(t) => Interaction::Read((*t).to_owned()),
        [t, _, "_history"] if is_type(t) => Interaction::History((*t).to_owned()),
        [t, _, "_history", _] if is_type(t) => Interaction::Vread((*t).to_owned()),
        _ => Interaction::Other,
    };
    Some(interaction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_interactions() {
        let eob = || "ExplanationOfBenefit".to_owned();
        for (method, path, expected) in [
            ("GET", "/r4/metadata", Interaction::Capabilities),
            (
                "GET",
                "/r4/ExplanationOfBenefit",
                Interaction::Search(eob()),
            ),
            (
                "POST",
                "/r4/ExplanationOfBenefit/_search",
                Interaction::Search(eob()),
            ),
            (
                "GET",
                "/r4/ExplanationOfBenefit/1",
                Interaction::Read(eob()),
            ),
            (
                "GET",
                "/r4/ExplanationOfBenefit/1/_history/2",
                Interaction::Vread(eob()),
            ),
            (
                "GET",
                "/r4/ExplanationOfBenefit/1/_history",
                Interaction::History(eob()),
            ),
            (
                "PUT",
                "/r4/ExplanationOfBenefit/1",
                Interaction::Write(eob()),
            ),
            (
                "POST",
                "/r4/ExplanationOfBenefit",
                Interaction::Write(eob()),
            ),
            (
                "GET",
                "/r4/Patient/1/$everything",
                Interaction::Operation("Patient".into(), "$everything".into()),
            ),
            (
                "GET",
                "/r4/.well-known/smart-configuration",
                Interaction::Discovery,
            ),
            ("GET", "/r4", Interaction::Other),
        ] {
            assert_eq!(classify(method, path), Some(expected), "{method} {path}");
        }
        assert_eq!(classify("GET", "/oauth2/token"), None);
        assert_eq!(classify("GET", "/r4x/Patient"), None);
    }
}
