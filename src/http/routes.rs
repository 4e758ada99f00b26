//! Every path the server answers, named once: the router and the discovery documents both read
//! these, so a document can never advertise a URL the router does not serve.

pub const HOME: &str = "/";
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const STYLESHEET: &str = "/static/site.css";

pub const AUTHORIZE: &str = "/oauth2/authorize";
pub const AUTHORIZE_SYSTEM: &str = "/oauth2/authorize/{system}";
/// What every sign-in page's path starts with, before the attempt id.
pub const LOGIN_PREFIX: &str = "/oauth2/login/";
pub const LOGIN: &str = "/oauth2/login/{attempt}";
pub const LOGIN_CREATE: &str = "/oauth2/login/{attempt}/create";
pub const LOGIN_CREATE_REPRESENTATIVE: &str = "/oauth2/login/{attempt}/representative";
pub const LOGIN_SIGN_IN: &str = "/oauth2/login/{attempt}/signin";
pub const LOGIN_VERIFY: &str = "/oauth2/login/{attempt}/verify";
pub const LOGIN_CONSENT: &str = "/oauth2/login/{attempt}/consent";
pub const TOKEN: &str = "/oauth2/token";
pub const REGISTER: &str = "/oauth2/register";
pub const INTROSPECT: &str = "/oauth2/introspect";
pub const REVOKE: &str = "/oauth2/revoke";
pub const USERINFO: &str = "/oauth2/userinfo";

pub const JWKS: &str = "/.well-known/jwks.json";
pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
pub const OAUTH_AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";
pub const SMART_CONFIGURATION: &str = "/.well-known/smart-configuration";
pub const FHIR_SMART_CONFIGURATION: &str = "/r4/.well-known/smart-configuration";

/// The User-access Brands Bundle of every plan, and each plan's logo (docs/plans.md#brands).
pub const BRANDS: &str = "/brands.json";
pub const BRAND_LOGO: &str = "/brands/{plan}/logo";
pub const BRAND_STYLE: &str = "/brands/{plan}/style.css";

pub const FHIR_BASE: &str = "/r4";
pub const DIRECTORY_BASE: &str = "/directory/r4";
pub const FORMULARY_BASE: &str = "/formulary/r4";

pub const PORTAL: &str = "/portal";
pub const PORTAL_APPS: &str = "/portal/apps";
/// Developer accounts' pages (docs/developer-accounts.md#pages), routed only when accounts are on.
pub const PORTAL_SIGNUP: &str = "/portal/signup";
pub const PORTAL_SIGNUP_VERIFY: &str = "/portal/signup/{signup}";
pub const PORTAL_SIGNIN: &str = "/portal/signin";
pub const PORTAL_SIGNOUT: &str = "/portal/signout";
pub const PORTAL_APP: &str = "/portal/apps/{client_id}";
pub const PORTAL_APP_ROTATE: &str = "/portal/apps/{client_id}/rotate";
pub const PORTAL_APP_DELETE: &str = "/portal/apps/{client_id}/delete";
pub const PORTAL_APP_REQUESTS: &str = "/portal/apps/{client_id}/requests";
pub const PORTAL_REQUESTS: &str = "/portal/requests";
/// Where the session and form cookies are sent: the portal's pages only.
pub const PORTAL_COOKIE_PATH: &str = PORTAL;

pub const SANDBOX_PAGE: &str = "/sandbox";
pub const SANDBOX_ACTIONS: &str = "/sandbox/actions";
pub const SANDBOX_OUTBOX_PAGE: &str = "/sandbox/outbox";
pub const SANDBOX_TIMELINE: &str = "/sandbox/timeline";
pub const SANDBOX_API: &str = "/sandbox/api";

/// The FHIR API's routes, under `FHIR_BASE`.
pub mod fhir {
    pub const METADATA: &str = "/metadata";
    pub const TYPE: &str = "/{type}";
    pub const TYPE_SEARCH: &str = "/{type}/_search";
    pub const INSTANCE: &str = "/{type}/{id}";
    pub const INSTANCE_OPERATION: &str = "/{type}/{id}/{operation}";
    pub const VERSION: &str = "/{type}/{id}/_history/{vid}";
}

/// The control API's routes, under `SANDBOX_API` (docs/sandbox-tools.md).
pub mod control {
    pub const MEMBERS: &str = "/members";
    pub const EXPIRE_GRANTS: &str = "/members/{member_id}/expire-grants";
    pub const REPRESENTATIVES: &str = "/representatives";
    pub const OUTBOX: &str = "/outbox";
    pub const AUTHORIZE: &str = "/authorize";
    pub const CLOCK: &str = "/clock";
    pub const CLOCK_ADVANCE: &str = "/clock/advance";
    pub const CLOCK_RESET: &str = "/clock/reset";
    pub const RESET: &str = "/reset";
    pub const KEYS: &str = "/keys";
    pub const KEYS_ROTATE: &str = "/keys/rotate";
    pub const KEYS_DROP_PREVIOUS: &str = "/keys/drop-previous";
    pub const FAULTS: &str = "/faults";
    pub const FAULT: &str = "/faults/{id}";
    pub const REQUESTS: &str = "/requests";
    pub const REPORT: &str = "/report";
    pub const CHANGES: &str = "/changes";
    pub const PLANS: &str = "/plans";
    pub const PRIOR_AUTH_DECISION: &str = "/prior-authorizations/{id}/decision";
    pub const PRIOR_AUTH_USE: &str = "/prior-authorizations/{id}/use";
}

/// A plan's logo, as the brands Bundle links it.
pub fn brand_logo_path(plan: &str) -> String {
    BRAND_LOGO.replace("{plan}", plan)
}

/// A plan's stylesheet, as its sign-in pages link it.
pub fn brand_style_path(plan: &str) -> String {
    BRAND_STYLE.replace("{plan}", plan)
}

/// One of an app's portal pages (`PORTAL_APP…`).
pub fn portal_app_path(template: &str, client_id: &str) -> String {
    template.replace("{client_id}", client_id)
}

/// A sign-up's verification page.
pub fn portal_signup_path(signup: &str) -> String {
    PORTAL_SIGNUP_VERIFY.replace("{signup}", signup)
}

/// A login page's path for one attempt.
pub fn login_path(template: &str, attempt: &str) -> String {
    template.replace("{attempt}", attempt)
}
