//! The RS256 keys that sign OpenID Connect `id_token`s, and their JWKS (RFC 7517) with an
//! RFC 7638 thumbprint as `kid`. The sandbox keys are embedded and public on purpose: starting
//! needs no key generation (milliseconds, not seconds), and a sandbox token must never be trusted
//! anywhere else. `KeyRing` rotates through them on request (docs/sandbox-tools.md#signing-keys):
//! a new `kid` signs from then on, the JWKS lists the old key beside it until it is dropped, so
//! that a client's JWKS caching can be tested.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};

const SANDBOX_KEY_PEM: &str = include_str!("sandbox-signing-key.pem");

/// The keys a rotation moves through, in order (then back to the first).
const ROTATION: [&str; 3] = [
    SANDBOX_KEY_PEM,
    include_str!("sandbox-signing-key-2.pem"),
    include_str!("sandbox-signing-key-3.pem"),
];

/// Keys for the plans other than the default (docs/plans.md): plan n of the network signs with
/// key n (round the list again past the last), unless its plans-file entry names its own.
const PLAN_KEYS: [&str; 4] = [
    include_str!("plan-signing-key-1.pem"),
    include_str!("plan-signing-key-2.pem"),
    include_str!("plan-signing-key-3.pem"),
    include_str!("plan-signing-key-4.pem"),
];

pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwks: Value,
    jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn sandbox() -> Result<Self, String> {
        Self::from_pem(SANDBOX_KEY_PEM)
    }

    /// The embedded key of the `n`th plan after the default (counting from 0).
    pub fn for_plan(n: usize) -> Result<Self, String> {
        Self::from_pem(PLAN_KEYS[n % PLAN_KEYS.len()])
    }

    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let private =
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| format!("signing key: {e}"))?;
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        // RFC 7638 §3: members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let encoding =
            EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| format!("signing key: {e}"))?;
        let jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e});
        let jwks = json!({"keys": [jwk.clone()]});
        Ok(Self {
            kid,
            encoding,
            jwks,
            jwk,
        })
    }

    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| e.to_string())
    }
}

/// The key that signs, and during a rotation's overlap the one it replaced.
struct Ring {
    current: Arc<SigningKey>,
    position: usize,
    previous: Option<Arc<SigningKey>>,
}

/// The server's signing keys, rotated by the control API.
pub struct KeyRing {
    first: Arc<SigningKey>,
    ring: RwLock<Ring>,
}

/// Which keys the JWKS lists after a rotation or a drop, newest first.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KeyState {
    /// The `kid` that signs from now on.
    pub kid: String,
    /// Every `kid` the JWKS lists.
    pub jwks_kids: Vec<String>,
}

impl KeyRing {
    pub fn new(first: SigningKey) -> Self {
        let first = Arc::new(first);
        Self {
            ring: RwLock::new(Ring {
                current: first.clone(),
                position: 0,
                previous: None,
            }),
            first,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Ring> {
        self.ring.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Ring> {
        self.ring.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Signs with the current key (its `kid` in the header).
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, String> {
        let key = self.read().current.clone();
        key.sign(claims)
    }

    /// Signs with an embedded key the JWKS does not list (an id_token fault's "wrong key").
    pub fn sign_unlisted<T: Serialize>(&self, claims: &T) -> Result<String, String> {
        let listed = self.state().jwks_kids;
        for pem in ROTATION {
            let key = SigningKey::from_pem(pem)?;
            if !listed.contains(&key.kid) {
                return key.sign(claims);
            }
        }
        Err("every embedded key is listed".to_owned())
    }

    /// The current key, then the previous one while it is kept.
    pub fn jwks(&self) -> Value {
        let ring = self.read();
        let keys: Vec<Value> = std::iter::once(&ring.current)
            .chain(ring.previous.as_ref())
            .map(|k| k.jwk.clone())
            .collect();
        json!({ "keys": keys })
    }

    pub fn state(&self) -> KeyState {
        let ring = self.read();
        KeyState {
            kid: ring.current.kid.clone(),
            jwks_kids: std::iter::once(&ring.current)
                .chain(ring.previous.as_ref())
                .map(|k| k.kid.clone())
                .collect(),
        }
    }

    /// The next embedded key signs from now on; the current one stays in the JWKS beside it.
    pub fn rotate(&self) -> Result<KeyState, String> {
        let position = (self.read().position + 1) % ROTATION.len();
        let next = Arc::new(SigningKey::from_pem(ROTATION[position])?);
        {
            let mut ring = self.write();
            let old = std::mem::replace(&mut ring.current, next);
            ring.previous = Some(old);
            ring.position = position;
        }
        Ok(self.state())
    }

    /// Ends the overlap: the previous key leaves the JWKS (id_tokens it signed stop verifying).
    pub fn drop_previous(&self) -> KeyState {
        self.write().previous = None;
        self.state()
    }

    /// Back to the first key alone (the sandbox's reset).
    pub fn reset(&self) {
        let mut ring = self.write();
        ring.current = self.first.clone();
        ring.position = 0;
        ring.previous = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    #[test]
    fn signs_and_verifies_against_its_jwks() {
        let key = SigningKey::sandbox().unwrap();
        let token = key
            .sign(&json!({"sub":"x","exp": 4_000_000_000i64, "aud":"c"}))
            .unwrap();
        let jwk = &key.jwks()["keys"][0];
        let decoding = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["c"]);
        let data = decode::<Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.claims["sub"], "x");
        assert_eq!(data.header.kid.as_deref(), jwk["kid"].as_str());
    }

    #[test]
    fn rotation_signs_with_a_new_kid_and_keeps_the_old_one_listed_until_dropped() {
        let ring = KeyRing::new(SigningKey::sandbox().unwrap());
        let first = ring.state();
        assert_eq!(first.jwks_kids, vec![first.kid.clone()]);
        let rotated = ring.rotate().unwrap();
        assert_ne!(rotated.kid, first.kid);
        assert_eq!(rotated.jwks_kids, [rotated.kid.clone(), first.kid.clone()]);
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
        let token = ring.sign(&json!({"sub": "x"})).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(rotated.kid.as_str()));
        assert_eq!(ring.drop_previous().jwks_kids, vec![rotated.kid.clone()]);
        let third = ring.rotate().unwrap();
        let back = ring.rotate().unwrap();
        assert_eq!(
            back.kid, first.kid,
            "the rotation cycles through the embedded keys"
        );
        assert_ne!(third.kid, first.kid);
        ring.reset();
        assert_eq!(ring.state(), first);
    }
}
