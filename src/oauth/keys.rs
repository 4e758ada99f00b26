//! The RS256 key that signs OpenID Connect `id_token`s, and its JWKS (RFC 7517) with an RFC 7638
//! thumbprint as `kid`. The sandbox key is embedded and public on purpose: starting needs no key
//! generation (milliseconds, not seconds), and a sandbox token must never be trusted anywhere else.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SANDBOX_KEY_PEM: &str = include_str!("sandbox-signing-key.pem");

pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwks: Value,
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
        let jwks = json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e
        }]});
        Ok(Self {
            kid,
            encoding,
            jwks,
        })
    }

    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| e.to_string())
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
}
