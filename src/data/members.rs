//! Test members, derived from the data rather than kept in a second list (docs/data.md#test-members): a Patient is a
//! member when it has a name, a postal code and a member ID (a Patient identifier typed `MB`, else
//! a Coverage `identifier` typed `MB` or `subscriberId` for which the Patient is beneficiary).
//! A member's personal representatives (docs/oauth.md#personal-representatives) are the
//! RelatedPersons of the member's Patient whose relationship is a parent or a guardian.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::ids::{MemberId, PatientId};
use crate::json_tree::{Node, Tree};

const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Member {
    pub member_id: MemberId,
    pub patient_id: PatientId,
    pub given: String,
    pub family: String,
    pub birth_date: Option<String>,
    pub postal_code: String,
    /// Parents and guardians on file, who may sign in for the member while a minor. Not part of
    /// the members list's fixed shape: `GET /sandbox/api/representatives` lists them.
    #[serde(skip)]
    pub representatives: Vec<Representative>,
}

/// A RelatedPerson who may act for a minor member (HIPAA's personal representative: a parent or
/// guardian).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Representative {
    pub related_person_id: String,
    pub given: String,
    pub family: String,
    /// The v3-RoleCode relationship (`MTH`, `FTH`, `PRN`, `GUARD`, …) and its display.
    pub relationship: String,
    pub relationship_display: String,
}

impl Representative {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given, self.family)
    }

    /// The representative's own names, as the sign-in form asks for them.
    pub fn matches(&self, given: &str, family: &str) -> bool {
        eq_name(&self.given, given) && eq_name(&self.family, family)
    }
}

/// Age of majority for a parent's access to a child's records.
const ADULT_AGE: i32 = 18;

/// v3-RoleCode relationships that make a RelatedPerson a personal representative of a minor:
/// parents (natural, step, adoptive, foster) and guardians.
const PARENT_OR_GUARDIAN: &[&str] = &[
    "PRN", "MTH", "FTH", "NPRN", "NMTH", "NFTH", "STPPRN", "STPMTH", "STPFTH", "ADOPTP", "ADOPTM",
    "ADOPTF", "FTHFOST", "MTHFOST", "GUARD",
];
const V3_ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";

impl Member {
    /// Whether the member is under 18 on `today` (`(year, month, day)`): a parent or guardian
    /// may sign in for them only then. A member without a birth date is taken as an adult.
    pub fn is_minor_on(&self, today: (i32, u8, u8)) -> bool {
        let Some(born) = self.birth_date.as_deref().and_then(parse_date) else {
            return false;
        };
        // The 18th birthday, compared as (year, month, day): a 29 February birthday comes of
        // age on 1 March in a common year, as (y, 2, 29) sorts after every (y, 2, d).
        today < (born.0 + ADULT_AGE, born.1, born.2)
    }

    pub fn representative(&self, related_person_id: &str) -> Option<&Representative> {
        self.representatives
            .iter()
            .find(|r| r.related_person_id == related_person_id)
    }

    pub fn display_name(&self) -> String {
        format!("{} {}", self.given, self.family)
    }

    /// The verification check of the create-account page (docs/oauth.md#create-an-account): names compare
    /// case-insensitively after trimming; member ID and postal code must match the data.
    pub fn matches(&self, given: &str, family: &str, postal_code: &str) -> bool {
        eq_name(&self.given, given)
            && eq_name(&self.family, family)
            && same_postal_code(&self.postal_code, postal_code)
    }
}

fn parse_date(date: &str) -> Option<(i32, u8, u8)> {
    let mut parts = date.splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok()?;
    let day = parts.next()?.get(..2)?.parse().ok()?;
    Some((year, month, day))
}

fn eq_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// A ZIP+4 on file also matches its five-digit ZIP, as payers' forms accept.
fn same_postal_code(on_file: &str, entered: &str) -> bool {
    let (on_file, entered) = (on_file.trim(), entered.trim());
    on_file.eq_ignore_ascii_case(entered)
        || (entered.len() == 5 && on_file.len() == 10 && on_file.starts_with(entered))
}

