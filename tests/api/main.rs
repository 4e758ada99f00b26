//! The integration suite: one binary, each test spawning the whole application on port 0 and
//! driving it over HTTP with reqwest, exactly as a client app would.

// Tests and their helpers fail loudly; the production code's ban does not apply here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod compression;
mod developer_accounts;
mod fuzz_corpus;
mod hostile_input;
mod isolation_all_members;
mod layers;
mod oauth_asymmetric;
mod oauth_authorize;
mod oauth_consent;
mod oauth_flow;
mod oauth_representative;
mod oauth_token;
mod persistence;
mod plans_network;
mod plans_profiles;
mod public_apis;
mod public_consistency;
mod public_shall;
mod sandbox_control;
mod sandbox_faults;
mod sandbox_page;
mod sandbox_report;
mod sandbox_requests;
mod sandbox_timeline;
mod security_headers;
mod security_logs;
mod snapshots;
mod startup;

mod fhir_data_changes;
mod fhir_dates;
mod fhir_granular;
mod fhir_include;
mod fhir_isolation;
mod fhir_paging;
mod fhir_prior_auth;
mod fhir_read;
mod fhir_search;
mod fhir_support;
mod fhir_us_core;
