//! One log line per answered request on stderr (`--log-format text|json`): method, path, status
//! and duration. The query string and bodies are never logged: they carry codes, secrets and
//! tokens.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

pub async fn log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    tracing::info!(target: "payer_sandbox::access", %method, %path, status, micros, "request");
    response
}