/// Normalised member-ID key: member IDs are typed by people, so case and spaces are forgiven.
fn member_key(member_id: &str) -> String {
    member_id.trim().to_lowercase()
}

#[derive(Debug, Default)]
pub struct Members {
    list: Vec<Member>,
    by_member_id: HashMap<String, usize>,
    by_patient_id: HashMap<String, usize>,
}

/// What derivation reads of a Patient that has a name and a postal code (no other can be a
/// member): kept while loading, after the Patient's JSON is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PatientFacts {
    patient_id: String,
    member_id: Option<String>,
    given: String,
    family: String,
    birth_date: Option<String>,
    postal_code: String,
}

impl PatientFacts {
    pub(super) fn of(patient: Node<'_, '_>) -> Option<PatientFacts> {
        let (given, family) = name_of(patient)?;
        Some(PatientFacts {
            patient_id: str_at(patient, &["id"])?.to_owned(),
            member_id: typed_identifier(patient.get("identifier"), "MB").map(str::to_owned),
            given,
            family,
            birth_date: str_at(patient, &["birthDate"]).map(str::to_owned),
            postal_code: postal_code_of(patient)?,
        })
    }
}

/// A Coverage's member ID and the Patient it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CoverageFacts {
    patient_id: String,
    member_id: String,
}

impl CoverageFacts {
    pub(super) fn of(coverage: Node<'_, '_>) -> Option<CoverageFacts> {
        let patient_id =
            str_at(coverage, &["beneficiary", "reference"])?.strip_prefix("Patient/")?;
        let typed = typed_identifier(coverage.get("identifier"), "MB");
        let member_id = typed.or_else(|| str_at(coverage, &["subscriberId"]))?;
        Some(CoverageFacts {
            patient_id: patient_id.to_owned(),
            member_id: member_id.to_owned(),
        })
    }
}

/// A RelatedPerson that is a parent or guardian of a Patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RelatedPersonFacts {
    patient_id: String,
    representative: Representative,
}

impl RelatedPersonFacts {
    pub(super) fn of(related: Node<'_, '_>) -> Option<RelatedPersonFacts> {
        let patient_id = str_at(related, &["patient", "reference"])?.strip_prefix("Patient/")?;
        let (given, family) = name_of(related)?;
        let (relationship, relationship_display) = related
            .get("relationship")
            .filter(|r| r.is_array())?
            .items()
            .filter_map(|concept| concept.get("coding").filter(|c| c.is_array()))
            .flat_map(|codings| codings.items())
            .find_map(|coding| {
                let code = str_at(coding, &["code"])?;
                let system = str_at(coding, &["system"]);
                (system.is_none_or(|s| s == V3_ROLE_CODE) && PARENT_OR_GUARDIAN.contains(&code))
                    .then(|| {
                        let display = str_at(coding, &["display"]).unwrap_or(code);
                        (code.to_owned(), display.to_owned())
                    })
            })?;
        Some(RelatedPersonFacts {
            patient_id: patient_id.to_owned(),
            representative: Representative {
                related_person_id: str_at(related, &["id"])?.to_owned(),
                given,
                family,
                relationship,
                relationship_display,
            },
        })
    }
}

/// What member derivation reads while loading: Patients, Coverages and RelatedPersons.
#[derive(Debug, Default)]
pub(crate) struct MemberFacts {
    patients: Vec<PatientFacts>,
    coverages: Vec<CoverageFacts>,
    related: Vec<RelatedPersonFacts>,
}

impl MemberFacts {
    /// Keeps what derivation needs of `resource`, if anything.
    pub(crate) fn note(&mut self, resource_type: &str, resource: Node<'_, '_>) {
        match resource_type {
            "Patient" => self.patients.extend(PatientFacts::of(resource)),
            "Coverage" => self.coverages.extend(CoverageFacts::of(resource)),
            "RelatedPerson" => self.related.extend(RelatedPersonFacts::of(resource)),
            _ => {}
        }
    }

    pub(crate) fn extend(&mut self, other: MemberFacts) {
        self.patients.extend(other.patients);
        self.coverages.extend(other.coverages);
        self.related.extend(other.related);
    }
}

