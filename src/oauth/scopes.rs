//! SMART App Launch scopes (v1 `.read`, v2 `.rs`/`.r`/`.s`, granular `?category=…`) and OpenID
//! Connect scopes: parsing a request into the granted set (unknown scopes dropped,
//! docs/oauth.md#scopes), answering "what may this token read or search of this type", and
//! narrowing on refresh. Granted scopes keep the syntax they were requested in.

use std::fmt;

use crate::fhir::granular;
use crate::fhir::search_params::is_served;
pub use crate::fhir::{Grant, Permission};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Patient,
    User,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `patient/Type.read`, `user/*.rs`, …; `resource_type` `None` is `*`.
    Resource {
        context: Context,
        resource_type: Option<String>,
        read: bool,
        search: bool,
        /// A granular scope's query (`category=…|laboratory`): only what it matches.
        constraint: Option<String>,
    },
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    text: String,
    kind: Kind,
}

/// Non-resource scopes the server grants as asked.
const KNOWN_OTHER: &[&str] = &[
    "openid",
    "fhirUser",
    "profile",
    "launch/patient",
    "offline_access",
    "online_access",
];

impl Scope {
    /// The granted form of one requested scope, or `None` when it is dropped. Read-only server:
    /// v2 permissions keep their `r`/`s` letters, v1 `.*` becomes `.read`, write-only is dropped.
    pub fn parse(text: &str) -> Option<Scope> {
        if KNOWN_OTHER.contains(&text) {
            return Some(Scope {
                text: text.to_owned(),
                kind: Kind::Other,
            });
        }
        let (context, rest) = if let Some(rest) = text.strip_prefix("patient/") {
            (Context::Patient, rest)
        } else if let Some(rest) = text.strip_prefix("user/") {
            (Context::User, rest)
        } else {
            return None;
        };
        let (resource_type, after_dot) = rest.split_once('.')?;
        let prefix = &text[..text.len() - after_dot.len()];
        let resource_type = match resource_type {
            "*" => None,
            t if is_served(t) => Some(t.to_owned()),
            _ => return None,
        };
        // SMART v2 granular scopes: `Type.rs?param=value`, a search query this server can
        // evaluate on the type; on `*`, or one it cannot, the scope is dropped.
        let (permissions, constraint) = match after_dot.split_once('?') {
            None => (after_dot, None),
            Some((permissions, query)) => {
                granular::parse(resource_type.as_deref()?, query).ok()?;
                (permissions, Some(query.to_owned()))
            }
        };
        let (read, search, granted) = match permissions {
            // Constraints are a v2 feature: `.read?…` is not a scope.
            "read" | "*" if constraint.is_none() => (true, true, format!("{prefix}read")),
            v2 if is_v2_permissions(v2) => {
                let read = v2.contains('r');
                let search = v2.contains('s');
                let letters: String = v2.chars().filter(|c| matches!(c, 'r' | 's')).collect();
                (read, search, format!("{prefix}{letters}"))
            }
            _ => return None,
        };
        if !read && !search {
            return None;
        }
        let granted = match &constraint {
            Some(query) => format!("{granted}?{query}"),
            None => granted,
        };
        Some(Scope {
            text: granted,
            kind: Kind::Resource {
                context,
                resource_type,
                read,
                search,
                constraint,
            },
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// For a resource scope, its type (`None` for `*`); `None` for any other scope.
    pub fn target_type(&self) -> Option<Option<String>> {
        match &self.kind {
            Kind::Resource { resource_type, .. } => Some(resource_type.clone()),
            Kind::Other => None,
        }
    }
}

/// SMART v2: letters of `cruds`, each at most once, in that order.
fn is_v2_permissions(p: &str) -> bool {
    let mut last = None;
    !p.is_empty()
        && p.chars().all(|c| {
            let rank = "cruds".find(c);
            let ok = rank.is_some() && rank > last;
            last = rank;
            ok
        })
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantedScopes(Vec<Scope>);

impl GrantedScopes {
    /// The granted set for a space-separated request: unknown scopes dropped, duplicates folded,
    /// and, when the app was registered with a scope list, only scopes within it.
    pub fn grant(requested: &str, allowed: Option<&[String]>) -> GrantedScopes {
        let mut granted: Vec<Scope> = Vec::new();
        for scope in requested.split_ascii_whitespace().filter_map(Scope::parse) {
            let permitted = allowed.is_none_or(|allowed| {
                let allowed =
                    GrantedScopes(allowed.iter().filter_map(|a| Scope::parse(a)).collect());
                allowed.covers(&scope)
            });
            if permitted && !granted.iter().any(|g| g.text == scope.text) {
                granted.push(scope);
            }
        }
        GrantedScopes(granted)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.text == scope)
    }

    pub fn has_resource_access(&self) -> bool {
        self.0
            .iter()
            .any(|s| matches!(s.kind, Kind::Resource { .. }))
    }

    /// Whether a resource scope without a constraint covers the type (for the consent page's
    /// choices: a constrained scope is a choice of its own).
    pub fn covers_type_plainly(&self, resource_type: &str) -> bool {
        self.0.iter().any(|s| match &s.kind {
            Kind::Resource {
                resource_type: t,
                constraint: None,
                ..
            } => t.as_deref().is_none_or(|t| t == resource_type),
            _ => false,
        })
    }

    /// Whether a token with these scopes may perform `interaction` on `resource_type` at all.
    pub fn permits(&self, resource_type: &str, interaction: Permission) -> bool {
        self.grant_of(resource_type, interaction) != Grant::Nothing
    }

    /// What a token with these scopes may have of `resource_type` for `interaction`: every
    /// resource when one scope covers it without a constraint, else what the constraints of the
    /// scopes covering it match (docs/access.md#granular-scopes). Patient and user scopes both
    /// confine the token to its member's compartment (docs/access.md#member-compartment).
    pub fn grant_of(&self, resource_type: &str, interaction: Permission) -> Grant {
        let mut constraints = Vec::new();
        for scope in &self.0 {
            let Kind::Resource {
                resource_type: t,
                read,
                search,
                constraint,
                ..
            } = &scope.kind
            else {
                continue;
            };
            let covers = t.as_deref().is_none_or(|t| t == resource_type)
                && match interaction {
                    Permission::Read => *read,
                    Permission::Search => *search,
                };
            match (covers, constraint) {
                (false, _) => {}
                (true, None) => return Grant::Everything,
                (true, Some(query)) => constraints.push(query.clone()),
            }
        }
        if constraints.is_empty() {
            Grant::Nothing
        } else {
            Grant::Matching(constraints)
        }
    }

    /// Whether `scope` asks for nothing beyond this grant.
    fn covers(&self, scope: &Scope) -> bool {
        match &scope.kind {
            Kind::Other => self.contains(&scope.text),
            Kind::Resource {
                context,
                resource_type,
                read,
                search,
                constraint,
            } => self.0.iter().any(|g| match &g.kind {
                Kind::Resource {
                    context: gc,
                    resource_type: gt,
                    read: gr,
                    search: gs,
                    constraint: gcon,
                } => {
                    gc == context
                        && (gt.is_none() || gt == resource_type)
                        && (!read || *gr)
                        && (!search || *gs)
                        // A constrained grant covers only the same constraint.
                        && (gcon.is_none() || gcon == constraint)
                }
                Kind::Other => false,
            }),
        }
    }

    /// A refresh request's `scope` (RFC 6749 §6): every scope must lie within this grant.
    pub fn narrow(&self, requested: &str) -> Result<GrantedScopes, String> {
        let mut narrowed = Vec::new();
        for text in requested.split_ascii_whitespace() {
            let scope = Scope::parse(text)
                .ok_or_else(|| format!("scope {text} is not one this server grants"))?;
            if !self.covers(&scope) {
                return Err(format!("scope {text} exceeds the original grant"));
            }
            if !narrowed.iter().any(|s: &Scope| s.text == scope.text) {
                narrowed.push(scope);
            }
        }
        if narrowed.is_empty() {
            return Err("scope is empty".to_owned());
        }
        Ok(GrantedScopes(narrowed))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|s| s.text.as_str())
    }
}

/// Stored (hosted mode's database) as the space-separated text a token response carries; read
/// back through the same parser, which gives the same set, since every granted scope parsed.
impl serde::Serialize for GrantedScopes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for GrantedScopes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(GrantedScopes::grant(&text, None))
    }
}

