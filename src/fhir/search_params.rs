//! The search parameters, as data (docs/fhir-api.md): one table per resource type naming each parameter,
//! its type, the element paths it reads and, for references, the types it may point to. The same
//! table drives query parsing, matching, `_include`/`_revinclude` and the CapabilityStatement,
//! so the three cannot disagree. Paths are FHIRPath-like: dot-separated element names from the
//! resource root, `[x]` for a choice element (`item.serviced[x]` reads `servicedDate` and
//! `servicedPeriod`). The CARIN BB 2.0.0 parameters follow its SearchParameter resources, and the
//! clinical types' parameters (and Location's address ones) US Core 6.1.0's, which derive from the
//! base ones; every parameter and combination the US Core 6.1.0 server CapabilityStatement makes
//! SHALL for the clinical types is here.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Token,
    Date,
    Reference,
    String,
    Uri,
}

impl ParamType {
    pub fn code(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Date => "date",
            Self::Reference => "reference",
            Self::String => "string",
            Self::Uri => "uri",
        }
    }
}

#[derive(Debug)]
pub struct ParamDef {
    pub name: &'static str,
    pub kind: ParamType,
    pub paths: &'static [&'static str],
    /// Reference parameters: the resource types the reference may point to.
    pub targets: &'static [&'static str],
    /// The canonical SearchParameter this one implements ("" when none is claimed).
    pub definition: &'static str,
}

#[derive(Debug)]
pub struct ResourceDef {
    pub name: &'static str,
    /// Type-specific parameters; `COMMON` ones come first for every type (see `params`).
    pub params: &'static [ParamDef],
    /// Parameters whose Patient reference puts a resource in that Patient's compartment
    /// (docs/access.md#scope-enforcement). Empty for types that are shared (readable when referenced), and for Patient,
    /// which is the compartment itself.
    pub compartment: &'static [&'static str],
    /// The profiles the server declares for the type (CapabilityStatement `supportedProfile`):
    /// CARIN BB 2.0.0, and versioned US Core canonicals for the clinical types, PractitionerRole
    /// and Location.
    pub profiles: &'static [&'static str],
}

const fn p(
    name: &'static str,
    kind: ParamType,
    paths: &'static [&'static str],
    definition: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind,
        paths,
        targets: &[],
        definition,
    }
}

const fn r(
    name: &'static str,
    paths: &'static [&'static str],
    targets: &'static [&'static str],
    definition: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind: ParamType::Reference,
        paths,
        targets,
        definition,
    }
}

use ParamType::{Date, String as Str, Token, Uri};

macro_rules! base {
    ($name:literal) => {
        concat!("http://hl7.org/fhir/SearchParameter/", $name)
    };
}
macro_rules! carin {
    ($name:literal) => {
        concat!("http://hl7.org/fhir/us/carin-bb/SearchParameter/", $name)
    };
}
macro_rules! plan_net {
    ($name:literal) => {
        concat!(
            "http://hl7.org/fhir/us/davinci-pdex-plan-net/SearchParameter/",
            $name
        )
    };
}
macro_rules! usdf {
    ($name:literal) => {
        concat!(
            "http://hl7.org/fhir/us/davinci-drug-formulary/SearchParameter/",
            $name
        )
    };
}
macro_rules! us_core {
    ($name:literal) => {
        concat!(
            "http://hl7.org/fhir/us/core/SearchParameter/us-core-",
            $name
        )
    };
}
macro_rules! us_core_profile {
    ($name:literal, $version:literal) => {
        concat!(
            "http://hl7.org/fhir/us/core/StructureDefinition/us-core-",
            $name,
            "|",
            $version
        )
    };
    ($name:literal) => {
        us_core_profile!($name, "6.1.0")
    };
}
macro_rules! profile {
    ($name:literal) => {
        concat!(
            "http://hl7.org/fhir/us/carin-bb/StructureDefinition/",
            $name
        )
    };
}

/// Every type has these: the resource id, `meta.lastUpdated` and `meta.profile`.
pub const COMMON: &[ParamDef] = &[
    p("_id", Token, &["id"], base!("Resource-id")),
    p(
        "_lastUpdated",
        Date,
        &["meta.lastUpdated"],
        base!("Resource-lastUpdated"),
    ),
    p(
        "_profile",
        Uri,
        &["meta.profile"],
        base!("Resource-profile"),
    ),
];

