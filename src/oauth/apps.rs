//! Registered apps (clients), docs/apps.md: registration rules for redirect URIs (RFC 6749 §3.1.2,
//! RFC 8252 §7.3 for loopback), redirect matching, client authentication with constant-time
//! secret comparison, and the built-in `sandbox-app` / `sandbox-public-app`.

use std::collections::HashMap;
use std::sync::RwLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use super::scopes::GrantedScopes;
use super::secret::Secret;
use crate::ids::ClientId;

use super::random::hex128;

pub const SANDBOX_APP_ID: &str = "sandbox-app";
pub const SANDBOX_APP_SECRET: &str = "sandbox-secret";
pub const SANDBOX_PUBLIC_APP_ID: &str = "sandbox-public-app";
/// The built-in apps' default redirect (docs/sandbox-tools.md#headless-authorize).
pub const SANDBOX_DEFAULT_REDIRECT: &str = "http://localhost/callback";

const MAX_REDIRECT_URIS: usize = 20;
const MAX_NAME_LEN: usize = 200;
const MAX_URI_LEN: usize = 2000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct App {
    pub client_id: ClientId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    pub name: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub public: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "RefreshTokens::is_default")]
    pub refresh_tokens: RefreshTokens,
    /// Public keys for `private_key_jwt` (docs/apps.md#asymmetric-client-authentication): a JWK
    /// Set by value, or where to fetch it. An app with either has no secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Built-in apps accept any loopback `http` redirect and are never persisted.
    #[serde(skip)]
    pub builtin: bool,
}

/// When the token endpoint issues a refresh token (docs/apps.md#refresh-tokens).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RefreshTokens {
    /// With every token response, whatever the scopes: 1upHealth's behaviour.
    #[default]
    Always,
    /// Only when `offline_access` or `online_access` was granted, as SMART App Launch
    /// describes: an app that forgets to ask gets none.
    OfflineAccess,
}

impl RefreshTokens {
    fn is_default(&self) -> bool {
        *self == RefreshTokens::Always
    }

    /// The value as registration metadata and the portal name it.
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshTokens::Always => "always",
            RefreshTokens::OfflineAccess => "offline_access",
        }
    }

    pub fn parse(value: &str) -> Option<RefreshTokens> {
        match value {
            "always" => Some(RefreshTokens::Always),
            "offline_access" => Some(RefreshTokens::OfflineAccess),
            _ => None,
        }
    }
}

/// What a person or a client asks to register.
#[derive(Debug, Clone, Default)]
pub struct NewApp {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub public: bool,
    pub scopes: Option<Vec<String>>,
    pub refresh_tokens: RefreshTokens,
    /// For `private_key_jwt`: a JWK Set by value, or a URL to fetch it from (not both).
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
}

impl App {
    /// Whether the app authenticates with `private_key_jwt` (it registered public keys).
    pub fn is_asymmetric(&self) -> bool {
        self.jwks.is_some() || self.jwks_uri.is_some()
    }

