//! Registered apps (clients), docs/apps.md: registration rules for redirect URIs (RFC 6749 §3.1.2,
//! RFC 8252 §7.3 for loopback), redirect matching, client authentication with constant-time
//! secret comparison, and the built-in `sandbox-app` / `sandbox-public-app`. With developer
//! accounts (docs/developer-accounts.md) an app records its owner, who alone may edit it, rotate
//! its secret (the previous one works for an overlap) or delete it.

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
use crate::clock::UnixTime;
use crate::ids::DeveloperId;

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
    /// The developer account that registered it in the portal (docs/developer-accounts.md#apps);
    /// apps registered otherwise have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<DeveloperId>,
    /// The secret a rotation replaced, accepted until `previous_secret_until`
    /// (docs/developer-accounts.md#rotating-a-client-secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_until: Option<UnixTime>,
}

/// How long a rotated-away client secret keeps working, on the sandbox clock: a day, time to
/// deploy the new one (docs/developer-accounts.md#rotating-a-client-secret).
pub const SECRET_OVERLAP_SECS: i64 = 24 * 3600;

/// What the owner may change of a registered app (docs/developer-accounts.md#apps).
#[derive(Debug, Clone, Default)]
pub struct AppEdit {
    pub name: String,
    pub redirect_uris: Vec<String>,
}

/// Why an owner's change of an app was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppChangeError {
    /// No such app, or another owner's: the two are answered alike, so that an app's existence
    /// is never revealed to anyone but its owner.
    #[error("no such app")]
    NotFound,
    /// The change breaks a registration rule (the message says which).
    #[error("{0}")]
    Invalid(String),
    /// A public or asymmetric app has no client secret to rotate.
    #[error("this app has no client secret: it is public or authenticates with private_key_jwt")]
    NoSecret,
    /// The change could not be saved, so it was not made (the server log says why).
    #[error("could not save the change (the server log says why)")]
    Unsaved,
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
    /// The developer registering it in the portal, when accounts are on.
    pub owner: Option<DeveloperId>,
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
    /// is compared in constant time (hashes first, so not even the length leaks). Until
    /// `previous_secret_until` (sandbox clock) the secret a rotation replaced matches too; both
    /// are always compared, so the time taken does not tell which matched.
    pub fn secret_matches(&self, presented: &str, now: UnixTime) -> bool {
        let presented = Sha256::digest(presented.as_bytes());
        let matches = |secret: &Secret| -> bool {
            Sha256::digest(secret.expose().as_bytes())
                .ct_eq(&presented)
                .into()
        };
        let current = self.client_secret.as_ref().is_some_and(matches);
        let previous = self.previous_secret.as_ref().is_some_and(matches)
            && self.previous_secret_until.is_some_and(|until| now < until);
        current | previous
    }

    /// Whether `owner` registered it (docs/developer-accounts.md#apps).
    pub fn is_owned_by(&self, owner: &DeveloperId) -> bool {
        self.owner.as_ref() == Some(owner)
    }

    /// `owner` renames the app or changes its redirect URIs, under the registration rules
    /// (docs/developer-accounts.md#apps); another's app is not found, exactly like a missing
    /// one. Nothing changes unless every rule passes.
    pub fn edit(
        &mut self,
        owner: &DeveloperId,
        edit: AppEdit,
        strict: bool,
    ) -> Result<(), AppChangeError> {
        if !self.is_owned_by(owner) {
            return Err(AppChangeError::NotFound);
        }
        let name = check_name(&edit.name, &self.client_id).map_err(AppChangeError::Invalid)?;
        let redirect_uris =
            check_redirect_list(&edit.redirect_uris, strict).map_err(AppChangeError::Invalid)?;
        self.name = name;
        self.redirect_uris = redirect_uris;
        Ok(())
    }

    /// `owner` rotates the client secret (docs/developer-accounts.md#rotating-a-client-secret):
    /// a new one, while the current one keeps working for `SECRET_OVERLAP_SECS` after `now`. A
    /// secret replaced before (still in its overlap) stops at once: only the two newest ever
    /// work.
    pub fn rotate_secret(
        &mut self,
        owner: &DeveloperId,
        now: UnixTime,
    ) -> Result<(), AppChangeError> {
        if !self.is_owned_by(owner) {
            return Err(AppChangeError::NotFound);
        }
        let current = self.client_secret.take().ok_or(AppChangeError::NoSecret)?;
        self.previous_secret = Some(current);
        self.previous_secret_until = Some(now.plus(SECRET_OVERLAP_SECS));
        self.client_secret = Some(hex128().into());
        Ok(())
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
            owner: None,
            previous_secret: None,
            previous_secret_until: None,
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
            owner: None,
            previous_secret: None,
            previous_secret_until: None,
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

    /// The apps `owner` registered, by name (docs/developer-accounts.md#apps).
    pub fn owned_by(&self, owner: &DeveloperId) -> Vec<App> {
        let mut apps: Vec<App> = self
            .read()
            .values()
            .filter(|a| a.is_owned_by(owner))
            .cloned()
            .collect();
        apps.sort_by(|a, b| a.name.cmp(&b.name).then(a.client_id.cmp(&b.client_id)));
        apps
    }

    /// One app, if `owner` registered it: another's is not found, exactly like a missing one.
    pub fn owned(&self, client_id: &str, owner: &DeveloperId) -> Result<App, AppChangeError> {
        self.get(client_id)
            .filter(|a| a.is_owned_by(owner))
            .ok_or(AppChangeError::NotFound)
    }

    /// The owner renames an app or changes its redirect URIs (`App::edit`). Returns the app
    /// as it was (to put back if the change cannot be saved) and as it is.
    pub fn edit(
        &self,
        client_id: &str,
        owner: &DeveloperId,
        edit: AppEdit,
        strict: bool,
    ) -> Result<(App, App), AppChangeError> {
        self.change(client_id, |app| app.edit(owner, edit, strict))
    }

    /// The owner rotates an app's client secret (`App::rotate_secret`). Returns the app before
    /// and after.
    pub fn rotate_secret(
        &self,
        client_id: &str,
        owner: &DeveloperId,
        now: UnixTime,
    ) -> Result<(App, App), AppChangeError> {
        self.change(client_id, |app| app.rotate_secret(owner, now))
    }

    /// Runs an owner's change on an app: the app before and after, or nothing changed.
    fn change(
        &self,
        client_id: &str,
        change: impl FnOnce(&mut App) -> Result<(), AppChangeError>,
    ) -> Result<(App, App), AppChangeError> {
        let mut apps = self.write();
        let app = apps.get_mut(client_id).ok_or(AppChangeError::NotFound)?;
        let mut changed = app.clone();
        change(&mut changed)?;
        let before = std::mem::replace(app, changed.clone());
        Ok((before, changed))
    }

    /// The owner deletes an app: it is gone, and returned (to put back if the deletion cannot
    /// be saved). The caller revokes its tokens.
    pub fn delete(&self, client_id: &str, owner: &DeveloperId) -> Result<App, AppChangeError> {
        let mut apps = self.write();
        if !apps.get(client_id).is_some_and(|a| a.is_owned_by(owner)) {
            return Err(AppChangeError::NotFound);
        }
        apps.remove(client_id).ok_or(AppChangeError::NotFound)
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

/// docs/apps.md#registration: 1 to 200 characters after trimming; empty names the app by its
/// `client_id` (RFC 7591 §2: `client_name` is optional).
fn check_name(name: &str, client_id: &str) -> Result<String, String> {
    let name = match name.trim() {
        "" => client_id,
        name => name,
    };
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("app name longer than {MAX_NAME_LEN} characters"));
    }
    Ok(name.to_owned())
}