const PROVIDERS: &[&str] = &["Practitioner", "Organization", "PractitionerRole"];
const PATIENT: &[&str] = &["Patient"];

const EXPLANATION_OF_BENEFIT: &[ParamDef] = &[
    r(
        "patient",
        &["patient"],
        PATIENT,
        carin!("explanationofbenefit-patient"),
    ),
    p(
        "type",
        Token,
        &["type"],
        carin!("explanationofbenefit-type"),
    ),
    p(
        "identifier",
        Token,
        &["identifier"],
        carin!("explanationofbenefit-identifier"),
    ),
    // Da Vinci PDex 2.0.0's SearchParameter: tells prior authorizations (`preauthorization`)
    // from claims (`claim`) among a member's ExplanationOfBenefits.
    p(
        "use",
        Token,
        &["use"],
        "http://hl7.org/fhir/us/davinci-pdex/SearchParameter/explanationofbenefit-use",
    ),
    p(
        "service-date",
        Date,
        &["billablePeriod", "item.serviced[x]"],
        carin!("explanationofbenefit-service-date"),
    ),
    p(
        "service-start-date",
        Date,
        &[
            "billablePeriod.start",
            "item.servicedDate",
            "item.servicedPeriod.start",
        ],
        carin!("explanationofbenefit-service-start-date"),
    ),
    p(
        "billable-period-start",
        Date,
        &["billablePeriod.start"],
        carin!("explanationofbenefit-billable-period-start"),
    ),
    r(
        "provider",
        &["provider"],
        PROVIDERS,
        carin!("explanationofbenefit-provider"),
    ),
    r(
        "care-team",
        &["careTeam.provider"],
        PROVIDERS,
        carin!("explanationofbenefit-care-team"),
    ),
    r(
        "coverage",
        &["insurance.coverage"],
        &["Coverage"],
        carin!("explanationofbenefit-coverage"),
    ),
    r(
        "insurer",
        &["insurer"],
        &["Organization"],
        carin!("explanationofbenefit-insurer"),
    ),
    r(
        "payee",
        &["payee.party"],
        &[
            "Practitioner",
            "PractitionerRole",
            "Organization",
            "Patient",
            "RelatedPerson",
        ],
        base!("ExplanationOfBenefit-payee"),
    ),
    r(
        "facility",
        &["facility"],
        &["Location"],
        base!("ExplanationOfBenefit-facility"),
    ),
    // Who entered the claim or, on a prior authorization, who requested it (PDex).
    r(
        "enterer",
        &["enterer"],
        &["Practitioner", "PractitionerRole"],
        base!("ExplanationOfBenefit-enterer"),
    ),
    p(
        "created",
        Date,
        &["created"],
        base!("ExplanationOfBenefit-created"),
    ),
    p(
        "status",
        Token,
        &["status"],
        base!("ExplanationOfBenefit-status"),
    ),
];

const COVERAGE: &[ParamDef] = &[
    r(
        "patient",
        &["beneficiary"],
        PATIENT,
        base!("Coverage-patient"),
    ),
    r(
        "beneficiary",
        &["beneficiary"],
        PATIENT,
        base!("Coverage-beneficiary"),
    ),
    r(
        "payor",
        &["payor"],
        &["Organization", "Patient", "RelatedPerson"],
        carin!("coverage-payor"),
    ),
    r(
        "subscriber",
        &["subscriber"],
        &["Patient", "RelatedPerson"],
        base!("Coverage-subscriber"),
    ),
    r(
        "policy-holder",
        &["policyHolder"],
        &["Patient", "RelatedPerson", "Organization"],
        base!("Coverage-policy-holder"),
    ),
    p(
        "identifier",
        Token,
        &["identifier"],
        base!("Coverage-identifier"),
    ),
    p("status", Token, &["status"], base!("Coverage-status")),
    p("type", Token, &["type"], base!("Coverage-type")),
];

const PATIENT_PARAMS: &[ParamDef] = &[
    p(
        "identifier",
        Token,
        &["identifier"],
        base!("Patient-identifier"),
    ),
    p("name", Str, &["name"], base!("Patient-name")),
    p("family", Str, &["name.family"], base!("individual-family")),
    p("given", Str, &["name.given"], base!("individual-given")),
    p(
        "birthdate",
        Date,
        &["birthDate"],
        base!("individual-birthdate"),
    ),
    p("gender", Token, &["gender"], base!("individual-gender")),
    p(
        "address-postalcode",
        Str,
        &["address.postalCode"],
        base!("individual-address-postalcode"),
    ),
];

