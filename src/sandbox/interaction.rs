//! Which FHIR RESTful interaction (FHIR R4 §3.1.0) a request under the FHIR base was, from the
//! route the router matched, its method and its path parameters: the request log and the report
//! count these, whichever handler answered and whether it succeeded.

use serde::{Deserialize, Serialize};

/// Serialized only where hosted mode stores the request log (docs/hosted.md#the-request-log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// The routes of the FHIR API, as the router registers them (docs/endpoints.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FhirRoute {
    /// `/metadata`.
    Metadata,
    /// `/.well-known/smart-configuration` under the FHIR base.
    Discovery,
    /// `/{type}`.
    Type,
    /// `/{type}/_search`.
    TypeSearch,
    /// `/{type}/{id}`.
    Instance,
    /// `/{type}/{id}/{operation}`: `$everything`, or `_history`.
    InstanceOperation,
    /// `/{type}/{id}/_history/{vid}`.
    Version,
    /// No FHIR route matched.
    Unrouted,
}

fn is_type(segment: &str) -> bool {
    segment.starts_with(|c: char| c.is_ascii_uppercase())
        && segment.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The interaction a request to `route` with `method` was; `resource_type` and `operation` are
/// the route's path parameters, when it has them.
pub fn interaction(
    route: FhirRoute,
    method: &str,
    resource_type: Option<&str>,
    operation: Option<&str>,
) -> Interaction {
    let get = method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD");
    let post = method.eq_ignore_ascii_case("POST");
    let t = match (route, resource_type) {
        (FhirRoute::Metadata, _) if get => return Interaction::Capabilities,
        (FhirRoute::Discovery, _) => return Interaction::Discovery,
        (_, Some(t)) if is_type(t) => t.to_owned(),
        _ => return Interaction::Other,
    };
    let op = operation.unwrap_or_default();
    match route {
        FhirRoute::Type if get => Interaction::Search(t),
        FhirRoute::TypeSearch if get || post => Interaction::Search(t),
        FhirRoute::InstanceOperation if op.starts_with('$') => {
            Interaction::Operation(t, op.to_owned())
        }
        FhirRoute::Type
        | FhirRoute::TypeSearch
        | FhirRoute::Instance
        | FhirRoute::InstanceOperation
        | FhirRoute::Version
            if !get =>
        {
            Interaction::Write(t)
        }
        FhirRoute::Instance => Interaction::Read(t),
        FhirRoute::InstanceOperation if op == "_history" => Interaction::History(t),
        FhirRoute::Version => Interaction::Vread(t),
        _ => Interaction::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interactions_from_routes() {
        let eob = || "ExplanationOfBenefit".to_owned();
        let t = Some("ExplanationOfBenefit");
        for (route, method, op, expected) in [
            (FhirRoute::Metadata, "GET", None, Interaction::Capabilities),
            (FhirRoute::Discovery, "GET", None, Interaction::Discovery),
            (FhirRoute::Type, "GET", None, Interaction::Search(eob())),
            (
                FhirRoute::TypeSearch,
                "POST",
                None,
                Interaction::Search(eob()),
            ),
            (FhirRoute::Instance, "GET", None, Interaction::Read(eob())),
            (FhirRoute::Version, "GET", None, Interaction::Vread(eob())),
            (
                FhirRoute::InstanceOperation,
                "GET",
                Some("_history"),
                Interaction::History(eob()),
            ),
            (FhirRoute::Instance, "PUT", None, Interaction::Write(eob())),
            (FhirRoute::Type, "POST", None, Interaction::Write(eob())),
            (
                FhirRoute::InstanceOperation,
                "GET",
                Some("$everything"),
                Interaction::Operation(eob(), "$everything".into()),
            ),
            (
                FhirRoute::InstanceOperation,
                "POST",
                Some("$everything"),
                Interaction::Operation(eob(), "$everything".into()),
            ),
            (FhirRoute::Unrouted, "GET", None, Interaction::Other),
        ] {
            assert_eq!(
                interaction(route, method, t, op),
                expected,
                "{route:?} {method}"
            );
        }
        assert_eq!(
            interaction(FhirRoute::Type, "GET", Some("not-a-type"), None),
            Interaction::Other
        );
    }
}
