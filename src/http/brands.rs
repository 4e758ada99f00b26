//! `GET /brands.json`, the SMART User-access Brands Bundle of every plan, and
//! `GET /brands/{plan}/logo`, each plan's logo (docs/plans.md#brands). Public, like discovery:
//! no token, any origin, and a weak ETag so apps can cache the Bundle as the spec asks.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::http::fhir::reply;
use crate::http::routes;
use crate::plans::brands::{self, Brand};
use crate::state::AppState;

/// When the embedded network's brands last changed: the Bundle's `timestamp`. The brands change
/// only with the plans, so the time is fixed rather than the moment of the request.
const BRANDS_TIMESTAMP: &str = "2026-11-30T00:00:00Z";

pub async fn bundle(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let plans = state.plans();
    let portal = format!("{}{}", state.public_url, routes::PORTAL);
    let list: Vec<Brand> = plans
        .iter()
        .map(|p| Brand {
            id: &p.plan.id,
            name: &p.plan.name,
            issuer: p.issuer(),
            fhir_base: p.fhir_base(),
            logo_url: format!(
                "{}{}",
                state.public_url,
                routes::brand_logo_path(&p.plan.id)
            ),
            portal_url: &portal,
        })
        .collect();
    let body = brands::bundle(&state.public_url, &list, BRANDS_TIMESTAMP).to_string();
    let digest = Sha256::digest(body.as_bytes());
    let tag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    reply::validated(Bytes::from(body), &tag, None, &headers)
}

/// A plan's sign-in pages' colours. The colour was checked as `#rrggbb` when the plan was
/// loaded, so it is safe in CSS.
pub async fn style(State(state): State<AppState>, Path(plan): Path<String>) -> Response {
    match state.plan_state(&plan) {
        Some(found) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/css")),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
            ],
            format!(
                ":root {{ --brand: {color}; --brand-dark: {color}; }}\n",
                color = found.plan.color
            ),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such plan\n").into_response(),
    }
}

pub async fn logo(State(state): State<AppState>, Path(plan): Path<String>) -> Response {
    match state.plan_state(&plan) {
        Some(found) => {
            let logo = &found.plan.logo;
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(logo.content_type),
                    ),
                    (
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("public, max-age=86400"),
                    ),
                ],
                // Embedded logos are served from the binary's bytes, not copied per request.
                match &logo.bytes {
                    std::borrow::Cow::Borrowed(bytes) => Bytes::from_static(bytes),
                    std::borrow::Cow::Owned(bytes) => Bytes::from(bytes.clone()),
                },
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such plan\n").into_response(),
    }
}