const ORGANIZATION: &[ParamDef] = &[
    p(
        "identifier",
        Token,
        &["identifier"],
        base!("Organization-identifier"),
    ),
    p("name", Str, &["name", "alias"], base!("Organization-name")),
    p("type", Token, &["type"], base!("Organization-type")),
    // Da Vinci PDex Plan-Net 1.1.0 (the provider directory).
    p(
        "address",
        Str,
        &["address"],
        plan_net!("organization-address"),
    ),
    r(
        "partof",
        &["partOf"],
        &["Organization"],
        plan_net!("organization-partof"),
    ),
    r(
        "endpoint",
        &["endpoint"],
        &["Endpoint"],
        plan_net!("organization-endpoint"),
    ),
    r(
        "coverage-area",
        &["extension:location-reference.valueReference"],
        &["Location"],
        plan_net!("organization-coverage-area"),
    ),
];

const PRACTITIONER: &[ParamDef] = &[
    p(
        "identifier",
        Token,
        &["identifier"],
        base!("Practitioner-identifier"),
    ),
    p("name", Str, &["name"], base!("Practitioner-name")),
    p("family", Str, &["name.family"], base!("individual-family")),
    p("given", Str, &["name.given"], base!("individual-given")),
];

const PRACTITIONER_ROLE: &[ParamDef] = &[
    r(
        "practitioner",
        &["practitioner"],
        &["Practitioner"],
        carin!("practitionerrole-practitioner"),
    ),
    r(
        "organization",
        &["organization"],
        &["Organization"],
        carin!("practitionerrole-organization"),
    ),
    r(
        "location",
        &["location"],
        &["Location"],
        base!("PractitionerRole-location"),
    ),
    p(
        "specialty",
        Token,
        &["specialty"],
        base!("PractitionerRole-specialty"),
    ),
    p(
        "identifier",
        Token,
        &["identifier"],
        base!("PractitionerRole-identifier"),
    ),
    // Da Vinci PDex Plan-Net 1.1.0.
    r(
        "service",
        &["healthcareService"],
        &["HealthcareService"],
        plan_net!("practitionerrole-service"),
    ),
    r(
        "network",
        &["extension:network-reference.valueReference"],
        &["Organization"],
        plan_net!("practitionerrole-network"),
    ),
    r(
        "endpoint",
        &["endpoint"],
        &["Endpoint"],
        plan_net!("practitionerrole-endpoint"),
    ),
    p("role", Token, &["code"], plan_net!("practitionerrole-role")),
    p(
        "period",
        Date,
        &["period"],
        plan_net!("practitionerrole-period"),
    ),
];

const LOCATION: &[ParamDef] = &[
    p(
        "identifier",
        Token,
        &["identifier"],
        base!("Location-identifier"),
    ),
    p("name", Str, &["name", "alias"], us_core!("location-name")),
    r(
        "organization",
        &["managingOrganization"],
        &["Organization"],
        base!("Location-organization"),
    ),
    p("address", Str, &["address"], us_core!("location-address")),
    p(
        "address-city",
        Str,
        &["address.city"],
        us_core!("location-address-city"),
    ),
    p(
        "address-state",
        Str,
        &["address.state"],
        us_core!("location-address-state"),
    ),
    p(
        "address-postalcode",
        Str,
        &["address.postalCode"],
        us_core!("location-address-postalcode"),
    ),
    // Da Vinci PDex Plan-Net 1.1.0.
    r(
        "partof",
        &["partOf"],
        &["Location"],
        plan_net!("location-partof"),
    ),
    r(
        "endpoint",
        &["endpoint"],
        &["Endpoint"],
        plan_net!("location-endpoint"),
    ),
    p("type", Token, &["type"], plan_net!("location-type")),
];

const ENDPOINT: &[ParamDef] = &[
    r(
        "organization",
        &["managingOrganization"],
        &["Organization"],
        plan_net!("endpoint-organization"),
    ),
    p("name", Str, &["name"], base!("Endpoint-name")),
    p(
        "connection-type",
        Token,
        &["connectionType"],
        base!("Endpoint-connection-type"),
    ),
];