impl Members {
    /// Derives the members from resources (any types; Patients and Coverages are read), for
    /// tests and tools; the loader collects the facts as it goes and calls `from_facts`.
    pub fn derive(resources: &[Value]) -> (Self, Vec<String>) {
        let mut facts = MemberFacts::default();
        for resource in resources {
            let text = resource.to_string();
            let Ok(tree) = Tree::parse(text.as_bytes()) else {
                continue;
            };
            if let Some(resource_type) = resource["resourceType"].as_str() {
                facts.note(resource_type, tree.root());
            }
        }
        Members::from_facts(facts)
    }

    /// Patients, Coverages and RelatedPersons in data order; also returns warnings for member
    /// IDs claimed by two patients (the first keeps it).
    pub(super) fn from_facts(facts: MemberFacts) -> (Self, Vec<String>) {
        let MemberFacts {
            patients,
            coverages,
            related,
        } = facts;
        let mut coverage_ids: HashMap<String, String> = HashMap::new();
        for coverage in coverages {
            coverage_ids
                .entry(coverage.patient_id)
                .or_insert(coverage.member_id);
        }
        let mut members = Members::default();
        let mut warnings = Vec::new();
        for patient in patients {
            let member_id = patient
                .member_id
                .or_else(|| coverage_ids.get(&patient.patient_id).cloned());
            let Some(member_id) = member_id else {
                continue;
            };
            let key = member_key(&member_id);
            if let Some(&first) = members.by_member_id.get(&key) {
                warnings.push(format!(
                    "Patient/{} has member ID {member_id} already used by Patient/{}; \
                     it is not a test member",
                    patient.patient_id, members.list[first].patient_id
                ));
                continue;
            }
            let index = members.list.len();
            members.by_member_id.insert(key, index);
            members
                .by_patient_id
                .insert(patient.patient_id.clone(), index);
            members.list.push(Member {
                member_id: member_id.into(),
                patient_id: patient.patient_id.into(),
                given: patient.given,
                family: patient.family,
                birth_date: patient.birth_date,
                postal_code: patient.postal_code,
                representatives: Vec::new(),
            });
        }
        for fact in related {
            if let Some(&index) = members.by_patient_id.get(&fact.patient_id) {
                members.list[index]
                    .representatives
                    .push(fact.representative);
            }
        }
        (members, warnings)
    }

    pub fn all(&self) -> &[Member] {
        &self.list
    }

    pub fn by_member_id(&self, member_id: &str) -> Option<&Member> {
        self.by_member_id
            .get(&member_key(member_id))
            .map(|&i| &self.list[i])
    }

    pub fn by_patient_id(&self, patient_id: &str) -> Option<&Member> {
        self.by_patient_id.get(patient_id).map(|&i| &self.list[i])
    }
}

fn str_at<'t>(node: Node<'t, '_>, path: &[&str]) -> Option<&'t str> {
    node.path(path).and_then(|n| n.as_str())
}

fn typed_identifier<'t>(identifiers: Option<Node<'t, '_>>, code: &str) -> Option<&'t str> {
    identifiers?.items().find_map(|identifier| {
        let codings = identifier
            .path(&["type", "coding"])
            .filter(|c| c.is_array())?;
        let typed = codings.items().any(|coding| {
            str_at(coding, &["code"]) == Some(code)
                && coding
                    .get("system")
                    .and_then(|s| s.as_str())
                    .is_none_or(|s| s == V2_0203)
        });
        typed.then(|| str_at(identifier, &["value"])).flatten()
    })
}

/// First given name and family of the official name (else the first name).
fn name_of(patient: Node<'_, '_>) -> Option<(String, String)> {
    let names = patient.get("name").filter(|n| n.is_array())?;
    let name = names
        .items()
        .find(|n| str_at(*n, &["use"]) == Some("official"))
        .or_else(|| names.items().next())?;
    let given = name
        .get("given")
        .filter(|g| g.is_array())?
        .items()
        .next()?
        .as_str()?
        .trim();
    let family = str_at(name, &["family"])?.trim();
    (!given.is_empty() && !family.is_empty()).then(|| (given.to_owned(), family.to_owned()))
}

