//! The FHIR R4 side (SPEC §6): the in-memory store and what is served from it.

pub mod resource_types;
pub mod store;

pub use store::Store;
