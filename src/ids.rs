//! The identifiers every layer speaks of, as types that cannot be swapped silently: a member's
//! Patient id, the member ID on their insurance card, and an app's client id are all strings,
//! and a function that takes one must not accept another. Each reads as `&str` (`Deref`) and
//! serialises as a plain string.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        // Hash and Eq agree with str's (derived through String), so maps keyed by an id can be
        // searched with a `&str`.
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

string_id!(
    /// A member's FHIR Patient id (`Patient/{id}`): what a token's compartment is bound to.
    PatientId
);
string_id!(
    /// The member ID on the member's insurance card (an identifier of type `MB`), what the
    /// sign-in page and the control API ask for.
    MemberId
);
string_id!(
    /// An app's OAuth 2.0 `client_id`.
    ClientId
);
string_id!(
    /// A developer account (docs/developer-accounts.md): the owner an app records.
    DeveloperId
);
string_id!(
    /// A health plan of the network (docs/plans.md): `test` is the default plan. Every code and
    /// token is bound to the plan that issued it.
    PlanId
);

/// Which access token a request used or a token response issued, for the report's "went on
/// with a flawed id_token" check (docs/sandbox-tools.md#report): the first 8 bytes of the
/// token's SHA-256, so the log can match a use to its issue without holding the token. Hosted
/// mode stores it with the request log (docs/hosted.md#the-request-log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenTag(u64);

impl TokenTag {
    pub fn of(token: &str) -> TokenTag {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(token.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        TokenTag(u64::from_be_bytes(first))
    }

    /// The tag's 64 bits (hosted mode keys the rate limit's counts by them).
    pub fn bits(self) -> u64 {
        self.0
    }
}
