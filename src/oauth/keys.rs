//! The RS256 keys that sign OpenID Connect `id_token`s, and their JWKS (RFC 7517) with an
//! RFC 7638 thumbprint as `kid`. The sandbox keys are embedded and public on purpose: starting
//! needs no key generation (milliseconds, not seconds), and a sandbox token must never be trusted
//! anywhere else. `KeyRing` rotates through them on request (docs/sandbox-tools.md#signing-keys):
//! a new `kid` signs from then on, the JWKS lists the old key beside it until it is dropped, so
//! that a client's JWKS caching can be tested. Where a ring is fits in a `RingPosition`, so that
//! in hosted mode every replica puts its ring where the database says (docs/hosted.md#signing-keys).

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

/// Where a ring is: the position of the key that signs, and of the key it replaced while the
/// JWKS still lists it. Position 0 is the ring's first key (its plan's own); position `p` from 1
/// to `ROTATION.len()` is `ROTATION[p % ROTATION.len()]`. A rotation moves to the next position
/// (the last one wraps to 1, not 0), so a plan that has gone round once signs with the first
/// rotation key, `ROTATION[0]`, as it always has, and reset alone brings back its own key. Small
/// and plain so that hosted mode keeps it in the database (docs/hosted.md#signing-keys) and every
/// replica sets its ring to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RingPosition {
    pub current: usize,
    pub previous: Option<usize>,
}

impl RingPosition {
    /// The highest position.
    pub const LAST: usize = ROTATION.len();

    /// After a rotation: the next key signs, the current one stays listed.
    pub fn rotated(self) -> Self {
        Self {
            current: self.current % Self::LAST + 1,
            previous: Some(self.current),
        }
    }

    /// After the overlap ends: the current key alone.
    pub fn without_previous(self) -> Self {
        Self {
            current: self.current,
            previous: None,
        }
    }

    /// Whether both positions name a key.
    pub fn is_valid(self) -> bool {
        self.current <= Self::LAST && self.previous.is_none_or(|p| p <= Self::LAST)
    }
}

/// The key that signs, and during a rotation's overlap the one it replaced.
struct Ring {
    current: Arc<SigningKey>,
    position: RingPosition,
    previous: Option<Arc<SigningKey>>,
}

/// One plan's signing keys, rotated by the control API.
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
                position: RingPosition::default(),
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

    /// The key at `position` (see `RingPosition`).
    fn key_at(&self, position: usize) -> Result<Arc<SigningKey>, String> {
        match position {
            0 => Ok(self.first.clone()),
            p if p <= RingPosition::LAST => Ok(Arc::new(SigningKey::from_pem(
                ROTATION[p % ROTATION.len()],
            )?)),
            p => Err(format!("no signing key at position {p}")),
        }
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

    /// Where the ring is now.
    pub fn position(&self) -> RingPosition {
        self.read().position
    }

    /// Puts the ring at `to`: how a replica follows a change another made
    /// (docs/hosted.md#signing-keys). The keys it already holds are kept, not parsed again, so
    /// setting the position it is at costs nothing.
    pub fn set(&self, to: RingPosition) -> Result<(), String> {
        if !to.is_valid() {
            return Err(format!("no signing keys at position {to:?}"));
        }
        let (at, current, previous) = {
            let ring = self.read();
            (ring.position, ring.current.clone(), ring.previous.clone())
        };
        if at == to {
            return Ok(());
        }
        // A position always names the same key: one already held can be reused.
        let held = |position: usize| {
            if position == at.current {
                Some(current.clone())
            } else if Some(position) == at.previous {
                previous.clone()
            } else {
                None
            }
        };
        let key = |position: usize| held(position).map_or_else(|| self.key_at(position), Ok);
        let new_current = key(to.current)?;
        let new_previous = to.previous.map(key).transpose()?;
        let mut ring = self.write();
        ring.current = new_current;
        ring.previous = new_previous;
        ring.position = to;
        Ok(())
    }

    /// The next embedded key signs from now on; the current one stays in the JWKS beside it.
    pub fn rotate(&self) -> Result<KeyState, String> {
        {
            // One lock for the read and the write: two rotations at once move two steps.
            let mut ring = self.write();
            let to = ring.position.rotated();
            let next = self.key_at(to.current)?;
            let old = std::mem::replace(&mut ring.current, next);
            ring.previous = Some(old);
            ring.position = to;
        }
        Ok(self.state())
    }

    /// Ends the overlap: the previous key leaves the JWKS (id_tokens it signed stop verifying).
    pub fn drop_previous(&self) -> KeyState {
        {
            let mut ring = self.write();
            ring.previous = None;
            ring.position = ring.position.without_previous();
        }
        self.state()
    }

    /// Back to the first key alone (the sandbox's reset).
    pub fn reset(&self) {
        let mut ring = self.write();
        ring.current = self.first.clone();
        ring.position = RingPosition::default();
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

    #[test]
    fn setting_a_position_gives_the_keys_rotating_there_gives() {
        let rotated = KeyRing::new(SigningKey::for_plan(0).unwrap());
        let follower = KeyRing::new(SigningKey::for_plan(0).unwrap());
        let first = rotated.state();
        let mut positions = vec![rotated.position()];
        for _ in 0..5 {
            rotated.rotate().unwrap();
            positions.push(rotated.position());
            follower.set(rotated.position()).unwrap();
            assert_eq!(follower.state(), rotated.state());
            assert_eq!(follower.jwks(), rotated.jwks());
        }
        let currents: Vec<usize> = positions.iter().map(|p| p.current).collect();
        assert_eq!(
            currents,
            [0, 1, 2, 3, 1, 2],
            "the last position wraps to 1, not 0"
        );
        // A plan that went round signs with the first rotation key, not its own again.
        let sandbox = SigningKey::sandbox().unwrap();
        follower
            .set(RingPosition {
                current: 3,
                previous: None,
            })
            .unwrap();
        assert_eq!(follower.state().kid, sandbox.kid());
        assert_ne!(follower.state().kid, first.kid);
        follower.set(rotated.position().without_previous()).unwrap();
        assert_eq!(rotated.drop_previous(), follower.state());
        // Back to the start: the plan's own key alone.
        follower.set(RingPosition::default()).unwrap();
        assert_eq!(follower.state(), first);
        rotated.reset();
        assert_eq!(rotated.position(), RingPosition::default());
    }

    #[test]
    fn a_position_that_names_no_key_is_refused_and_changes_nothing() {
        let ring = KeyRing::new(SigningKey::sandbox().unwrap());
        ring.rotate().unwrap();
        let before = ring.state();
        for bad in [
            RingPosition {
                current: RingPosition::LAST + 1,
                previous: None,
            },
            RingPosition {
                current: 1,
                previous: Some(usize::MAX),
            },
        ] {
            assert!(!bad.is_valid());
            assert!(ring.set(bad).is_err());
            assert_eq!(ring.state(), before);
        }
    }
}
