//! The CapabilityStatement of `GET /r4/metadata` (docs/fhir-api.md#capability-statement), generated from the search-parameter
//! table so that it lists exactly the parameters, includes and revincludes the server runs. It
//! is a strictly valid R4 (4.0.1) instance statement: no key outside the R4 definition.

use serde_json::{Value, json};

use super::apis::{Api, ServedType};
use super::search_params::{self, ResourceDef, referring_params};

pub const CARIN_CAPABILITY: &str = "http://hl7.org/fhir/us/carin-bb/CapabilityStatement/c4bb";
const CARIN_IG: &str = "http://hl7.org/fhir/us/carin-bb/ImplementationGuide/hl7.fhir.us.carin-bb";
const US_CORE_IG: &str = "http://hl7.org/fhir/us/core/ImplementationGuide/hl7.fhir.us.core";
const OAUTH_URIS: &str = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

/// The OAuth endpoints for the SMART `oauth-uris` extension, as the discovery document names
/// them.
pub struct SecurityUris<'a> {
    pub authorize: &'a str,
    pub token: &'a str,
    pub register: &'a str,
    pub introspect: &'a str,
    pub revoke: &'a str,
}

/// `base` is the absolute FHIR base URL; `date` the statement's date (YYYY-MM-DD).
pub fn capability_statement(base: &str, date: &str, uris: &SecurityUris) -> Value {
    let oauth = |name: &str, url: &str| json!({"url": name, "valueUri": url});
    json!({
        "resourceType": "CapabilityStatement",
        "id": "payer-sandbox",
        "url": format!("{base}/metadata"),
        "version": env!("CARGO_PKG_VERSION"),
        "name": "PayerSandboxCapabilityStatement",
        "title": "payer-sandbox CMS Patient Access API (CARIN Blue Button) sandbox",
        "status": "active",
        "experimental": true,
        "date": date,
        "publisher": "payer-sandbox",
        "description": "A read-only FHIR R4 server over synthetic CARIN Blue Button members, protected by SMART on FHIR OAuth 2.0. Every search is limited to the token's member.",
        "kind": "instance",
        "instantiates": [CARIN_CAPABILITY],
        "software": {"name": "payer-sandbox", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "payer-sandbox FHIR R4 endpoint", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "implementationGuide": [format!("{CARIN_IG}|2.0.0"), format!("{US_CORE_IG}|6.1.0")],
        "rest": [{
            "mode": "server",
            "documentation": "Read, vread, instance history and search need a bearer token from the SMART authorization server; patient/ and user/ scopes both confine the token to its member's compartment. Unknown search parameters are ignored and reported in an OperationOutcome entry unless the request sends Prefer: handling=strict.",
            "security": {
                "extension": [{
                    "url": OAUTH_URIS,
                    "extension": [
                        oauth("authorize", uris.authorize),
                        oauth("token", uris.token),
                        oauth("register", uris.register),
                        oauth("introspect", uris.introspect),
                        oauth("revoke", uris.revoke),
                    ]
                }],
                "cors": true,
                "service": [{
                    "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                        "display": "SMART-on-FHIR"
                    }],
                    "text": "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)"
                }],
                "description": "SMART App Launch standalone launch; the discovery document is at .well-known/smart-configuration under this base."
            },
            "resource": resources(Api::PatientAccess),
        }]
    })
}

