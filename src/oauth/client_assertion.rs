//! Asymmetric client authentication (docs/apps.md#asymmetric-client-authentication): SMART App
//! Launch `client-confidential-asymmetric`, which is RFC 7523 §2.2 `private_key_jwt` with
//! SMART's rules. The app registers public keys (a JWKS by value, or a `jwks_uri`) and proves
//! itself at the token endpoint with a JWT it signed: RS384 or ES384, `kid` naming one of its
//! keys, `iss` = `sub` = its `client_id`, `aud` = the token endpoint, `exp` at most five minutes
//! ahead, and a `jti` never seen before within its lifetime. Each failed rule is named in the
//! `invalid_client` answer.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::clock::UnixTime;

/// RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// SMART App Launch: `exp` no more than five minutes in the future.
pub const MAX_LIFETIME_SECS: i64 = 300;
/// How far a client's clock may run ahead of the server's for `iat`.
const CLOCK_SKEW_SECS: i64 = 60;
/// Registered keys, by value or fetched: more than this many is refused.
pub const MAX_KEYS: usize = 10;
/// Remembered `jti`s (each until its assertion expires).
const MAX_REMEMBERED: usize = 100_000;

/// The algorithms SMART App Launch requires servers to accept.
const ALGORITHMS: [Algorithm; 2] = [Algorithm::RS384, Algorithm::ES384];

/// The claims an assertion must carry, read without trusting them yet.
#[derive(Debug, serde::Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
    jti: Option<String>,
}

/// The `iss` of an assertion, unverified: which app's keys to check it with.
pub fn claimed_client(assertion: &str) -> Result<String, String> {
    let payload = assertion
        .split('.')
        .nth(1)
        .ok_or("client_assertion is not a JWT (three base64url parts)")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| "client_assertion's payload is not base64url")?;
    let claims: Claims = serde_json::from_slice(&bytes)
        .map_err(|_| "client_assertion's payload is not a JSON object of claims")?;
    claims
        .iss
        .filter(|i| !i.is_empty())
        .ok_or_else(|| "client_assertion has no iss (the client_id)".to_owned())
}

/// A registered JWKS, checked: a JSON object with 1 to `MAX_KEYS` keys that the verifier can
/// use, each with a `kid` (at registration, where every key is tried once).
pub fn check_jwks(jwks: &Value) -> Result<JwkSet, String> {
    let set = key_set(jwks)?;
    for key in &set.keys {
        DecodingKey::from_jwk(key).map_err(|e| format!("jwks key is not usable: {e}"))?;
    }
    Ok(set)
}

/// The JWK Set's shape: 1 to `MAX_KEYS` RSA or EC keys, each with a `kid`. What verifying an
/// assertion needs of a set (only the named key is then made usable).
fn key_set(jwks: &Value) -> Result<JwkSet, String> {
    let set: JwkSet = serde_json::from_value(jwks.clone())
        .map_err(|e| format!("jwks is not a JWK Set of RSA or EC public keys: {e}"))?;
    if set.keys.is_empty() {
        return Err("jwks has no keys".to_owned());
    }
    if set.keys.len() > MAX_KEYS {
        return Err(format!("jwks has more than {MAX_KEYS} keys"));
    }
    if let Some(key) = set.keys.iter().find(|k| k.common.key_id.is_none()) {
        return Err(format!(
            "every key in jwks needs a kid (one of type {:?} has none)",
            key.common.key_algorithm
        ));
    }
    Ok(set)
}

/// The `jti`s seen, so that a replayed assertion is refused within its lifetime.
#[derive(Debug, Default)]
pub struct SeenAssertions {
    jtis: Mutex<HashMap<(String, String), UnixTime>>,
}

impl SeenAssertions {
    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), UnixTime>> {
        self.jtis.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records `jti` for `client_id` until `expires`; false when it was already there.
    fn first_use(&self, client_id: &str, jti: &str, expires: UnixTime, now: UnixTime) -> bool {
        let mut jtis = self.lock();
        if jtis.len() >= MAX_REMEMBERED {
            jtis.retain(|_, exp| *exp > now);
        }
        let key = (client_id.to_owned(), jti.to_owned());
        match jtis.get(&key) {
            Some(exp) if *exp > now => false,
            _ => {
                jtis.insert(key, expires);
                true
            }
        }
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}

/// What an assertion is checked against.
pub struct Expected<'a> {
    pub client_id: &'a str,
    /// The token endpoint's absolute URL: the only `aud` accepted.
    pub audience: &'a str,
    /// The real time the client signed by (the sandbox clock without its advance).
    pub now: UnixTime,
}