const HEALTHCARE_SERVICE: &[ParamDef] = &[
    r(
        "location",
        &["location"],
        &["Location"],
        plan_net!("healthcareservice-location"),
    ),
    r(
        "coverage-area",
        &["coverageArea"],
        &["Location"],
        plan_net!("healthcareservice-coverage-area"),
    ),
    r(
        "organization",
        &["providedBy"],
        &["Organization"],
        plan_net!("healthcareservice-organization"),
    ),
    r(
        "endpoint",
        &["endpoint"],
        &["Endpoint"],
        plan_net!("healthcareservice-endpoint"),
    ),
    p("name", Str, &["name"], plan_net!("healthcareservice-name")),
    p(
        "service-category",
        Token,
        &["category"],
        plan_net!("healthcareservice-service-category"),
    ),
    p(
        "service-type",
        Token,
        &["type"],
        plan_net!("healthcareservice-service-type"),
    ),
    p(
        "specialty",
        Token,
        &["specialty"],
        plan_net!("healthcareservice-specialty"),
    ),
];

/// InsurancePlan is both Plan-Net's product (the directory) and the US Drug Formulary's payer
/// plan and formulary: the parameters of both IGs.
const INSURANCE_PLAN: &[ParamDef] = &[
    r(
        "administered-by",
        &["administeredBy"],
        &["Organization"],
        plan_net!("insuranceplan-administered-by"),
    ),
    r(
        "owned-by",
        &["ownedBy"],
        &["Organization"],
        plan_net!("insuranceplan-owned-by"),
    ),
    r(
        "coverage-area",
        &["coverageArea"],
        &["Location"],
        plan_net!("insuranceplan-coverage-area"),
    ),
    p(
        "name",
        Str,
        &["name", "alias"],
        plan_net!("insuranceplan-name"),
    ),
    p(
        "plan-type",
        Token,
        &["plan.type"],
        plan_net!("insuranceplan-plan-type"),
    ),
    p(
        "identifier",
        Token,
        &["identifier"],
        plan_net!("insuranceplan-identifier"),
    ),
    p("type", Token, &["type"], plan_net!("insuranceplan-type")),
    p("status", Token, &["status"], usdf!("InsurancePlan-status")),
    p("period", Date, &["period"], usdf!("InsurancePlan-period")),
    p(
        "coverage-type",
        Token,
        &["coverage.type"],
        usdf!("InsurancePlan-coverage-type"),
    ),
    r(
        "formulary-coverage",
        &["coverage.extension:usdf-FormularyReference-extension.valueReference"],
        &["InsurancePlan"],
        usdf!("InsurancePlan-formulary-coverage"),
    ),
];

const ORGANIZATION_AFFILIATION: &[ParamDef] = &[
    r(
        "primary-organization",
        &["organization"],
        &["Organization"],
        plan_net!("organizationaffiliation-primary-organization"),
    ),
    r(
        "participating-organization",
        &["participatingOrganization"],
        &["Organization"],
        plan_net!("organizationaffiliation-participating-organization"),
    ),
    r(
        "location",
        &["location"],
        &["Location"],
        plan_net!("organizationaffiliation-location"),
    ),
    r(
        "service",
        &["healthcareService"],
        &["HealthcareService"],
        plan_net!("organizationaffiliation-service"),
    ),
    r(
        "network",
        &["network"],
        &["Organization"],
        plan_net!("organizationaffiliation-network"),
    ),
    r(
        "endpoint",
        &["endpoint"],
        &["Endpoint"],
        plan_net!("organizationaffiliation-endpoint"),
    ),
    p(
        "role",
        Token,
        &["code"],
        plan_net!("organizationaffiliation-role"),
    ),
    p(
        "specialty",
        Token,
        &["specialty"],
        plan_net!("organizationaffiliation-specialty"),
    ),
    p(
        "period",
        Date,
        &["period"],
        plan_net!("organizationaffiliation-period"),
    ),
];

