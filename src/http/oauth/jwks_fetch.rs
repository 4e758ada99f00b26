//! Fetching an app's registered `jwks_uri` for `private_key_jwt` (docs/apps.md#asymmetric-client-authentication):
//! with a short timeout, a size limit, and no redirect to another host, so that a registration
//! cannot make the sandbox wait, fill its memory, or fetch from somewhere the app did not name.
//! Loopback URLs are allowed: a developer's app often serves its keys on localhost.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

/// Whole request, connect to last byte.
const TIMEOUT: Duration = Duration::from_secs(3);
/// A JWK Set of ten keys is a few kilobytes.
const MAX_BYTES: usize = 64 * 1024;
const MAX_REDIRECTS: usize = 3;

fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::custom(|attempt| {
                    let same_host = attempt
                        .previous()
                        .first()
                        .is_some_and(|first| first.host_str() == attempt.url().host_str());
                    if attempt.previous().len() > MAX_REDIRECTS {
                        attempt.error("too many redirects")
                    } else if same_host {
                        attempt.follow()
                    } else {
                        attempt.error("a redirect to another host is not followed")
                    }
                }))
                .user_agent("payer-sandbox (jwks_uri fetch)")
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The JWK Set at `uri`, or why it could not be had (for the `invalid_client` answer).
pub async fn fetch(uri: &str) -> Result<Value, String> {
    let mut response = client()?
        .get(uri)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else if e.is_redirect() {
                "it redirects to another host".to_owned()
            } else {
                "it could not be reached".to_owned()
            }
        })?;
    if !response.status().is_success() {
        return Err(format!("it answered {}", response.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| "its answer broke off".to_owned())?
    {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(format!(
                "its answer is larger than {} KiB",
                MAX_BYTES / 1024
            ));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|_| "its answer is not JSON".to_owned())
}