/// Verifies `assertion` with the app's `jwks`: signature, algorithm, `kid`, `iss`, `sub`, `aud`,
/// `exp`, `iat` and `jti` (once). The error names the rule that failed.
pub fn verify(
    assertion: &str,
    jwks: &Value,
    expected: &Expected<'_>,
    seen: &SeenAssertions,
) -> Result<(), String> {
    let header_part = assertion
        .split('.')
        .next()
        .ok_or("client_assertion is not a JWT")?;
    let header: Value = URL_SAFE_NO_PAD
        .decode(header_part)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("client_assertion's header is not base64url JSON")?;
    let alg = header["alg"].as_str().unwrap_or("");
    let algorithm = ALGORITHMS
        .into_iter()
        .find(|a| format!("{a:?}") == alg)
        .ok_or_else(|| {
            format!("client_assertion alg {alg:?} is not accepted: sign with RS384 or ES384")
        })?;
    let kid = header["kid"]
        .as_str()
        .ok_or("client_assertion's header has no kid naming the registered key")?;
    let set = key_set(jwks)?;
    let jwk: &Jwk = set
        .find(kid)
        .ok_or_else(|| format!("no registered key has kid {kid:?}"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("registered key {kid:?}: {e}"))?;
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[expected.audience]);
    validation.set_issuer(&[expected.client_id]);
    // Times are checked below against the sandbox's reading of real time, not the system's.
    validation.validate_exp = false;
    validation.required_spec_claims = ["iss", "aud"].into_iter().map(String::from).collect();
    let data = jsonwebtoken::decode::<Value>(assertion, &key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::InvalidSignature => {
                format!("client_assertion's signature does not verify with key {kid:?}")
            }
            ErrorKind::InvalidAudience => format!(
                "client_assertion aud must be the token endpoint, {}",
                expected.audience
            ),
            ErrorKind::InvalidIssuer => "client_assertion iss must be the client_id".to_owned(),
            ErrorKind::InvalidAlgorithm => {
                format!("client_assertion alg {alg} does not fit key {kid:?}")
            }
            ErrorKind::MissingRequiredClaim(claim) => {
                format!("client_assertion has no {claim}")
            }
            _ => format!("client_assertion is not valid: {e}"),
        }
    })?;
    let claims: Claims = serde_json::from_value(data.claims)
        .map_err(|_| "client_assertion's claims have the wrong types")?;
    if claims.sub.as_deref() != Some(expected.client_id) {
        return Err("client_assertion sub must be the client_id".to_owned());
    }
    let now = expected.now.seconds();
    let exp = claims.exp.ok_or("client_assertion has no exp")?;
    if exp <= now {
        return Err(format!(
            "client_assertion expired {} s ago (exp {exp})",
            now - exp
        ));
    }
    if exp > now + MAX_LIFETIME_SECS + CLOCK_SKEW_SECS {
        return Err(format!(
            "client_assertion exp is more than {MAX_LIFETIME_SECS} s ahead (SMART App Launch)"
        ));
    }
    if claims.iat.is_some_and(|iat| iat > now + CLOCK_SKEW_SECS) {
        return Err("client_assertion iat is in the future".to_owned());
    }
    let jti = claims
        .jti
        .filter(|j| !j.is_empty())
        .ok_or("client_assertion has no jti")?;
    if !seen.first_use(
        expected.client_id,
        &jti,
        UnixTime::from_seconds(exp),
        expected.now,
    ) {
        return Err(
            "client_assertion jti was already used: make a new assertion for each request"
                .to_owned(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const RS384_PEM: &str = include_str!("../../tests/fixtures/client-rs384.pem");
    const ES384_PEM: &str = include_str!("../../tests/fixtures/client-es384.pem");
    const JWKS: &str = include_str!("../../tests/fixtures/client-jwks.json");
    const AUD: &str = "http://sandbox.test/oauth2/token";
    const NOW: i64 = 1_900_000_000;

    fn jwks() -> Value {
        serde_json::from_str(JWKS).unwrap()
    }

    fn sign(alg: Algorithm, kid: &str, claims: Value) -> String {
        let key = match alg {
            Algorithm::ES384 => EncodingKey::from_ec_pem(ES384_PEM.as_bytes()).unwrap(),
            _ => EncodingKey::from_rsa_pem(RS384_PEM.as_bytes()).unwrap(),
        };
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    fn claims(jti: &str) -> Value {
        json!({"iss": "app", "sub": "app", "aud": AUD, "exp": NOW + 240, "iat": NOW, "jti": jti})
    }

    fn check(assertion: &str, seen: &SeenAssertions) -> Result<(), String> {
        let expected = Expected {
            client_id: "app",
            audience: AUD,
            now: UnixTime::from_seconds(NOW),
        };
        verify(assertion, &jwks(), &expected, seen)
    }

    #[test]
    fn rs384_and_es384_assertions_verify_once() {
        let seen = SeenAssertions::default();
        let rs = sign(Algorithm::RS384, "test-rs384", claims("a"));
        assert_eq!(claimed_client(&rs).unwrap(), "app");
        assert_eq!(check(&rs, &seen), Ok(()));
        let replay = check(&rs, &seen).unwrap_err();
        assert!(replay.contains("jti was already used"), "{replay}");
        let es = sign(Algorithm::ES384, "test-es384", claims("b"));
        assert_eq!(check(&es, &seen), Ok(()));
    }

    #[test]
    fn each_broken_rule_is_named() {
        let seen = SeenAssertions::default();
        let with = |patch: Value| {
            let mut c = claims(&format!("j-{patch}"));
            for (k, v) in patch.as_object().unwrap() {
                if v.is_null() {
                    c.as_object_mut().unwrap().remove(k);
                } else {
                    c[k] = v.clone();
                }
            }
            sign(Algorithm::RS384, "test-rs384", c)
        };
        for (patch, expected) in [
            (
                json!({"aud": "http://elsewhere/token"}),
                "aud must be the token endpoint",
            ),
            (json!({"iss": "other"}), "iss must be the client_id"),
            (json!({"sub": "other"}), "sub must be the client_id"),
            (json!({"exp": NOW - 5}), "expired"),
            (json!({"exp": NOW + 3600}), "more than 300 s ahead"),
            (json!({"iat": NOW + 600}), "iat is in the future"),
            (json!({"jti": null}), "no jti"),
            (json!({"exp": null}), "no exp"),
        ] {
            let problem = check(&with(patch.clone()), &seen).unwrap_err();
            assert!(problem.contains(expected), "{patch}: {problem}");
        }
        let unknown_kid = sign(Algorithm::RS384, "nope", claims("k"));
        assert!(
            check(&unknown_kid, &seen)
                .unwrap_err()
                .contains("no registered key")
        );
        let rs256 = sign(Algorithm::RS256, "test-rs384", claims("r"));
        assert!(check(&rs256, &seen).unwrap_err().contains("RS384 or ES384"));
        // alg none: a header the library would not even sign.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"test-rs384"}"#),
            URL_SAFE_NO_PAD.encode(claims("n").to_string())
        );
        assert!(
            check(&none, &seen)
                .unwrap_err()
                .contains("\"none\" is not accepted")
        );
        // Signed by the EC key but claiming the RSA key's kid.
        let mismatched = sign(Algorithm::ES384, "test-rs384", claims("m"));
        assert!(check(&mismatched, &seen).is_err());
        for garbage in ["", "a.b", "!!!.???.***"] {
            assert!(check(garbage, &seen).is_err(), "{garbage:?}");
            assert!(claimed_client(garbage).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn registered_key_sets_are_checked() {
        assert!(check_jwks(&jwks()).is_ok());
        assert!(check_jwks(&json!({"keys": []})).is_err());
        assert!(check_jwks(&json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]})).is_err());
        assert!(check_jwks(&json!("not a set")).is_err());
        let many: Vec<Value> = (0..11)
            .map(|i| {
                let mut k = jwks()["keys"][0].clone();
                k["kid"] = json!(format!("k{i}"));
                k
            })
            .collect();
        assert!(check_jwks(&json!({ "keys": many })).is_err());
    }
}
