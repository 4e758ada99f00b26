//! A search page as a `searchset` Bundle (docs/fhir-api.md#bundles): total, paging links, matches then includes
//! with their `search.mode`, and an OperationOutcome entry listing what was ignored.

use crate::fhir::bundle::{BundleWriter, Mode, subset};
use crate::fhir::outcome::{Severity, operation_outcome};
use crate::fhir::pieces::Pieces;
use crate::fhir::rendered::PageKey;
use crate::fhir::store::Store;

use super::engine::Page;
use super::links::page_links;
use super::query::{SearchRequest, Summary};

pub struct BundleUrls<'a> {
    /// Absolute FHIR base, for `fullUrl`.
    pub base: &'a str,
    /// Absolute URL the paging links repeat the search on (`{base}/{type}`).
    pub search_url: &'a str,
    /// `meta.lastUpdated` of the Bundle: the sandbox clock's now.
    pub now: &'a str,
}

/// The Bundle's bytes, and its `next` link if it has one.
pub fn render(
    store: &Store,
    target: &BundleUrls,
    request: &SearchRequest,
    page: &Page,
) -> (Pieces, Option<String>) {
    let count = if request.summary == Summary::Count {
        0
    } else {
        request.count
    };
    let links = page_links(
        target.search_url,
        &request.echo,
        count,
        request.offset,
        page.total,
    );
    let next = links
        .iter()
        .find(|(relation, _)| *relation == "next")
        .map(|(_, url)| url.clone());
    let total = (request.total || count == 0).then_some(page.total);
    let mut bundle = BundleWriter::searchset(target.base, target.now, total, &links);
    let drop_text = request.summary == Summary::Data;
    let shaped = request.elements.is_some() || drop_text;
    if !shaped && request.ignored.is_empty() && !page.matches.is_empty() {
        // Entries that are the stored resources as they are: the same page, the same bytes.
        let key = PageKey {
            base: target.base.to_owned(),
            matches: page.matches.clone(),
            included: page.included.clone(),
        };
        let entries = store.rendered().get_or_write(key, || {
            let mut entries = BundleWriter::entries_only(target.base);
            write_entries(&mut entries, store, page, None, false);
            entries.finish().to_bytes()
        });
        return (bundle.finish_with(entries), next);
    }
    write_entries(
        &mut bundle,
        store,
        page,
        request.elements.as_deref(),
        drop_text,
    );
    if !request.ignored.is_empty() {
        bundle.outcome(&operation_outcome(
            Severity::Warning,
            "not-supported",
            &request.ignored,
        ));
    }
    (bundle.finish(), next)
}

/// The page's matches, shaped by `_elements` and `_summary=data` when asked, then its includes.
fn write_entries(
    bundle: &mut BundleWriter,
    store: &Store,
    page: &Page,
    elements: Option<&[String]>,
    drop_text: bool,
) {
    for &n in &page.matches {
        let entry = store.entry(n);
        let shaped = subset(entry.json_bytes(), elements, drop_text);
        bundle.entry(&entry, Mode::Match, shaped.as_deref());
    }
    for &n in &page.included {
        bundle.entry(&store.entry(n), Mode::Include, None);
    }
}
