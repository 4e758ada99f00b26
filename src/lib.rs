//! payer-sandbox: an offline emulator of a health plan's CMS Patient Access API sandbox.
//! `startup::Application` builds the whole server; `main` and the integration tests share it.

pub mod clock;
pub mod compression;
pub mod data;
pub mod db;
pub mod developers;
pub mod fhir;
pub mod healthcheck;
pub mod http;
pub mod ids;
pub mod json_tree;
pub mod oauth;
pub mod plans;
pub mod sandbox;
pub mod settings;
pub mod startup;
pub mod state;