/// docs/apps.md#registration: 1 to 20 redirect URIs, each valid (blank entries ignored).
fn check_redirect_list(uris: &[String], strict: bool) -> Result<Vec<String>, String> {
    let redirect_uris: Vec<String> = uris
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
    Ok(redirect_uris)
}

fn validate_new(new: NewApp, strict: bool) -> Result<App, String> {
    let client_id = hex128();
    let name = check_name(&new.name, &client_id)?;
    let redirect_uris = check_redirect_list(&new.redirect_uris, strict)?;
    check_keys(new.jwks.as_ref(), new.jwks_uri.as_deref())?;
    let asymmetric = new.jwks.is_some() || new.jwks_uri.is_some();
    Ok(App {
        client_id: client_id.clone().into(),
        client_secret: (!new.public && !asymmetric).then(|| hex128().into()),
        name,
        redirect_uris,
        public: new.public,
        scopes: new.scopes,
        refresh_tokens: new.refresh_tokens,
        jwks: new.jwks,
        jwks_uri: new.jwks_uri,
        builtin: false,
        owner: new.owner,
        previous_secret: None,
        previous_secret_until: None,
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

    fn t(seconds: i64) -> UnixTime {
        UnixTime::from_seconds(seconds)
    }

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
        assert!(a.secret_matches(secret.expose(), t(0)));
        assert!(!a.secret_matches(&secret.expose()[1..], t(0)));
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
        assert!(!public.secret_matches("", t(0)));
    }

    fn owned_app(registry: &AppRegistry, owner: &str) -> App {
        registry
            .register(
                NewApp {
                    name: "Mine".into(),
                    redirect_uris: vec!["https://a.example/cb".into()],
                    owner: Some(owner.into()),
                    ..Default::default()
                },
                false,
            )
            .unwrap()
    }

    #[test]
    fn only_the_owner_reaches_an_app_and_another_owners_is_not_found() {
        let registry = AppRegistry::new();
        let mine = owned_app(&registry, "dev-a");
        let a: DeveloperId = "dev-a".into();
        let b: DeveloperId = "dev-b".into();
        assert_eq!(registry.owned_by(&a).len(), 1);
        assert!(registry.owned_by(&b).is_empty());
        assert_eq!(
            registry.owned(&mine.client_id, &b),
            Err(AppChangeError::NotFound)
        );
        assert_eq!(registry.owned("nope", &a), Err(AppChangeError::NotFound));
        assert_eq!(
            registry.rotate_secret(&mine.client_id, &b, t(0)).err(),
            Some(AppChangeError::NotFound)
        );
        assert_eq!(
            registry.delete(&mine.client_id, &b),
            Err(AppChangeError::NotFound)
        );
        assert_eq!(
            registry.delete(SANDBOX_APP_ID, &a),
            Err(AppChangeError::NotFound),
            "built-in apps have no owner"
        );
        let edit = AppEdit {
            name: " Renamed ".into(),
            redirect_uris: vec!["https://b.example/cb".into()],
        };
        assert!(
            registry
                .edit(&mine.client_id, &b, edit.clone(), false)
                .is_err()
        );
        let (before, after) = registry.edit(&mine.client_id, &a, edit, false).unwrap();
        assert_eq!(before.name, "Mine");
        assert_eq!(after.name, "Renamed");
        assert_eq!(after.redirect_uris, vec!["https://b.example/cb"]);
        let bad = AppEdit {
            name: "x".into(),
            redirect_uris: vec!["ftp://b.example/cb".into()],
        };
        assert!(matches!(
            registry.edit(&mine.client_id, &a, bad, false),
            Err(AppChangeError::Invalid(_))
        ));
        assert_eq!(registry.get(&mine.client_id).unwrap().name, "Renamed");
        assert!(registry.delete(&mine.client_id, &a).is_ok());
        assert!(registry.get(&mine.client_id).is_none());
    }

    #[test]
    fn a_rotated_secret_works_for_the_overlap_and_only_the_two_newest_work() {
        let registry = AppRegistry::new();
        let app = owned_app(&registry, "dev");
        let owner: DeveloperId = "dev".into();
        let first = app.client_secret.clone().unwrap();
        let (_, rotated) = registry
            .rotate_secret(&app.client_id, &owner, t(100))
            .unwrap();
        let second = rotated.client_secret.clone().unwrap();
        assert_ne!(first, second);
        let until = 100 + SECRET_OVERLAP_SECS;
        assert!(rotated.secret_matches(first.expose(), t(until - 1)));
        assert!(rotated.secret_matches(second.expose(), t(until - 1)));
        assert!(!rotated.secret_matches(first.expose(), t(until)));
        assert!(rotated.secret_matches(second.expose(), t(until)));
        let (_, again) = registry
            .rotate_secret(&app.client_id, &owner, t(200))
            .unwrap();
        assert!(
            !again.secret_matches(first.expose(), t(201)),
            "the oldest stops at once"
        );
        assert!(again.secret_matches(second.expose(), t(201)));
        let public = registry
            .register(
                NewApp {
                    name: "P".into(),
                    redirect_uris: vec!["https://a.example/cb".into()],
                    public: true,
                    owner: Some(owner.clone()),
                    ..Default::default()
                },
                false,
            )
            .unwrap();
        assert_eq!(
            registry
                .rotate_secret(&public.client_id, &owner, t(0))
                .err(),
            Some(AppChangeError::NoSecret)
        );
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
                owner: None,
                previous_secret: None,
                previous_secret_until: None,
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
                owner: None,
                previous_secret: None,
                previous_secret_until: None,
            };
            let now = UnixTime::from_seconds(0);
            prop_assert_eq!(app.secret_matches(&presented, now), presented == secret);
        }

        #[test]
        fn a_rotated_away_secret_matches_only_before_its_overlap_ends(
            current in "[a-f0-9]{1,8}",
            previous in "[a-f0-9]{1,8}",
            presented in "[a-f0-9]{1,8}",
            until in 0i64..100,
            now in 0i64..100,
        ) {
            let app = App {
                client_id: "c".into(),
                client_secret: Some(current.clone().into()),
                name: "n".into(),
                redirect_uris: vec![],
                public: false,
                scopes: None,
                refresh_tokens: RefreshTokens::Always,
                jwks: None,
                jwks_uri: None,
                builtin: false,
                owner: None,
                previous_secret: Some(previous.clone().into()),
                previous_secret_until: Some(UnixTime::from_seconds(until)),
            };
            let expected = presented == current || (presented == previous && now < until);
            prop_assert_eq!(app.secret_matches(&presented, UnixTime::from_seconds(now)), expected);
        }
    }
}
