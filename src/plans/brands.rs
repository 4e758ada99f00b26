//! SMART App Launch 2.2 User-access Brands (docs/plans.md#brands): one Bundle listing every plan
//! of the network as a Brand (an Organization with its logo and portal) and its patient access
//! Endpoint, so that an app's payer picker can be built against the sandbox. Each plan's
//! `smart-configuration` links to it (`user_access_brand_bundle`) and names its own Brand
//! (`user_access_brand_identifier`).

use serde_json::{Value, json};

/// What the Bundle says of one plan.
pub struct Brand<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// The plan's issuer: also the Brand's identifier.
    pub issuer: &'a str,
    pub fhir_base: &'a str,
    pub logo_url: String,
    /// Where a developer registers apps (the shared portal).
    pub portal_url: &'a str,
}

const CATEGORY: &str = "http://hl7.org/fhir/smart-app-launch/CodeSystem/user-access-category";

/// `user_access_brand_identifier` of a plan: the Organization identifier the Bundle carries.
pub fn identifier(issuer: &str) -> Value {
    json!({"system": "urn:ietf:rfc:3986", "value": issuer})
}

/// The Brand Bundle (type `collection`, with the timestamp apps compare).
pub fn bundle(base_url: &str, brands: &[Brand], timestamp: &str) -> Value {
    let mut entries = Vec::new();
    for brand in brands {
        let org_id = format!("brand-{}", brand.id);
        let endpoint_id = format!("endpoint-{}", brand.id);
        entries.push(json!({
            "fullUrl": format!("{base_url}/Organization/{org_id}"),
            "resource": {
                "resourceType": "Organization",
                "id": org_id,
                "meta": {"profile": ["http://hl7.org/fhir/smart-app-launch/StructureDefinition/user-access-brand"]},
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/StructureDefinition/organization-brand",
                        "extension": [{"url": "brandLogo", "valueUrl": brand.logo_url}]
                    },
                    {
                        "url": "http://hl7.org/fhir/StructureDefinition/organization-portal",
                        "extension": [
                            {"url": "portalName", "valueString": format!("{} member sign-in", brand.name)},
                            {"url": "portalUrl", "valueUrl": brand.portal_url},
                            {"url": "portalEndpoint", "valueReference": {"reference": format!("Endpoint/{endpoint_id}")}}
                        ]
                    }
                ],
                "identifier": [identifier(brand.issuer)],
                "active": true,
                "type": [{"coding": [{"system": CATEGORY, "code": "insurance", "display": "Insurance"}]}],
                "name": brand.name,
                "telecom": [{"system": "url", "value": brand.issuer}],
                "endpoint": [{"reference": format!("Endpoint/{endpoint_id}")}]
            }
        }));
        entries.push(json!({
            "fullUrl": format!("{base_url}/Endpoint/{endpoint_id}"),
            "resource": {
                "resourceType": "Endpoint",
                "id": endpoint_id,
                "meta": {"profile": ["http://hl7.org/fhir/smart-app-launch/StructureDefinition/user-access-endpoint"]},
                "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/endpoint-fhir-version", "valueCode": "4.0.1"}],
                "status": "active",
                "connectionType": {"system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type", "code": "hl7-fhir-rest"},
                "name": format!("{} Patient Access API (FHIR R4)", brand.name),
                "contact": [{"system": "url", "value": brand.portal_url}],
                "payloadType": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/endpoint-payload-type", "code": "none"}]}],
                "address": brand.fhir_base
            }
        }));
    }
    json!({
        "resourceType": "Bundle",
        "id": "user-access-brands",
        "meta": {"profile": ["http://hl7.org/fhir/smart-app-launch/StructureDefinition/user-access-brands-bundle"]},
        "type": "collection",
        "timestamp": timestamp,
        "entry": entries
    })
}
