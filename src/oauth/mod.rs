//! The OAuth 2.0 / SMART App Launch protocol core (RFC 6749, RFC 7636, SMART App Launch 2.x,
//! OpenID Connect Core): apps, authorize decisions, member sign-in, codes, tokens, scopes, PKCE,
//! signing keys. No HTTP types here: functions take plain values, including `now`, and return
//! decisions that `crate::http` turns into redirects, pages or JSON.

pub mod apps;
pub mod authorize;
pub mod client_assertion;
pub mod consent;
pub mod error;
pub mod grant_book;
pub mod id_token_flaw;
pub mod keys;
pub mod login;
pub mod persist;
pub mod pkce;
pub mod random;
pub mod scopes;
pub mod secret;
pub mod server;
pub mod token_exchange;
pub mod token_store;

pub use error::{ErrorCode, OAuthError};
pub use server::{OAuthConfig, OAuthServer};