/// US Drug Formulary FormularyItem: a drug on a formulary, with its tier and limits.
const BASIC: &[ParamDef] = &[
    p("code", Token, &["code"], usdf!("Basic-code")),
    r(
        "subject",
        &["subject"],
        &["MedicationKnowledge"],
        usdf!("Basic-subject"),
    ),
    r(
        "formulary",
        &["extension:usdf-FormularyReference-extension.valueReference"],
        &["InsurancePlan"],
        usdf!("Basic-formulary"),
    ),
    p(
        "status",
        Token,
        &["extension:usdf-AvailabilityStatus-extension.valueCode"],
        usdf!("Basic-status"),
    ),
    p(
        "period",
        Date,
        &["extension:usdf-AvailabilityPeriod-extension.valuePeriod"],
        usdf!("Basic-period"),
    ),
    p(
        "pharmacy-benefit-type",
        Token,
        &["extension:usdf-PharmacyBenefitType-extension.valueCodeableConcept"],
        usdf!("Basic-pharmacy-benefit-type"),
    ),
    p(
        "drug-tier",
        Token,
        &["extension:usdf-DrugTierID-extension.valueCodeableConcept"],
        usdf!("Basic-drug-tier"),
    ),
];

/// US Drug Formulary FormularyDrug.
const MEDICATION_KNOWLEDGE: &[ParamDef] = &[
    p("code", Token, &["code"], usdf!("MedicationKnowledge-code")),
    p(
        "drug-name",
        Str,
        &["code.coding.display", "synonym"],
        usdf!("MedicationKnowledge-drug-name"),
    ),
    p(
        "status",
        Token,
        &["status"],
        usdf!("MedicationKnowledge-status"),
    ),
    p(
        "doseform",
        Token,
        &["doseForm"],
        usdf!("MedicationKnowledge-doseform"),
    ),
];

const RELATED_PERSON: &[ParamDef] = &[
    r(
        "patient",
        &["patient"],
        PATIENT,
        base!("RelatedPerson-patient"),
    ),
    p(
        "identifier",
        Token,
        &["identifier"],
        base!("RelatedPerson-identifier"),
    ),
    p("name", Str, &["name"], base!("RelatedPerson-name")),
];

const OBSERVATION: &[ParamDef] = &[
    r(
        "patient",
        &["subject"],
        PATIENT,
        us_core!("observation-patient"),
    ),
    r(
        "subject",
        &["subject"],
        PATIENT,
        base!("Observation-subject"),
    ),
    p(
        "category",
        Token,
        &["category"],
        us_core!("observation-category"),
    ),
    p("code", Token, &["code"], us_core!("observation-code")),
    p(
        "date",
        Date,
        &["effective[x]"],
        us_core!("observation-date"),
    ),
    p("status", Token, &["status"], us_core!("observation-status")),
    r(
        "encounter",
        &["encounter"],
        &["Encounter"],
        base!("clinical-encounter"),
    ),
];

const ENCOUNTER: &[ParamDef] = &[
    r(
        "patient",
        &["subject"],
        PATIENT,
        us_core!("encounter-patient"),
    ),
    r("subject", &["subject"], PATIENT, base!("Encounter-subject")),
    p("class", Token, &["class"], us_core!("encounter-class")),
    p("type", Token, &["type"], us_core!("encounter-type")),
    p("date", Date, &["period"], us_core!("encounter-date")),
    p("status", Token, &["status"], us_core!("encounter-status")),
    p(
        "identifier",
        Token,
        &["identifier"],
        us_core!("encounter-identifier"),
    ),
    r(
        "location",
        &["location.location"],
        &["Location"],
        us_core!("encounter-location"),
    ),
    p(
        "discharge-disposition",
        Token,
        &["hospitalization.dischargeDisposition"],
        us_core!("encounter-discharge-disposition"),
    ),
];

const CONDITION: &[ParamDef] = &[
    r(
        "patient",
        &["subject"],
        PATIENT,
        us_core!("condition-patient"),
    ),
    r("subject", &["subject"], PATIENT, base!("Condition-subject")),
    p(
        "category",
        Token,
        &["category"],
        us_core!("condition-category"),
    ),
    p("code", Token, &["code"], us_core!("condition-code")),
    p(
        "clinical-status",
        Token,
        &["clinicalStatus"],
        us_core!("condition-clinical-status"),
    ),
    p(
        "onset-date",
        Date,
        &["onset[x]"],
        us_core!("condition-onset-date"),
    ),
    p(
        "recorded-date",
        Date,
        &["recordedDate"],
        us_core!("condition-recorded-date"),
    ),
    p(
        "abatement-date",
        Date,
        &["abatement[x]"],
        us_core!("condition-abatement-date"),
    ),
    r(
        "encounter",
        &["encounter"],
        &["Encounter"],
        us_core!("condition-encounter"),
    ),
];

