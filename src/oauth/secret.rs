//! Secrets and tokens (client secrets, codes, PKCE verifiers, access, refresh and id tokens) in
//! a type that cannot be logged: its `Debug` prints `[redacted]`, it has no `Display`, and the
//! value is read only through `expose`, so every place that uses the text says so. Two secrets
//! compare in constant time.

use std::fmt;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's text, for the one place that needs it (a comparison, a response body, a
    /// lookup key).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// `Option<Secret>` read as `Option<&str>`, deliberately.
pub trait ExposeOption {
    fn exposed(&self) -> Option<&str>;
}

impl ExposeOption for Option<Secret> {
    fn exposed(&self) -> Option<&str> {
        self.as_ref().map(Secret::expose)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("sandbox-secret");
        let shown = format!("{secret:?} {:?}", Some(secret.clone()));
        assert!(!shown.contains("sandbox-secret"), "{shown}");
        assert_eq!(secret.expose(), "sandbox-secret");
        assert_eq!(secret, Secret::from("sandbox-secret"));
        assert_ne!(secret, Secret::from("sandbox-secreT"));
        assert_eq!(
            serde_json::to_string(&secret).unwrap(),
            "\"sandbox-secret\""
        );
    }
}
