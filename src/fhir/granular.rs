//! SMART App Launch 2 granular scopes (docs/access.md#granular-scopes): a resource scope may end
//! in a search query, `patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory`,
//! that limits it to the resources of the type the query matches. The query is parsed with the
//! type's own search parameters, so a constraint means exactly what the same search would.
//! Only search parameters (`name=value`, modifiers allowed, `&` = AND, `,` = OR) may appear:
//! result parameters (`_count`, `_include`, `_sort`, …) are not constraints.

use url::form_urlencoded;

use super::search::query::Filter;
use super::search::{self, SearchRequest};
use super::search_params;

/// The filters a constraint query stands for on `resource_type` (every one must match), or why
/// it is not a constraint this server can enforce.
pub fn parse(resource_type: &str, query: &str) -> Result<Vec<Filter>, String> {
    let (_, def) = search_params::resource(resource_type)
        .ok_or_else(|| format!("{resource_type} is not served"))?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs.is_empty() {
        return Err("the query after ? is empty".to_owned());
    }
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, value)| name.starts_with('_') || value.is_empty())
    {
        return Err(format!(
            "{name:?} is not a search parameter with a value: only search parameters constrain a scope"
        ));
    }
    let request: SearchRequest = search::parse(def, &pairs).map_err(|e| e.0)?;
    if let Some(ignored) = request.ignored.first() {
        return Err(ignored.clone());
    }
    if request.filters.len() != pairs.len() {
        return Err("every part of the query must be a search parameter of the type".to_owned());
    }
    Ok(request.filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB: &str =
        "category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";

    #[test]
    fn search_parameters_constrain_and_nothing_else_does() {
        assert_eq!(parse("Observation", LAB).unwrap().len(), 1);
        assert_eq!(
            parse("Observation", &format!("{LAB}&status=final"))
                .unwrap()
                .len(),
            2
        );
        assert!(parse("Condition", "category=problem-list-item,health-concern").is_ok());
        for bad in [
            "",
            "nonsense=1",
            "_count=5",
            "_include=Observation:patient",
            "category=",
            "date=not-a-date",
        ] {
            assert!(parse("Observation", bad).is_err(), "{bad:?}");
        }
        assert!(parse("Nope", LAB).is_err());
    }
}