fn postal_code_of(patient: Node<'_, '_>) -> Option<String> {
    patient
        .get("address")
        .filter(|a| a.is_array())?
        .items()
        .find_map(|a| str_at(a, &["postalCode"]))
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patient(id: &str, identifiers: Value) -> Value {
        json!({"resourceType":"Patient","id":id,"identifier":identifiers,
            "name":[{"family":"Argonaut","given":["Jason"]}],"birthDate":"1986-01-01",
            "address":[{"postalCode":"02114"}]})
    }

    fn mb(value: &str) -> Value {
        json!([{"type":{"coding":[{"system":V2_0203,"code":"MB"}]},"value":value}])
    }

    #[test]
    fn member_from_patient_identifier() {
        let (members, warnings) = Members::derive(&[patient("p1", mb("08-testmemid"))]);
        assert!(warnings.is_empty());
        let m = members.by_member_id(" 08-TESTMEMID ").unwrap();
        assert_eq!(m.patient_id, "p1");
        assert_eq!(m.birth_date.as_deref(), Some("1986-01-01"));
        assert!(m.matches(" jason", "ARGONAUT ", "02114"));
        assert!(!m.matches("jason", "argonaut", "02115"));
    }

    #[test]
    fn member_from_coverage_subscriber_id() {
        let coverage = json!({"resourceType":"Coverage","id":"c1",
            "beneficiary":{"reference":"Patient/p2"},"subscriberId":"SUB-2"});
        let (members, _) = Members::derive(&[patient("p2", json!([])), coverage]);
        assert_eq!(members.by_patient_id("p2").unwrap().member_id, "SUB-2");
    }

    #[test]
    fn patients_without_member_id_or_postal_code_are_not_members() {
        let mut no_zip = patient("p3", mb("X"));
        no_zip["address"] = json!([]);
        let (members, _) = Members::derive(&[patient("p4", json!([])), no_zip]);
        assert!(members.all().is_empty());
    }

    #[test]
    fn duplicate_member_ids_warn() {
        let (members, warnings) =
            Members::derive(&[patient("a", mb("M1")), patient("b", mb("m1"))]);
        assert_eq!(members.all().len(), 1);
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn parents_and_guardians_are_representatives_while_the_member_is_a_minor() {
        let mut child = patient("kid", mb("M9"));
        child["birthDate"] = json!("2012-02-29");
        let related = |id: &str, code: &str| {
            json!({"resourceType":"RelatedPerson","id":id,"patient":{"reference":"Patient/kid"},
                "relationship":[{"coding":[{"system":V3_ROLE_CODE,"code":code,"display":code}]}],
                "name":[{"family":"Argonaut","given":["Jo"]}]})
        };
        let (members, _) = Members::derive(&[
            child,
            related("mum", "MTH"),
            related("friend", "FRND"),
            related("guardian", "GUARD"),
        ]);
        let kid = members.by_patient_id("kid").unwrap();
        let ids: Vec<&str> = kid
            .representatives
            .iter()
            .map(|r| r.related_person_id.as_str())
            .collect();
        assert_eq!(ids, ["mum", "guardian"]);
        assert!(
            kid.representative("mum")
                .unwrap()
                .matches(" jo ", "ARGONAUT")
        );
        assert!(kid.representative("friend").is_none());
        assert!(kid.is_minor_on((2030, 2, 28)));
        assert!(
            !kid.is_minor_on((2030, 3, 1)),
            "18 on 1 March of a common year"
        );
        assert!(!kid.is_minor_on((2031, 1, 1)));
        let adult = members.by_patient_id("kid").map(|m| Member {
            birth_date: None,
            ..m.clone()
        });
        assert!(
            !adult.unwrap().is_minor_on((2020, 1, 1)),
            "no birth date: an adult"
        );
    }

    #[test]
    fn zip_plus_four_matches_five_digit_zip() {
        assert!(same_postal_code("02114-1234", "02114"));
        assert!(!same_postal_code("02114", "02114-1234"));
    }
}
