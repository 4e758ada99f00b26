//! HTML pages: askama templates (auto-escaping every value) rendered into responses that carry
//! the headers every page needs (docs/endpoints.md#page-security): no framing, a restrictive CSP, no caching.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `default-src 'none'`: pages load only our stylesheet; no script runs, no page frames them.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/// What a plan's sign-in pages show of it (docs/plans.md#branding): its name, colour and logo.
#[derive(Debug, Clone, Default)]
pub struct PlanBrand {
    pub name: String,
    pub color: String,
    pub logo: String,
    /// The plan's stylesheet (its colour): a file, as the pages' CSP (`style-src 'self'`) allows.
    pub style: String,
    /// The default plan's pages keep the site's own header.
    pub default: bool,
}

impl PlanBrand {
    pub fn of(state: &crate::state::AppState) -> Self {
        Self {
            name: state.plan.name.clone(),
            color: state.plan.color.clone(),
            logo: crate::http::routes::brand_logo_path(&state.plan.id),
            style: crate::http::routes::brand_style_path(&state.plan.id),
            default: state.plan.is_default(),
        }
    }
}

/// What the landing and sandbox pages show of a plan besides the default (docs/plans.md).
pub struct OtherPlan {
    pub id: String,
    pub name: String,
    pub fhir_base: String,
    pub authorize: String,
    pub smart_configuration: String,
    pub logo: String,
    pub members: Vec<crate::data::Member>,
}

impl OtherPlan {
    pub fn all(state: &crate::state::AppState) -> Vec<OtherPlan> {
        use crate::http::routes;
        state
            .plans()
            .iter()
            .filter(|p| !p.plan.is_default())
            .map(|p| OtherPlan {
                id: p.plan.id.to_string(),
                name: p.plan.name.clone(),
                fhir_base: p.fhir_base().to_owned(),
                authorize: p.authorize_url(),
                smart_configuration: p.plan_url(routes::SMART_CONFIGURATION),
                logo: routes::brand_logo_path(&p.plan.id),
                members: p.members.all().to_vec(),
            })
            .collect()
    }
}

pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => page(status, html),
        Err(e) => {
            tracing::error!("rendering a page failed: {e}");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>Error</title><p>The page could not be shown.</p>".to_owned(),
            )
        }
    }
}

fn page(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: String,
    pub detail: String,
    pub restart: Option<String>,
}

pub fn error_page(
    status: StatusCode,
    title: &str,
    detail: &str,
    restart: Option<String>,
) -> Response {
    render(
        status,
        &ErrorPage {
            title: title.to_owned(),
            detail: detail.to_owned(),
            restart,
        },
    )
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/site.css"),
    )
        .into_response()
}
