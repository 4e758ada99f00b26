//! The FHIR R4 side (docs/fhir-api.md): the in-memory store and its indexes, the search-parameter table,
//! search, `$everything`, bundles, OperationOutcomes and the CapabilityStatement. Nothing here
//! knows HTTP; `http::fhir` serves it.

pub mod apis;
pub mod bundle;
pub mod capability;
pub mod compartment;
pub mod date;
pub mod extract;
mod fx_hash;
pub mod granular;
pub mod live;
pub mod outcome;
pub mod pieces;
pub mod prior_auth;
mod rendered;
pub mod search;
pub mod search_params;
mod store;
mod store_batch;
mod store_builder;
mod store_resolve;
mod strings;

pub use compartment::{
    AccessError, AccessRights, Compartment, DataAt, Grant, MemberData, Permission, PublicData,
    SearchResult, Site,
};
pub use search::Handling;
pub use store::{Store, StoredResource};
pub use store_batch::Batch;
pub use store_builder::{Dangling, Duplicate, StoreBuilder};
