//! FHIR R4 search (docs/fhir-api.md#search): parsing a request, running it inside the caller's compartment, and
//! the includes and paging links of the resulting page.

pub mod engine;
pub mod include;
pub mod links;
pub mod matching;
pub mod query;
pub mod render;
pub mod rules;

pub use engine::{Page, run, run_everything};
pub use query::{
    Chains, Handling, QueryError, SearchRequest, Summary, parse, parse_everything, parse_with,
};
pub use rules::SearchRules;