const ALLERGY_INTOLERANCE: &[ParamDef] = &[
    r(
        "patient",
        &["patient"],
        PATIENT,
        us_core!("allergyintolerance-patient"),
    ),
    p(
        "category",
        Token,
        &["category"],
        base!("AllergyIntolerance-category"),
    ),
    p(
        "code",
        Token,
        &["code", "reaction.substance"],
        base!("clinical-code"),
    ),
    p("date", Date, &["recordedDate"], base!("clinical-date")),
    p(
        "clinical-status",
        Token,
        &["clinicalStatus"],
        us_core!("allergyintolerance-clinical-status"),
    ),
];

const IMMUNIZATION: &[ParamDef] = &[
    r(
        "patient",
        &["patient"],
        PATIENT,
        us_core!("immunization-patient"),
    ),
    p(
        "date",
        Date,
        &["occurrence[x]"],
        us_core!("immunization-date"),
    ),
    p(
        "vaccine-code",
        Token,
        &["vaccineCode"],
        base!("Immunization-vaccine-code"),
    ),
    p(
        "status",
        Token,
        &["status"],
        us_core!("immunization-status"),
    ),
];

const MEDICATION_REQUEST: &[ParamDef] = &[
    r(
        "patient",
        &["subject"],
        PATIENT,
        us_core!("medicationrequest-patient"),
    ),
    r(
        "subject",
        &["subject"],
        PATIENT,
        base!("MedicationRequest-subject"),
    ),
    p(
        "category",
        Token,
        &["category"],
        base!("MedicationRequest-category"),
    ),
    p("code", Token, &["medication[x]"], base!("clinical-code")),
    p(
        "authoredon",
        Date,
        &["authoredOn"],
        us_core!("medicationrequest-authoredon"),
    ),
    p(
        "status",
        Token,
        &["status"],
        us_core!("medicationrequest-status"),
    ),
    p(
        "intent",
        Token,
        &["intent"],
        us_core!("medicationrequest-intent"),
    ),
    r(
        "encounter",
        &["encounter"],
        &["Encounter"],
        us_core!("medicationrequest-encounter"),
    ),
];

const PROCEDURE: &[ParamDef] = &[
    r(
        "patient",
        &["subject"],
        PATIENT,
        us_core!("procedure-patient"),
    ),
    r("subject", &["subject"], PATIENT, base!("Procedure-subject")),
    p(
        "category",
        Token,
        &["category"],
        base!("Procedure-category"),
    ),
    p("code", Token, &["code"], us_core!("procedure-code")),
    p("date", Date, &["performed[x]"], us_core!("procedure-date")),
    p("status", Token, &["status"], us_core!("procedure-status")),
];

