//! A plan's search behaviour (docs/plans.md#behaviour-profiles): its default and largest page,
//! whether Bundles carry `total`, and which `_include`/`_revinclude` values it follows. Values it
//! does not follow are ignored and named in the Bundle's OperationOutcome, as servers that
//! support fewer includes answer; under `Prefer: handling=strict` they are errors.

use super::query::{DEFAULT_COUNT, MAX_COUNT, SearchRequest};

/// The default plan's rules are `SearchRules::default()`: FHIR R4 search as documented in
/// docs/fhir-api.md#result-controls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRules {
    pub page_size: usize,
    pub max_page_size: usize,
    pub total: bool,
    /// `Type:param` (or `Type:*`) values followed by `_include`; `None`: all.
    pub includes: Option<Vec<String>>,
    pub revincludes: Option<Vec<String>>,
}

impl Default for SearchRules {
    fn default() -> Self {
        Self {
            page_size: DEFAULT_COUNT,
            max_page_size: MAX_COUNT,
            total: true,
            includes: None,
            revincludes: None,
        }
    }
}

impl SearchRules {
    /// Whether `_include` (`rev` false) or `_revinclude` value `item` is followed.
    pub fn follows(&self, rev: bool, item: &str) -> bool {
        let list = if rev {
            &self.revincludes
        } else {
            &self.includes
        };
        let Some(allowed) = list else {
            return true;
        };
        let mut parts = item.split(':');
        let (source, param) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        allowed.iter().any(|a| match a.split_once(':') {
            Some((ty, "*")) => ty == source,
            Some((ty, p)) => ty == source && p == param,
            None => false,
        })
    }

    /// The search's parameters without the includes this plan does not follow, and a note for
    /// each one left out.
    pub fn filter(&self, pairs: &[(String, String)]) -> (Vec<(String, String)>, Vec<String>) {
        if self.includes.is_none() && self.revincludes.is_none() {
            return (pairs.to_vec(), Vec::new());
        }
        let mut kept = Vec::with_capacity(pairs.len());
        let mut ignored = Vec::new();
        for (name, value) in pairs {
            let base = name.split(':').next().unwrap_or(name);
            let rev = match base {
                "_include" => false,
                "_revinclude" => true,
                _ => {
                    kept.push((name.clone(), value.clone()));
                    continue;
                }
            };
            let mut followed = Vec::new();
            for item in value.split(',') {
                if self.follows(rev, item.trim()) {
                    followed.push(item.trim());
                } else {
                    ignored.push(format!(
                        "{name}={}: not supported by this plan's server",
                        item.trim()
                    ));
                }
            }
            if !followed.is_empty() {
                kept.push((name.clone(), followed.join(",")));
            }
        }
        (kept, ignored)
    }

    /// The page size and `total`, after parsing: the plan's default page when the request names
    /// no `_count`, its largest page at most.
    pub fn apply(
        &self,
        pairs: &[(String, String)],
        request: &mut SearchRequest,
        ignored: Vec<String>,
    ) {
        match pairs.iter().rev().find(|(k, _)| k == "_count") {
            None => request.count = self.page_size,
            Some((_, value)) => {
                if let Ok(asked) = value.trim().parse::<usize>() {
                    request.count = asked;
                }
            }
        }
        request.count = request.count.min(self.max_page_size);
        request.total &= self.total;
        request.ignored.extend(ignored);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn unsupported_includes_are_left_out_and_named() {
        let rules = SearchRules {
            includes: Some(vec!["ExplanationOfBenefit:patient".into()]),
            revincludes: Some(vec![]),
            ..SearchRules::default()
        };
        let (kept, ignored) = rules.filter(&pairs(&[
            ("patient", "p1"),
            (
                "_include",
                "ExplanationOfBenefit:patient,ExplanationOfBenefit:provider",
            ),
            ("_revinclude", "Provenance:target"),
        ]));
        assert_eq!(
            kept,
            pairs(&[
                ("patient", "p1"),
                ("_include", "ExplanationOfBenefit:patient")
            ])
        );
        assert_eq!(ignored.len(), 2);
        assert!(ignored[0].contains("ExplanationOfBenefit:provider"));
    }

    #[test]
    fn a_type_wildcard_follows_every_include_of_the_type() {
        let rules = SearchRules {
            includes: Some(vec!["ExplanationOfBenefit:*".into()]),
            revincludes: Some(vec![]),
            ..SearchRules::default()
        };
        assert!(rules.follows(false, "ExplanationOfBenefit:coverage"));
        assert!(rules.follows(false, "ExplanationOfBenefit:provider:Practitioner"));
        assert!(!rules.follows(false, "Coverage:payor"));
        assert!(!rules.follows(true, "Provenance:target"));
        assert!(SearchRules::default().follows(true, "Provenance:target"));
    }

    #[test]
    fn the_default_rules_keep_everything() {
        let p = pairs(&[("_include", "ExplanationOfBenefit:*")]);
        assert_eq!(SearchRules::default().filter(&p), (p.clone(), Vec::new()));
    }
}