    /// RFC 7591's name for how the app authenticates at the token endpoint.
    pub fn auth_method(&self) -> &'static str {
        if self.is_asymmetric() {
            "private_key_jwt"
        } else if self.public {
            "none"
        } else {
            "client_secret_basic"
        }
    }

    /// Whether a token response for `scopes` carries a refresh token. `--strict` holds every app
    /// to SMART's rule: only with `offline_access` or `online_access`.
    pub fn issues_refresh_token(&self, scopes: &GrantedScopes, strict: bool) -> bool {
        match self.refresh_tokens {
            RefreshTokens::Always if !strict => true,
            RefreshTokens::Always | RefreshTokens::OfflineAccess => {
                scopes.contains("offline_access") || scopes.contains("online_access")
            }
        }
    }

    /// Whether `uri` may receive this app's codes: exact string comparison, except that for a
    /// registered loopback URI any port matches (RFC 8252 §7.3).
    pub fn accepts_redirect(&self, uri: &str) -> bool {
        if self.redirect_uris.iter().any(|r| r == uri) {
            return true;
        }
        let Ok(candidate) = Url::parse(uri) else {
            return false;
        };
        if !is_loopback(&candidate)
            || candidate.scheme() != "http"
            || candidate.fragment().is_some()
        {
            return false;
        }
        if self.builtin {
            return true;
        }
        let without_port = |mut u: Url| {
            let _ = u.set_port(None);
            u.to_string()
        };
        let candidate = without_port(candidate);
        self.redirect_uris
            .iter()
            .filter_map(|r| Url::parse(r).ok())
            .filter(is_loopback)
            .any(|r| without_port(r) == candidate)
    }

    /// The redirect used when a request names none: the app's only one (RFC 6749 §3.1.2.3),
    /// or its first for headless authorize (docs/sandbox-tools.md#headless-authorize).
    pub fn default_redirect(&self) -> Option<&str> {
        if self.builtin {
            return Some(SANDBOX_DEFAULT_REDIRECT);
        }
        self.redirect_uris.first().map(String::as_str)
    }

    /// Client authentication: public apps have no secret to check; a confidential app's secret
    /// is compared in constant time (hashes first, so not even the length leaks).
    pub fn secret_matches(&self, presented: &str) -> bool {
        match &self.client_secret {
            None => false,
            Some(secret) => {
                let a = Sha256::digest(secret.expose().as_bytes());
                let b = Sha256::digest(presented.as_bytes());
                a.ct_eq(&b).into()
            }
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// docs/apps.md#redirect-uris: absolute `http`/`https` URLs without fragments; loopback refused in strict mode.
pub fn check_redirect_uri(uri: &str, strict: bool) -> Result<(), String> {
    if uri.len() > MAX_URI_LEN {
        return Err(format!("redirect URI longer than {MAX_URI_LEN} characters"));
    }
    let url =
        Url::parse(uri).map_err(|_| format!("redirect URI {uri:?} is not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("redirect URI {uri:?} must use http or https"));
    }
    if url.host().is_none() {
        return Err(format!("redirect URI {uri:?} has no host"));
    }
    if url.fragment().is_some() || uri.contains('#') {
        return Err(format!("redirect URI {uri:?} must not contain a fragment"));
    }
    if strict && is_loopback(&url) {
        return Err(format!(
            "redirect URI {uri:?} points at this machine; --strict refuses localhost as production does"
        ));
    }
    Ok(())
}

pub fn builtin_apps() -> [App; 2] {
    [
        App {
            client_id: SANDBOX_APP_ID.into(),
            client_secret: Some(SANDBOX_APP_SECRET.into()),
            name: "Sandbox App".to_owned(),
            redirect_uris: vec![SANDBOX_DEFAULT_REDIRECT.to_owned()],
            public: false,
            scopes: None,
            refresh_tokens: RefreshTokens::Always,
            jwks: None,
            jwks_uri: None,
            builtin: true,
        },
        App {
            client_id: SANDBOX_PUBLIC_APP_ID.into(),
            client_secret: None,
            name: "Sandbox Public App".to_owned(),
            redirect_uris: vec![SANDBOX_DEFAULT_REDIRECT.to_owned()],
            public: true,
            scopes: None,
            refresh_tokens: RefreshTokens::Always,
            jwks: None,
            jwks_uri: None,
            builtin: true,
        },
    ]
}

#[derive(Debug, Default)]
pub struct AppRegistry {
    apps: RwLock<HashMap<ClientId, App>>,
}

impl AppRegistry {
    pub fn new() -> Self {
        let registry = Self::default();
        for app in builtin_apps() {
            registry.insert(app);
        }
        registry
    }

    pub fn get(&self, client_id: &str) -> Option<App> {
        self.read().get(client_id).cloned()
    }

    /// Adds or replaces an app as given (pre-registered or restored from the state directory).
    pub fn insert(&self, app: App) {
        self.write().insert(app.client_id.clone(), app);
    }

    pub fn remove(&self, client_id: &str) {
        self.write().remove(client_id);
    }

    /// Checks a registration and stores it with fresh credentials.
    pub fn register(&self, new: NewApp, strict: bool) -> Result<App, String> {
        let app = validate_new(new, strict)?;
        self.insert(app.clone());
        Ok(app)
    }

    /// Apps that were registered (not built in), oldest name first, for the portal and the state file.
    pub fn registered(&self) -> Vec<App> {
        let mut apps: Vec<App> = self
            .read()
            .values()
            .filter(|a| !a.builtin)
            .cloned()
            .collect();
        apps.sort_by(|a, b| a.name.cmp(&b.name).then(a.client_id.cmp(&b.client_id)));
        apps
    }

    pub fn all(&self) -> Vec<App> {
        let mut apps: Vec<App> = self.read().values().cloned().collect();
        apps.sort_by(|a, b| (!a.builtin, &a.name).cmp(&(!b.builtin, &b.name)));
        apps
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ClientId, App>> {
        self.apps
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ClientId, App>> {
        self.apps
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn validate_new(new: NewApp, strict: bool) -> Result<App, String> {
    let client_id = hex128();
    // RFC 7591 §2: client_name is optional; an app without one is shown by its client_id.
    let name = match new.name.trim() {
        "" => client_id.as_str(),
        name => name,
    };
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("app name longer than {MAX_NAME_LEN} characters"));
    }
    let redirect_uris: Vec<String> = new
        .redirect_uris
        .iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    if redirect_uris.is_empty() {
        return Err("at least one redirect URI is required".to_owned());
    }
    if redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(format!("at most {MAX_REDIRECT_URIS} redirect URIs"));
    }
    for uri in &redirect_uris {
        check_redirect_uri(uri, strict)?;
    }
    check_keys(new.jwks.as_ref(), new.jwks_uri.as_deref())?;
    let asymmetric = new.jwks.is_some() || new.jwks_uri.is_some();
    Ok(App {
        client_id: client_id.clone().into(),
        client_secret: (!new.public && !asymmetric).then(|| hex128().into()),
        name: name.to_owned(),
        redirect_uris,
        public: new.public,
        scopes: new.scopes,
        refresh_tokens: new.refresh_tokens,
        jwks: new.jwks,
        jwks_uri: new.jwks_uri,
        builtin: false,
    })
}

/// Keys for `private_key_jwt`: a usable JWK Set by value, or an absolute `http`/`https`
/// `jwks_uri` (loopback allowed: the sandbox fetches it with a short timeout), never both
/// (RFC 7591 §2).
pub fn check_keys(jwks: Option<&serde_json::Value>, jwks_uri: Option<&str>) -> Result<(), String> {
    match (jwks, jwks_uri) {
        (Some(_), Some(_)) => {
            Err("jwks and jwks_uri must not both be given (RFC 7591 §2)".to_owned())
        }
        (Some(jwks), None) => super::client_assertion::check_jwks(jwks).map(|_| ()),
        (None, Some(uri)) => {
            if uri.len() > MAX_URI_LEN {
                return Err(format!("jwks_uri longer than {MAX_URI_LEN} characters"));
            }
            let url =
                Url::parse(uri).map_err(|_| format!("jwks_uri {uri:?} is not an absolute URL"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(format!("jwks_uri {uri:?} must be an http or https URL"));
            }
            Ok(())
        }
        (None, None) => Ok(()),
    }
}

/// Splits the portal's comma-separated redirect list (docs/apps.md#registration).
pub fn split_redirect_list(list: &str) -> Vec<String> {
    list.split([',', '\n'])
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(uris: &[&str]) -> App {
        validate_new(
            NewApp {
                name: "A".into(),
                redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
            false,
        )
        .unwrap()
    }

    #[test]
    fn exact_matching_no_prefix() {
        let a = app(&["https://app.example/cb"]);
        assert!(a.accepts_redirect("https://app.example/cb"));
        assert!(!a.accepts_redirect("https://app.example/cb/../evil"));
        assert!(!a.accepts_redirect("https://app.example/cb?x=1"));
        assert!(!a.accepts_redirect("https://app.example/c"));
        assert!(!a.accepts_redirect("https://APP.example/cb"));
    }

    #[test]
    fn loopback_any_port() {
        let a = app(&["http://127.0.0.1/cb"]);
        assert!(a.accepts_redirect("http://127.0.0.1:53211/cb"));
        assert!(!a.accepts_redirect("http://127.0.0.1:53211/other"));
        assert!(!a.accepts_redirect("http://localhost:53211/cb"));
    }

    #[test]
    fn builtin_accepts_any_loopback_http() {
        let [sandbox, _] = builtin_apps();
        assert!(sandbox.accepts_redirect("http://localhost:3000/anything"));
        assert!(sandbox.accepts_redirect("http://127.0.0.1/cb"));
        assert!(!sandbox.accepts_redirect("https://evil.example/cb"));
        assert!(!sandbox.accepts_redirect("http://localhost.evil.example/cb"));
    }

    #[test]
    fn registration_rules() {
        assert!(check_redirect_uri("http://redirect1/callback", false).is_ok());
        assert!(check_redirect_uri("myapp://cb", false).is_err());
        assert!(check_redirect_uri("/relative", false).is_err());
        assert!(check_redirect_uri("https://a.example/cb#frag", false).is_err());
        assert!(check_redirect_uri("http://localhost/cb", true).is_err());
        assert!(check_redirect_uri("http://localhost/cb", false).is_ok());
    }

    #[test]
    fn secrets_compare() {
        let a = app(&["https://a.example/cb"]);
        let secret = a.client_secret.clone().unwrap();
        assert!(a.secret_matches(secret.expose()));
        assert!(!a.secret_matches(&secret.expose()[1..]));
        let public = validate_new(
            NewApp {
                name: "P".into(),
                redirect_uris: vec!["https://a.example/cb".into()],
                public: true,
                ..Default::default()
            },
            false,
        )
        .unwrap();
        assert!(public.client_secret.is_none());
        assert!(!public.secret_matches(""));
    }

    #[test]
    fn comma_list() {
        assert_eq!(
            split_redirect_list("http://redirect1/callback, http://redirect2/callback,"),
            vec!["http://redirect1/callback", "http://redirect2/callback"]
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn accepted_redirects_are_absolute_http_without_fragment(uri in "(https?|ftp|javascript)://[a-z0-9.:@\\[\\]-]{0,20}(/[ -~]{0,20})?") {
            if check_redirect_uri(&uri, false).is_ok() {
                let url = Url::parse(&uri).unwrap();
                prop_assert!(matches!(url.scheme(), "http" | "https"));
                prop_assert!(url.fragment().is_none() && !uri.contains('#'));
                prop_assert!(url.host().is_some());
            }
        }

        #[test]
        fn only_the_registered_uri_or_its_loopback_port_variants_match(candidate in "[ -~]{0,40}") {
            let app = App {
                client_id: "c".into(),
                client_secret: None,
                name: "n".into(),
                redirect_uris: vec!["https://app.example/cb".into()],
                public: true,
                scopes: None,
                refresh_tokens: RefreshTokens::Always,
                jwks: None,
                jwks_uri: None,
                builtin: false,
            };
            prop_assert_eq!(app.accepts_redirect(&candidate), candidate == "https://app.example/cb");
        }

        #[test]
        fn secrets_match_only_themselves(secret in "[ -~]{1,40}", presented in "[ -~]{0,40}") {
            let app = App {
                client_id: "c".into(),
                client_secret: Some(secret.clone().into()),
                name: "n".into(),
                redirect_uris: vec![],
                public: false,
                scopes: None,
                refresh_tokens: RefreshTokens::Always,
                jwks: None,
                jwks_uri: None,
                builtin: false,
            };
            prop_assert_eq!(app.secret_matches(&presented), presented == secret);
        }
    }
}