/// One row per served type, in `resource_types::RESOURCE_TYPES` order.
pub const RESOURCES: &[ResourceDef] = &[
    ResourceDef {
        name: "AllergyIntolerance",
        params: ALLERGY_INTOLERANCE,
        compartment: &["patient"],
        profiles: &[us_core_profile!("allergyintolerance")],
    },
    ResourceDef {
        name: "Basic",
        params: BASIC,
        compartment: &[],
        profiles: &[],
    },
    ResourceDef {
        name: "Condition",
        params: CONDITION,
        compartment: &["patient"],
        profiles: &[
            us_core_profile!("condition-problems-health-concerns"),
            us_core_profile!("condition-encounter-diagnosis"),
        ],
    },
    ResourceDef {
        name: "Coverage",
        params: COVERAGE,
        compartment: &["beneficiary", "subscriber"],
        profiles: &[profile!("C4BB-Coverage")],
    },
    ResourceDef {
        name: "Encounter",
        params: ENCOUNTER,
        compartment: &["patient"],
        profiles: &[us_core_profile!("encounter")],
    },
    ResourceDef {
        name: "Endpoint",
        params: ENDPOINT,
        compartment: &[],
        profiles: &[],
    },
    ResourceDef {
        name: "ExplanationOfBenefit",
        params: EXPLANATION_OF_BENEFIT,
        compartment: &["patient"],
        profiles: &[
            profile!("C4BB-ExplanationOfBenefit"),
            profile!("C4BB-ExplanationOfBenefit-Inpatient-Institutional"),
            profile!("C4BB-ExplanationOfBenefit-Outpatient-Institutional"),
            profile!("C4BB-ExplanationOfBenefit-Oral"),
            profile!("C4BB-ExplanationOfBenefit-Pharmacy"),
            profile!("C4BB-ExplanationOfBenefit-Professional-NonClinician"),
        ],
    },
    ResourceDef {
        name: "HealthcareService",
        params: HEALTHCARE_SERVICE,
        compartment: &[],
        profiles: &[],
    },
    ResourceDef {
        name: "Immunization",
        params: IMMUNIZATION,
        compartment: &["patient"],
        profiles: &[us_core_profile!("immunization")],
    },
    ResourceDef {
        name: "InsurancePlan",
        params: INSURANCE_PLAN,
        compartment: &[],
        profiles: &[],
    },
    ResourceDef {
        name: "Location",
        params: LOCATION,
        compartment: &[],
        profiles: &[
            us_core_profile!("location"),
            us_core_profile!("location", "3.1.1"),
        ],
    },
    ResourceDef {
        name: "MedicationKnowledge",
        params: MEDICATION_KNOWLEDGE,
        compartment: &[],
        profiles: &[],
    },
    ResourceDef {
        name: "MedicationRequest",
        params: MEDICATION_REQUEST,
        compartment: &["patient"],
        profiles: &[us_core_profile!("medicationrequest")],
    },
    ResourceDef {
        name: "Observation",
        params: OBSERVATION,
        compartment: &["patient"],
        profiles: &[
            us_core_profile!("observation-lab"),
            us_core_profile!("vital-signs"),
            us_core_profile!("blood-pressure"),
            us_core_profile!("body-height"),
            us_core_profile!("body-weight"),
            us_core_profile!("bmi"),
            us_core_profile!("heart-rate"),
            us_core_profile!("smokingstatus"),
            us_core_profile!("observation-screening-assessment"),
        ],
    },
    ResourceDef {
        name: "Organization",
        params: ORGANIZATION,
        compartment: &[],
        profiles: &[profile!("C4BB-Organization")],
    },
    ResourceDef {
        name: "OrganizationAffiliation",
        params: ORGANIZATION_AFFILIATION,
        compartment: &[],
        profiles: &[],
    },
    ResourceDef {
        name: "Patient",
        params: PATIENT_PARAMS,
        compartment: &[],
        profiles: &[profile!("C4BB-Patient")],
    },
    ResourceDef {
        name: "Practitioner",
        params: PRACTITIONER,
        compartment: &[],
        profiles: &[profile!("C4BB-Practitioner")],
    },
    ResourceDef {
        name: "PractitionerRole",
        params: PRACTITIONER_ROLE,
        compartment: &[],
        profiles: &[
            us_core_profile!("practitionerrole"),
            us_core_profile!("practitionerrole", "3.1.1"),
        ],
    },
    ResourceDef {
        name: "Procedure",
        params: PROCEDURE,
        compartment: &["patient"],
        profiles: &[us_core_profile!("procedure")],
    },
    ResourceDef {
        name: "RelatedPerson",
        params: RELATED_PERSON,
        compartment: &["patient"],
        profiles: &[profile!("C4BB-RelatedPerson")],
    },
];

/// A parameter's position within its type: the common ones first, then the type's own. A
/// newtype, so that it cannot be passed where a type slot or a resource number is expected;
/// only `ResourceDef::params` and its callers hand them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct ParamIndex(usize);

impl ParamIndex {
    /// The position, for indexing the type's per-parameter lists.
    pub fn index(self) -> usize {
        self.0
    }
}

/// A served type's position in `RESOURCES`: what the store keeps per resource instead of the
/// type's name. A newtype, so that it cannot be passed where a resource number or a parameter
/// position is expected; only this module hands them out. One byte, as the store keeps one per
/// resource and the table has far fewer than 256 types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct TypeSlot(u8);

// Every position in the table fits a `TypeSlot`.
const _: () = assert!(RESOURCES.len() <= u8::MAX as usize + 1);

impl TypeSlot {
    /// The position, for indexing `RESOURCES` and per-type lists.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// Any slot, in range or not, for tests of code that only stores slots.
    #[cfg(test)]
    pub(crate) fn from_raw(slot: u8) -> TypeSlot {
        TypeSlot(slot)
    }
}

impl ResourceDef {
    pub fn param_count(&self) -> usize {
        COMMON.len() + self.params.len()
    }

