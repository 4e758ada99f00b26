//! The three FHIR APIs the server offers and the types each serves (docs/fhir-api.md,
//! docs/directory.md): the member-only Patient Access API (`/r4`, CARIN Blue Button, PDex prior
//! authorizations, US Core), and the public provider directory (`/directory/r4`, Da Vinci PDex
//! Plan-Net 1.1.0) and drug formulary (`/formulary/r4`, Da Vinci US Drug Formulary 2.0.1). All
//! three search with the one parameter table (`search_params`); this says which of its types
//! each API serves and which profiles it declares for them.

use super::search_params::{self, ResourceDef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    PatientAccess,
    Directory,
    Formulary,
}

/// A type one API serves, with the profiles it declares for it.
#[derive(Debug)]
pub struct ServedType {
    pub name: &'static str,
    /// `None`: the table's own (`ResourceDef::profiles`, the Patient Access API's).
    pub profiles: Option<&'static [&'static str]>,
}

const fn own(name: &'static str) -> ServedType {
    ServedType {
        name,
        profiles: None,
    }
}

const PLAN_NET: &str = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/";
const USDF: &str = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/";

macro_rules! plan_net_profiles {
    ($($name:literal),+) => {
        &[$(concat!("http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-", $name)),+]
    };
}
macro_rules! usdf_profiles {
    ($($name:literal),+) => {
        &[$(concat!("http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/usdf-", $name)),+]
    };
}

const fn with(name: &'static str, profiles: &'static [&'static str]) -> ServedType {
    ServedType {
        name,
        profiles: Some(profiles),
    }
}

const PATIENT_ACCESS: &[ServedType] = &[
    own("AllergyIntolerance"),
    own("Condition"),
    own("Coverage"),
    own("Encounter"),
    own("ExplanationOfBenefit"),
    own("Immunization"),
    own("Location"),
    own("MedicationRequest"),
    own("Observation"),
    own("Organization"),
    own("Patient"),
    own("Practitioner"),
    own("PractitionerRole"),
    own("Procedure"),
    own("RelatedPerson"),
];

const DIRECTORY: &[ServedType] = &[
    with("Endpoint", plan_net_profiles!("Endpoint")),
    with("HealthcareService", plan_net_profiles!("HealthcareService")),
    with("InsurancePlan", plan_net_profiles!("InsurancePlan")),
    with("Location", plan_net_profiles!("Location")),
    with(
        "Organization",
        plan_net_profiles!("Organization", "Network"),
    ),
    with(
        "OrganizationAffiliation",
        plan_net_profiles!("OrganizationAffiliation"),
    ),
    with("Practitioner", plan_net_profiles!("Practitioner")),
    with("PractitionerRole", plan_net_profiles!("PractitionerRole")),
];

const FORMULARY: &[ServedType] = &[
    with("Basic", usdf_profiles!("FormularyItem")),
    with(
        "InsurancePlan",
        usdf_profiles!("PayerInsurancePlan", "Formulary"),
    ),
    with("Location", usdf_profiles!("InsurancePlanLocation")),
    with("MedicationKnowledge", usdf_profiles!("FormularyDrug")),
];

impl Api {
    /// The types served, in the table's (alphabetical) order.
    pub fn types(self) -> &'static [ServedType] {
        match self {
            Self::PatientAccess => PATIENT_ACCESS,
            Self::Directory => DIRECTORY,
            Self::Formulary => FORMULARY,
        }
    }

    /// The type's row of the parameter table, if this API serves it.
    pub fn resource(self, name: &str) -> Option<&'static ResourceDef> {
        self.types()
            .iter()
            .any(|t| t.name == name)
            .then(|| search_params::resource(name).map(|(_, def)| def))
            .flatten()
    }

    pub fn serves(self, name: &str) -> bool {
        self.resource(name).is_some()
    }

    /// The IG whose server CapabilityStatement this API instantiates, and its version.
    pub fn guide(self) -> (&'static str, &'static str) {
        match self {
            Self::PatientAccess => (
                "http://hl7.org/fhir/us/carin-bb/ImplementationGuide/hl7.fhir.us.carin-bb",
                "2.0.0",
            ),
            Self::Directory => (
                "http://hl7.org/fhir/us/davinci-pdex-plan-net/ImplementationGuide/hl7.fhir.us.davinci-pdex-plan-net",
                "1.1.0",
            ),
            Self::Formulary => (
                "http://hl7.org/fhir/us/davinci-drug-formulary/ImplementationGuide/hl7.fhir.us.davinci-drug-formulary",
                "2.0.1",
            ),
        }
    }

    /// The profiles' common prefix, for telling this API's declared profiles apart.
    pub fn profile_base(self) -> &'static str {
        match self {
            Self::PatientAccess => "",
            Self::Directory => PLAN_NET,
            Self::Formulary => USDF,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_type_is_in_the_table_and_in_order() {
        for api in [Api::PatientAccess, Api::Directory, Api::Formulary] {
            let names: Vec<&str> = api.types().iter().map(|t| t.name).collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            assert_eq!(names, sorted);
            for name in names {
                assert!(api.serves(name), "{name}");
            }
        }
        assert!(!Api::Directory.serves("Patient"));
        assert!(!Api::Formulary.serves("ExplanationOfBenefit"));
        assert!(!Api::PatientAccess.serves("InsurancePlan"));
    }
}