/// The CapabilityStatement of a public API (`/directory/r4/metadata`, `/formulary/r4/metadata`):
/// no security, the IG's server statement instantiated, its profiles declared.
/// `plan` is the plan's name, as its description speaks of it.
pub fn public_capability_statement(api: Api, plan: &str, base: &str, date: &str) -> Value {
    let (guide, version) = api.guide();
    let (id, title, instantiates, what) = match api {
        Api::Formulary => (
            "payer-sandbox-formulary",
            "payer-sandbox drug formulary (Da Vinci US Drug Formulary 2.0.1)",
            "http://hl7.org/fhir/us/davinci-drug-formulary/CapabilityStatement/usdf-server",
            "public drug formulary: payer plans, formularies, formulary items (tier, prior authorization, step therapy, quantity limits) and drugs. Read-only; no authentication.",
        ),
        _ => (
            "payer-sandbox-directory",
            "payer-sandbox provider directory (Da Vinci PDex Plan-Net 1.1.0)",
            "http://hl7.org/fhir/us/davinci-pdex-plan-net/CapabilityStatement/plan-net",
            "public provider directory: networks, products, organizations, practitioners and their roles, locations, services, affiliations and endpoints. Read-only; no authentication.",
        ),
    };
    let description = format!("The {plan}'s {what}");
    json!({
        "resourceType": "CapabilityStatement",
        "id": id,
        "url": format!("{base}/metadata"),
        "version": env!("CARGO_PKG_VERSION"),
        "name": if api == Api::Formulary { "PayerSandboxFormularyCapabilityStatement" } else { "PayerSandboxDirectoryCapabilityStatement" },
        "title": title,
        "status": "active",
        "experimental": true,
        "date": date,
        "publisher": "payer-sandbox",
        "description": description,
        "kind": "instance",
        "instantiates": [instantiates],
        "software": {"name": "payer-sandbox", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": title, "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "implementationGuide": [format!("{guide}|{version}")],
        "rest": [{
            "mode": "server",
            "documentation": "Public and read-only: no token is needed and an Authorization header is ignored. Chained parameters (one level) are supported on reference parameters. Unknown search parameters are ignored and reported in an OperationOutcome entry unless the request sends Prefer: handling=strict.",
            "resource": resources(api),
        }]
    })
}

fn resources(api: Api) -> Vec<Value> {
    api.types()
        .iter()
        .filter_map(|served| {
            let (_, def) = search_params::resource(served.name)?;
            Some(resource(api, served, def))
        })
        .collect()
}

fn resource(api: Api, served: &ServedType, def: &ResourceDef) -> Value {
    let mut includes: Vec<String> = def
        .reference_params()
        .filter(|(_, p)| p.targets.iter().any(|t| api.serves(t)))
        .map(|(_, p)| format!("{}:{}", def.name, p.name))
        .collect();
    if !includes.is_empty() {
        includes.push(format!("{}:*", def.name));
    }
    let revincludes: Vec<String> = referring_params(def.name)
        .into_iter()
        .filter(|(source, _)| api.serves(source.name))
        .map(|(source, p)| format!("{}:{}", source.name, p.name))
        .collect();
    let params: Vec<Value> = def
        .params()
        .map(|(_, p)| {
            let mut param = json!({
                "name": p.name,
                "type": p.kind.code(),
                "documentation": format!("{}: {}", def.name, p.paths.join(" | ")),
            });
            if !p.definition.is_empty() {
                param["definition"] = json!(p.definition);
            }
            param
        })
        .collect();
    let mut entry = json!({
        "type": def.name,
        "interaction": [
            {"code": "read"},
            {"code": "vread"},
            {"code": "history-instance"},
            {"code": "search-type"},
        ],
        "versioning": "versioned",
        "readHistory": true,
        "updateCreate": false,
        "referencePolicy": ["literal", "local", "resolves"],
        "searchParam": params,
    });
    let profiles = served.profiles.unwrap_or(def.profiles);
    if !profiles.is_empty() {
        entry["supportedProfile"] = json!(profiles);
    }
    if !includes.is_empty() {
        entry["searchInclude"] = json!(includes);
    }
    if !revincludes.is_empty() {
        entry["searchRevInclude"] = json!(revincludes);
    }
    if api != Api::PatientAccess {
        // Public data never changes: one version of everything.
        entry["readHistory"] = json!(false);
    }
    if def.name == "Patient" {
        entry["operation"] = json!([{
            "name": "everything",
            "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"
        }]);
    }
    entry
}