    pub fn param(&self, index: ParamIndex) -> Option<&'static ParamDef> {
        match index.0.checked_sub(COMMON.len()) {
            None => COMMON.get(index.0),
            Some(own) => self.params.get(own),
        }
    }

    pub fn params(&self) -> impl Iterator<Item = (ParamIndex, &'static ParamDef)> + '_ {
        COMMON
            .iter()
            .chain(self.params.iter())
            .enumerate()
            .map(|(i, def)| (ParamIndex(i), def))
    }

    pub fn find(&self, name: &str) -> Option<(ParamIndex, &'static ParamDef)> {
        self.params().find(|(_, def)| def.name == name)
    }

    pub fn reference_params(&self) -> impl Iterator<Item = (ParamIndex, &'static ParamDef)> + '_ {
        self.params()
            .filter(|(_, def)| def.kind == ParamType::Reference)
    }
}

/// The slot and row of a served type.
pub fn resource(name: &str) -> Option<(TypeSlot, &'static ResourceDef)> {
    RESOURCES
        .binary_search_by(|def| def.name.cmp(name))
        .ok()
        .map(|i| (TypeSlot(i as u8), &RESOURCES[i]))
}

/// Every served type with its slot, in table order.
pub fn slots() -> impl Iterator<Item = (TypeSlot, &'static ResourceDef)> {
    RESOURCES
        .iter()
        .enumerate()
        .map(|(i, def)| (TypeSlot(i as u8), def))
}

/// Whether the server serves the type: the table is the one list of served types.
pub fn is_served(name: &str) -> bool {
    resource(name).is_some()
}

/// A type slot's row (slots are positions in `RESOURCES`).
pub fn by_slot(slot: TypeSlot) -> Option<&'static ResourceDef> {
    RESOURCES.get(slot.index())
}

/// Every `(source type, parameter)` whose references may point at `target`: the
/// `_revinclude` values a search of `target` supports.
pub fn referring_params(target: &str) -> Vec<(&'static ResourceDef, &'static ParamDef)> {
    RESOURCES
        .iter()
        .flat_map(|def| def.reference_params().map(move |(_, p)| (def, p)))
        .filter(|(_, p)| p.targets.contains(&target))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_sorted_by_name_for_binary_search() {
        assert!(RESOURCES.windows(2).all(|w| w[0].name < w[1].name));
        assert!(is_served("ExplanationOfBenefit"));
        assert!(!is_served("Claim"));
    }

    #[test]
    fn names_are_unique_and_compartment_params_exist() {
        for def in RESOURCES {
            let mut names: Vec<_> = def.params().map(|(_, p)| p.name).collect();
            names.sort();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{}", def.name);
            for c in def.compartment {
                assert!(def.find(c).is_some(), "{}:{c}", def.name);
            }
            for (_, p) in def.reference_params() {
                assert!(!p.targets.is_empty(), "{}:{}", def.name, p.name);
            }
        }
    }

    /// The search parameters and combinations the US Core 6.1.0 server CapabilityStatement makes
    /// SHALL for the clinical types.
    #[test]
    fn us_core_shall_parameters_are_present() {
        for (name, params) in [
            ("AllergyIntolerance", &["patient"][..]),
            ("Condition", &["patient", "category"]),
            ("Encounter", &["_id", "patient", "date"]),
            ("Immunization", &["patient"]),
            ("MedicationRequest", &["patient", "intent", "status"]),
            ("Observation", &["patient", "category", "code", "date"]),
            ("Procedure", &["patient", "date"]),
            ("Location", &["name", "address"]),
            ("PractitionerRole", &["specialty", "practitioner"]),
        ] {
            let (_, def) = resource(name).unwrap();
            for param in params {
                assert!(def.find(param).is_some(), "{name}:{param}");
            }
            assert!(
                def.profiles
                    .iter()
                    .any(|p| p.starts_with("http://hl7.org/fhir/us/core/") && p.ends_with("|6.1.0")),
                "{name} lists its US Core 6.1.0 profile"
            );
        }
    }

    #[test]
    fn carin_parameters_are_present() {
        let (_, eob) = resource("ExplanationOfBenefit").unwrap();
        for name in [
            "_id",
            "patient",
            "_lastUpdated",
            "type",
            "identifier",
            "service-date",
            "service-start-date",
            "billable-period-start",
            "provider",
            "care-team",
            "coverage",
            "insurer",
            "payee",
            "created",
        ] {
            assert!(eob.find(name).is_some(), "{name}");
        }
    }
}
