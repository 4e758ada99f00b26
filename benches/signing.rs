//! The cost of signing one id_token (RS256, 2048-bit): the floor under the login + token-exchange
//! workload. `cargo bench --bench signing`.

use std::time::Instant;

use payer_sandbox::oauth::keys::SigningKey;
use serde_json::json;

fn main() {
    let key = match SigningKey::sandbox() {
        Ok(key) => key,
        Err(e) => {
            eprintln!("signing key: {e}");
            std::process::exit(1);
        }
    };
    let claims = json!({"iss": "http://127.0.0.1:8080", "sub": "jason-argonaut", "aud": "sandbox-app",
        "iat": 1_800_000_000i64, "exp": 1_800_003_600i64, "fhirUser": "http://127.0.0.1:8080/r4/Patient/jason-argonaut"});
    for _ in 0..50 {
        let _ = key.sign(&claims);
    }
    let rounds = 2000;
    let started = Instant::now();
    for _ in 0..rounds {
        if key.sign(&claims).is_err() {
            eprintln!("signing failed");
            std::process::exit(1);
        }
    }
    let per = started.elapsed().as_secs_f64() / f64::from(rounds);
    println!(
        "RS256 id_token signing: {:.3} ms each, {:.0} per second on one core",
        per * 1000.0,
        1.0 / per
    );
}
