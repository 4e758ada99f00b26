//! Whether a resource's indexed values satisfy one filter (FHIR R4 search semantics for token,
//! date, reference, string and uri parameters, with `:missing`, `:not`, `:exact`, `:contains`
//! and `:Type`). A filter matches when any of its values (comma = OR) matches any of the
//! resource's values.

use crate::fhir::date::{DateRange, Nanos};
use crate::fhir::extract::normalise;
use crate::fhir::store::{Indexed, NO_SYSTEM, Store, StoredResource};

use super::query::{Filter, FilterValue, Modifier, Prefix};

const DAY: Nanos = 86_400 * 1_000_000_000;

pub fn matches(store: &Store, entry: &StoredResource, filter: &Filter) -> bool {
    if let Some(chain) = &filter.chain {
        return entry.targets(filter.param).iter().any(|&t| {
            let target = store.entry(t);
            target.type_slot == chain.target && matches(store, &target, &chain.inner)
        });
    }
    let values = entry.values(filter.param);
    match filter.modifier {
        Modifier::Missing => filter.values.iter().any(|v| match v {
            FilterValue::Missing(missing) => *missing == values.is_empty(),
            _ => false,
        }),
        // `:not`: no value of the resource matches (resources without one qualify).
        Modifier::Not => !filter
            .values
            .iter()
            .any(|f| values.iter().any(|v| value_matches(store, filter, f, v))),
        _ => filter
            .values
            .iter()
            .any(|f| values.iter().any(|v| value_matches(store, filter, f, v))),
    }
}

fn value_matches(store: &Store, filter: &Filter, wanted: &FilterValue, have: &Indexed) -> bool {
    match (wanted, have) {
        (FilterValue::Token { system, code }, Indexed::Token { system: s, code: c }) => {
            let code_ok = code.as_deref().is_none_or(|code| code == store.text(*c));
            let system_ok = match system {
                None => true,
                Some(None) => *s == NO_SYSTEM,
                Some(Some(system)) => *s != NO_SYSTEM && store.text(*s) == system,
            };
            code_ok && system_ok
        }
        (FilterValue::Date(prefix, search), Indexed::Date { .. }) => have
            .date_range()
            .is_some_and(|value| date_matches(*prefix, search, &value)),
        (
            FilterValue::Reference { resource_type, id },
            Indexed::Reference {
                resource_type: t,
                id: i,
            },
        ) => {
            let have_type = store.text(*t);
            store.text(*i) == id
                && match resource_type {
                    Some(wanted) => have_type == wanted,
                    None => filter.def.targets.contains(&have_type),
                }
        }
        (FilterValue::Text(text), Indexed::Text(value)) => {
            let value = store.text(*value);
            match filter.modifier {
                Modifier::Exact => value == text,
                Modifier::Contains => normalise(value).contains(text.as_str()),
                _ => normalise(value).starts_with(text.as_str()),
            }
        }
        (FilterValue::Uri(uri), Indexed::Uri(value)) => {
            let value = store.text(*value);
            // A canonical without `|version` matches every version of it.
            value == uri || value.split_once('|').is_some_and(|(bare, _)| bare == uri)
        }
        _ => false,
    }
}

/// FHIR R4 search, "date" and "prefixes": `search` and `value` are the ranges the two dates
/// stand for. `ap` widens the search range by a tenth of its length, at least a day, each side.
pub fn date_matches(prefix: Prefix, search: &DateRange, value: &DateRange) -> bool {
    let contained = value.start >= search.start && value.end <= search.end;
    match prefix {
        Prefix::Eq => contained,
        Prefix::Ne => !contained,
        Prefix::Gt => value.end > search.end,
        Prefix::Lt => value.start < search.start,
        Prefix::Ge => value.end > search.end || contained,
        Prefix::Le => value.start < search.start || contained,
        Prefix::Sa => value.start >= search.end,
        Prefix::Eb => value.end <= search.start,
        Prefix::Ap => {
            let margin = (search.length() / 10).max(DAY);
            let widened = DateRange {
                start: search.start - margin,
                end: search.end + margin,
            };
            widened.overlaps(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::date::parse;

    fn check(prefix: Prefix, search: &str, value: &str) -> bool {
        date_matches(prefix, &parse(search).unwrap(), &parse(value).unwrap())
    }

    #[test]
    fn prefixes_on_partial_dates() {
        assert!(check(Prefix::Eq, "2020", "2020-05-05"));
        assert!(!check(Prefix::Eq, "2020-05-05", "2020"));
        assert!(check(Prefix::Ne, "2020-05-05", "2020"));
        assert!(check(Prefix::Gt, "2020-05", "2020-06-01"));
        assert!(!check(Prefix::Gt, "2020-05", "2020-05-31"));
        assert!(check(Prefix::Ge, "2020-05", "2020-05-31"));
        assert!(check(Prefix::Lt, "2020-05", "2020-04-30"));
        assert!(check(Prefix::Le, "2020-05", "2020-05-01"));
        assert!(check(Prefix::Sa, "2020-05", "2020-06-01"));
        assert!(check(Prefix::Eb, "2020-05", "2020-04-30"));
        assert!(!check(Prefix::Eb, "2020-05", "2020"));
        assert!(check(Prefix::Ap, "2020-05-05", "2020-05-06"));
        assert!(!check(Prefix::Ap, "2020-05-05", "2020-05-08"));
        assert!(check(Prefix::Ap, "2020", "2021-01-20"));
    }
}