impl fmt::Display for GrantedScopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&scope.text)?;
        }
        Ok(())
    }
}

/// Plain words for the consent page (docs/oauth.md#consent).
pub fn describe(scope: &str) -> String {
    let Some(parsed) = Scope::parse(scope) else {
        return scope.to_owned();
    };
    match parsed.kind {
        Kind::Other => match scope {
            "openid" => "Confirm that it is you who signed in".to_owned(),
            "fhirUser" => "Know which member record is yours".to_owned(),
            "profile" => "See your name and date of birth".to_owned(),
            "launch/patient" => "Know which member record you chose".to_owned(),
            "offline_access" => {
                "Keep access when you are not using the app (until you revoke it)".to_owned()
            }
            "online_access" => "Keep access while you are using the app".to_owned(),
            other => other.to_owned(),
        },
        Kind::Resource {
            resource_type,
            read,
            search,
            constraint,
            ..
        } => {
            let what = match resource_type.as_deref() {
                None => "all of your health plan records".to_owned(),
                Some(t) => format!("your {}", plain_type(t)),
            };
            let verb = match (read, search) {
                (true, true) => "Read and search",
                (true, false) => "Read",
                _ => "Search",
            };
            match constraint {
                Some(query) => format!("{verb} {what}, only {} (read-only)", plain_query(&query)),
                None => format!("{verb} {what} (read-only)"),
            }
        }
    }
}

