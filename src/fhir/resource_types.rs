//! The FHIR R4 resource types payer-sandbox serves (SPEC §6): CARIN Blue Button's, the US Core
//! types they reference, and the clinical types some members carry.

pub const RESOURCE_TYPES: &[&str] = &[
    "AllergyIntolerance",
    "Condition",
    "Coverage",
    "Encounter",
    "ExplanationOfBenefit",
    "Immunization",
    "Location",
    "MedicationRequest",
    "Observation",
    "Organization",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "RelatedPerson",
];

pub fn is_supported(resource_type: &str) -> bool {
    RESOURCE_TYPES.binary_search(&resource_type).is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn list_is_sorted_for_binary_search() {
        assert!(super::RESOURCE_TYPES.windows(2).all(|w| w[0] < w[1]));
    }
}
