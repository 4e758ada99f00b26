//! The member's choice on the consent page (docs/oauth.md#consent): what the app asks for, as
//! resource types in plain-word groups and granular scopes, each of which the member may
//! untick; and the granted scopes once the unticked ones are taken out. Blue Button's sandbox
//! lets members decline demographics; here any type, or any constrained scope, can be declined.

use super::scopes::{GrantedScopes, Scope};
use crate::fhir::search_params::RESOURCES;

/// One choice on the page: `value` is what the form posts (a type name, or a constrained
/// scope's text), `label` the plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub title: &'static str,
    pub choices: Vec<Choice>,
}

/// The groups the types are shown in, in page order; a type not listed goes to the last.
const GROUPS: &[(&str, &[&str])] = &[
    ("Claims and coverage", &["ExplanationOfBenefit", "Coverage"]),
    ("About you", &["Patient", "RelatedPerson"]),
    (
        "Your health records",
        &[
            "Condition",
            "Observation",
            "MedicationRequest",
            "Immunization",
            "AllergyIntolerance",
            "Procedure",
            "Encounter",
        ],
    ),
    (
        "Your providers and plan",
        &[
            "Organization",
            "Practitioner",
            "PractitionerRole",
            "Location",
        ],
    ),
];

/// What the member can untick for `scopes`: every type a plain resource scope covers (a `*`
/// scope covers every served type), grouped; then each granular scope on its own.
pub fn choices(scopes: &GrantedScopes) -> Vec<Group> {
    let types: Vec<&'static str> = RESOURCES
        .iter()
        .map(|d| d.name)
        .filter(|t| scopes.covers_type_plainly(t))
        .collect();
    let mut groups: Vec<Group> = GROUPS
        .iter()
        .map(|(title, members)| Group {
            title,
            choices: members
                .iter()
                .filter(|t| types.contains(t))
                .map(|t| type_choice(t))
                .collect(),
        })
        .collect();
    let others: Vec<Choice> = types
        .iter()
        .filter(|t| !GROUPS.iter().any(|(_, members)| members.contains(t)))
        .map(|t| type_choice(t))
        .collect();
    if let Some(last) = groups.last_mut() {
        last.choices.extend(others);
    }
    let constrained: Vec<Choice> = scopes
        .iter()
        .filter(|s| s.contains('?'))
        .map(|s| Choice {
            value: s.to_owned(),
            label: super::scopes::describe(s),
        })
        .collect();
    groups.push(Group {
        title: "Only part of a record type",
        choices: constrained,
    });
    groups.retain(|g| !g.choices.is_empty());
    groups
}

fn type_choice(resource_type: &str) -> Choice {
    let plain = super::scopes::plain_type(resource_type);
    let mut label: String = plain.chars().take(1).flat_map(char::to_uppercase).collect();
    label.push_str(plain.get(1..).unwrap_or(""));
    Choice {
        value: resource_type.to_owned(),
        label,
    }
}

/// `scopes` without what the member declined: a declined type leaves every scope on it, and a
/// `*` scope is replaced by one scope per type still shared (in the same syntax); a declined
/// granular scope is left out.
pub fn without(scopes: &GrantedScopes, declined: &[String]) -> GrantedScopes {
    let declined_types: Vec<&str> = declined
        .iter()
        .map(String::as_str)
        .filter(|d| !d.contains('/'))
        .collect();
    let mut kept: Vec<String> = Vec::new();
    for scope in scopes.iter() {
        if declined.iter().any(|d| d == scope) {
            continue;
        }
        match Scope::parse(scope).and_then(|s| s.target_type()) {
            // Not a resource scope (openid, offline_access, …): not the member's to untick here.
            None => kept.push(scope.to_owned()),
            Some(Some(t)) if declined_types.contains(&t.as_str()) => {}
            Some(Some(_)) => kept.push(scope.to_owned()),
            Some(None) if declined_types.is_empty() => kept.push(scope.to_owned()),
            Some(None) => {
                // `patient/*.rs` → `patient/Coverage.rs`, … for each type still shared.
                let (prefix, permissions) = scope.split_once("*.").unwrap_or((scope, ""));
                for t in RESOURCES.iter().map(|d| d.name) {
                    if !declined_types.contains(&t) {
                        kept.push(format!("{prefix}{t}.{permissions}"));
                    }
                }
            }
        }
    }
    GrantedScopes::grant(&kept.join(" "), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(s: &str) -> GrantedScopes {
        GrantedScopes::grant(s, None)
    }

    #[test]
    fn a_wildcard_offers_every_type_in_groups() {
        let groups = choices(&grant("openid patient/*.read"));
        let titles: Vec<&str> = groups.iter().map(|g| g.title).collect();
        assert_eq!(
            titles,
            [
                "Claims and coverage",
                "About you",
                "Your health records",
                "Your providers and plan"
            ]
        );
        let offered: usize = groups.iter().map(|g| g.choices.len()).sum();
        assert_eq!(offered, RESOURCES.len());
        let mut labels: Vec<&str> = groups
            .iter()
            .flat_map(|g| g.choices.iter().map(|c| c.label.as_str()))
            .collect();
        assert_eq!(labels[0], "Claims and explanations of benefits");
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(
            labels.len(),
            RESOURCES.len(),
            "no two choices read the same"
        );
    }

    #[test]
    fn declining_a_type_expands_the_wildcard_in_its_own_syntax() {
        let kept = without(
            &grant("openid patient/*.rs patient/Coverage.read"),
            &["Patient".to_owned(), "Coverage".to_owned()],
        );
        let text = kept.to_string();
        assert!(
            text.starts_with("openid patient/AllergyIntolerance.rs"),
            "{text}"
        );
        assert!(text.contains("patient/ExplanationOfBenefit.rs"));
        assert!(!text.contains("Patient."), "{text}");
        assert!(!text.contains("Coverage"), "{text}");
        assert_eq!(
            without(&grant("patient/*.rs"), &[]).to_string(),
            "patient/*.rs",
            "nothing declined, nothing changes"
        );
    }

    #[test]
    fn a_granular_scope_is_its_own_choice() {
        let lab = "patient/Observation.rs?category=laboratory";
        let scopes = grant(&format!("{lab} patient/Patient.rs"));
        let groups = choices(&scopes);
        assert_eq!(groups.last().unwrap().choices[0].value, lab);
        assert_eq!(
            without(&scopes, &[lab.to_owned()]).to_string(),
            "patient/Patient.rs"
        );
    }
}