/// A constraint in words: `category=http://…|laboratory` reads "category laboratory".
fn plain_query(query: &str) -> String {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| {
            let codes: Vec<&str> = value
                .split(',')
                .map(|v| v.rsplit('|').next().unwrap_or(v))
                .collect();
            format!("{name} {}", codes.join(" or "))
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

pub fn plain_type(resource_type: &str) -> &str {
    match resource_type {
        "ExplanationOfBenefit" => "claims and explanations of benefits",
        "Coverage" => "coverage and plan details",
        "Patient" => "member demographics",
        "Organization" => "plan and provider organizations",
        "Practitioner" => "providers",
        "PractitionerRole" => "providers' roles and specialties",
        "RelatedPerson" => "related persons",
        "Location" => "care locations",
        "Observation" => "observations and lab results",
        "Encounter" => "visits",
        "Condition" => "conditions",
        "AllergyIntolerance" => "allergies",
        "Immunization" => "immunizations",
        "MedicationRequest" => "prescriptions",
        "Procedure" => "procedures",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_scopes_are_dropped_and_syntax_kept() {
        let g = GrantedScopes::grant(
            "patient/*.read foo user/Coverage.r openid patient/Nope.read",
            None,
        );
        assert_eq!(g.to_string(), "patient/*.read user/Coverage.r openid");
    }

    #[test]
    fn v2_write_letters_are_dropped() {
        let g = GrantedScopes::grant("patient/*.cruds patient/Observation.cud user/*.*", None);
        assert_eq!(g.to_string(), "patient/*.rs user/*.read");
        assert!(Scope::parse("patient/*.sr").is_none(), "out of order");
        assert!(Scope::parse("patient/*.rr").is_none(), "repeated");
    }

    #[test]
    fn permits_by_type_and_interaction() {
        let g = GrantedScopes::grant("patient/Patient.read user/Coverage.r", None);
        assert!(g.permits("Patient", Permission::Search));
        assert!(g.permits("Coverage", Permission::Read));
        assert!(!g.permits("Coverage", Permission::Search));
        assert!(!g.permits("ExplanationOfBenefit", Permission::Read));
    }

    #[test]
    fn narrowing_refuses_wider_scopes() {
        let g = GrantedScopes::grant("patient/ExplanationOfBenefit.read openid", None);
        assert!(g.narrow("patient/ExplanationOfBenefit.rs").is_ok());
        assert!(g.narrow("patient/*.read").is_err());
        assert!(g.narrow("user/ExplanationOfBenefit.read").is_err());
        let wide = GrantedScopes::grant("patient/*.read", None);
        assert_eq!(
            wide.narrow("patient/Coverage.read").unwrap().to_string(),
            "patient/Coverage.read"
        );
    }

    #[test]
    fn granular_scopes_grant_only_their_constraint_unless_a_plain_scope_covers_more() {
        let lab = "category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
        let g = GrantedScopes::grant(&format!("patient/Observation.rs?{lab}"), None);
        assert_eq!(
            g.grant_of("Observation", Permission::Search),
            Grant::Matching(vec![lab.to_owned()])
        );
        assert_eq!(g.grant_of("Condition", Permission::Read), Grant::Nothing);
        let wider = GrantedScopes::grant(
            &format!("patient/Observation.rs?{lab} patient/Observation.r"),
            None,
        );
        assert_eq!(
            wider.grant_of("Observation", Permission::Read),
            Grant::Everything
        );
        assert!(matches!(
            wider.grant_of("Observation", Permission::Search),
            Grant::Matching(_)
        ));
        // Narrowing: the same constraint, or a plain scope's subset, never a wider one.
        assert!(g.narrow(&format!("patient/Observation.r?{lab}")).is_ok());
        assert!(g.narrow("patient/Observation.rs").is_err());
        assert_eq!(
            describe(&format!("patient/Observation.rs?{lab}")),
            "Read and search your observations and lab results, only category laboratory (read-only)"
        );
    }

    #[test]
    fn app_scope_list_limits_the_grant() {
        let allowed = vec!["patient/Patient.read".to_owned()];
        let g = GrantedScopes::grant("patient/*.read patient/Patient.read", Some(&allowed));
        assert_eq!(g.to_string(), "patient/Patient.read");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn scope_word() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("openid".to_owned()),
            Just("offline_access".to_owned()),
            "(patient|user|system)/(\\*|Patient|Coverage|ExplanationOfBenefit|Nope)\\.(read|write|\\*|[cruds]{1,5}|x)",
            "[ -~]{0,20}",
        ]
    }

    proptest! {
        #[test]
        fn granting_is_total_and_idempotent(words in proptest::collection::vec(scope_word(), 0..8)) {
            let requested = words.join(" ");
            let granted = GrantedScopes::grant(&requested, None);
            let again = GrantedScopes::grant(&granted.to_string(), None);
            prop_assert_eq!(&again, &granted);
            if !granted.is_empty() {
                prop_assert_eq!(granted.narrow(&granted.to_string()), Ok(granted.clone()));
            }
            for scope in granted.iter() {
                prop_assert!(Scope::parse(scope).is_some());
            }
        }

        /// SMART v1 and v2 say the same thing differently: `.read` is `.rs`, `.*` is `.cruds`
        /// on a read-only server; each grants exactly what its twin grants, for every type.
        #[test]
        fn v1_and_v2_forms_grant_the_same(
            context in "(patient|user)",
            resource_type in "(\\*|Patient|Coverage|ExplanationOfBenefit|Observation|Condition)",
        ) {
            for (v1, v2) in [("read", "rs"), ("*", "cruds"), ("read", "cruds")] {
                let one = GrantedScopes::grant(&format!("{context}/{resource_type}.{v1}"), None);
                let two = GrantedScopes::grant(&format!("{context}/{resource_type}.{v2}"), None);
                for t in crate::fhir::search_params::RESOURCES.iter().map(|d| d.name) {
                    for i in [Permission::Read, Permission::Search] {
                        prop_assert_eq!(one.grant_of(t, i), two.grant_of(t, i), "{} {}", v1, v2);
                    }
                }
            }
        }

        /// A granted v2 scope, constrained or not, renders to text that parses back to itself.
        #[test]
        fn v2_scopes_render_and_parse_back(
            context in "(patient|user)",
            resource_type in "(Observation|Condition|ExplanationOfBenefit)",
            letters in "c?r?u?d?s?",
            constrained in proptest::bool::ANY,
        ) {
            let query = match resource_type.as_str() {
                "Observation" => "?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
                "Condition" => "?category=problem-list-item,health-concern",
                _ => "?type=pharmacy",
            };
            let text = format!(
                "{context}/{resource_type}.{letters}{}",
                if constrained { query } else { "" }
            );
            if let Some(scope) = Scope::parse(&text) {
                let again = Scope::parse(scope.as_str());
                prop_assert_eq!(again.as_ref(), Some(&scope));
                prop_assert_eq!(scope.as_str().contains('?'), constrained);
            } else {
                prop_assert!(!letters.contains('r') && !letters.contains('s'), "{} dropped", text);
            }
        }

        #[test]
        fn narrowing_never_widens(words in proptest::collection::vec(scope_word(), 1..6), asked in proptest::collection::vec(scope_word(), 1..6)) {
            let granted = GrantedScopes::grant(&words.join(" "), None);
            if let Ok(narrowed) = granted.narrow(&asked.join(" ")) {
                for t in crate::fhir::search_params::RESOURCES.iter().map(|d| d.name) {
                    for i in [Permission::Read, Permission::Search] {
                        prop_assert!(!narrowed.permits(t, i) || granted.permits(t, i));
                    }
                }
            }
        }
    }
}
