//! Paging links (docs/fhir-api.md#paging): stateless URLs that repeat the search's own parameters with `_count`
//! and `_offset`, so every link keeps working for as long as the data is loaded (it never
//! changes while the server runs).

use url::form_urlencoded;

/// `self`, `first`, `previous`, `next` and `last` for a page of `count` starting at `offset`.
pub fn page_links(
    url: &str,
    echo: &[(String, String)],
    count: usize,
    offset: usize,
    total: usize,
) -> Vec<(&'static str, String)> {
    let at = |offset: usize| page_url(url, echo, count, offset);
    let mut links = vec![("self", at(offset))];
    if count == 0 {
        return links;
    }
    links.push(("first", at(0)));
    if offset > 0 {
        links.push(("previous", at(offset.saturating_sub(count))));
    }
    if offset.saturating_add(count) < total {
        links.push(("next", at(offset + count)));
    }
    if total > 0 {
        links.push(("last", at((total - 1) / count * count)));
    }
    links
}

pub fn page_url(url: &str, echo: &[(String, String)], count: usize, offset: usize) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in echo {
        query.append_pair(name, value);
    }
    query.append_pair("_count", &count.to_string());
    if offset > 0 {
        query.append_pair("_offset", &offset.to_string());
    }
    format!("{url}?{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middle_page_links() {
        let echo = vec![("patient".to_owned(), "Patient/a b".to_owned())];
        let links = page_links("http://x/r4/ExplanationOfBenefit", &echo, 10, 10, 25);
        let names: Vec<_> = links.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["self", "first", "previous", "next", "last"]);
        assert_eq!(
            links[3].1,
            "http://x/r4/ExplanationOfBenefit?patient=Patient%2Fa+b&_count=10&_offset=20"
        );
        assert!(links[4].1.ends_with("_offset=20"));
        assert!(links[1].1.ends_with("_count=10"));
    }
}
