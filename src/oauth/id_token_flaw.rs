//! Flawed id_tokens for contract tests (docs/sandbox-tools.md#faults): a successful token
//! response whose id_token is well-formed but breaks one rule that OpenID Connect Core §3.1.3.7
//! makes the client check (signature by a listed key, `iss`, `aud`, `nonce`, `exp`, and no
//! `alg: none`). A client that accepts it has a bug; the report names it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::keys::KeyRing;
use crate::clock::UnixTime;

/// A flaw an `id_token` fault puts into an otherwise well-formed id_token of a successful token
/// response, each one a check OpenID Connect Core §3.1.3.7 requires of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdTokenFlaw {
    /// Signed with a key the JWKS does not list.
    WrongKey,
    /// `iss` is not the issuer.
    WrongIss,
    /// `aud` is another client.
    WrongAud,
    /// `nonce` is not the one the authorization request sent.
    WrongNonce,
    /// `exp` an hour in the past (and `iat` before it).
    Expired,
    /// `alg: none`, no signature.
    AlgNone,
}

impl IdTokenFlaw {
    /// The fault's value, as the request log names the flaw.
    pub fn as_str(self) -> &'static str {
        match self {
            IdTokenFlaw::WrongKey => "wrong_key",
            IdTokenFlaw::WrongIss => "wrong_iss",
            IdTokenFlaw::WrongAud => "wrong_aud",
            IdTokenFlaw::WrongNonce => "wrong_nonce",
            IdTokenFlaw::Expired => "expired",
            IdTokenFlaw::AlgNone => "alg_none",
        }
    }
}

/// `id_token` with `flaw` put in, re-signed as the flaw asks; the rest of its claims unchanged.
pub fn flawed(
    keys: &KeyRing,
    id_token: &str,
    flaw: IdTokenFlaw,
    now: UnixTime,
) -> Result<String, String> {
    let payload = id_token
        .split('.')
        .nth(1)
        .ok_or("an id_token has three parts")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| format!("id_token payload: {e}"))?;
    let mut claims: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("id_token payload: {e}"))?;
    let map = claims
        .as_object_mut()
        .ok_or("id_token claims are an object")?;
    match flaw {
        IdTokenFlaw::WrongKey | IdTokenFlaw::AlgNone => {}
        IdTokenFlaw::WrongIss => {
            map.insert("iss".into(), json!("https://not-the-issuer.invalid"));
        }
        IdTokenFlaw::WrongAud => {
            map.insert("aud".into(), json!("another-client"));
        }
        IdTokenFlaw::WrongNonce => {
            map.insert("nonce".into(), json!("not-the-nonce-you-sent"));
        }
        IdTokenFlaw::Expired => {
            // An hour past, far beyond any clock-skew leeway a client allows (often a minute,
            // at most a few).
            map.insert("iat".into(), json!(now.plus(-7200)));
            map.insert("exp".into(), json!(now.plus(-3600)));
        }
    }
    match flaw {
        IdTokenFlaw::WrongKey => keys.sign_unlisted(&claims),
        IdTokenFlaw::AlgNone => {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let payload =
                URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).map_err(|e| e.to_string())?);
            Ok(format!("{header}.{payload}."))
        }
        _ => keys.sign(&claims),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logged_name_is_the_fault_value() {
        for flaw in [
            IdTokenFlaw::WrongKey,
            IdTokenFlaw::WrongIss,
            IdTokenFlaw::WrongAud,
            IdTokenFlaw::WrongNonce,
            IdTokenFlaw::Expired,
            IdTokenFlaw::AlgNone,
        ] {
            assert_eq!(serde_json::to_value(flaw).unwrap(), flaw.as_str());
        }
    }
    use crate::oauth::keys::SigningKey;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

    fn validate(keys: &KeyRing, token: &str) -> Result<Value, String> {
        let header = decode_header(token).map_err(|e| e.to_string())?;
        let jwks = keys.jwks();
        let jwk = jwks["keys"]
            .as_array()
            .and_then(|k| {
                k.iter()
                    .find(|k| k["kid"].as_str() == header.kid.as_deref())
            })
            .ok_or("kid not in the JWKS")?;
        let key = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap_or_default(),
            jwk["e"].as_str().unwrap_or_default(),
        )
        .map_err(|e| e.to_string())?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["app"]);
        validation.set_issuer(&["https://sandbox.test"]);
        decode::<Value>(token, &key, &validation)
            .map(|d| d.claims)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn each_flaw_breaks_exactly_its_rule() {
        let keys = KeyRing::new(SigningKey::sandbox().unwrap());
        // jsonwebtoken compares exp with the wall clock, so the tokens are issued on it.
        let now = crate::clock::Clock::new().now_unix();
        let claims = json!({"iss": "https://sandbox.test", "aud": "app", "sub": "p",
            "iat": now, "exp": now.plus(3600), "nonce": "n"});
        let good = keys.sign(&claims).unwrap();
        assert_eq!(validate(&keys, &good).unwrap()["nonce"], "n");
        for flaw in [
            IdTokenFlaw::WrongKey,
            IdTokenFlaw::WrongIss,
            IdTokenFlaw::WrongAud,
            IdTokenFlaw::Expired,
            IdTokenFlaw::AlgNone,
        ] {
            let bad = flawed(&keys, &good, flaw, now).unwrap();
            assert!(validate(&keys, &bad).is_err(), "{flaw:?} must not validate");
        }
        // A wrong nonce validates as a JWT: only the client's nonce check catches it.
        let bad = flawed(&keys, &good, IdTokenFlaw::WrongNonce, now).unwrap();
        assert_eq!(
            validate(&keys, &bad).unwrap()["nonce"],
            "not-the-nonce-you-sent"
        );
    }
}
