//! Command-line flags and their `PAYER_SANDBOX_*` environment variables (docs/command-line.md), parsed by clap
//! into the `Settings` that `main` and the integration tests both hand to `Application::build`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// An offline emulator of a health plan's CMS Patient Access API sandbox: SMART on FHIR
/// OAuth 2.0 and a read-only FHIR R4 API over synthetic CARIN Blue Button members.
#[derive(Debug, Clone, Parser)]
#[command(name = "payer-sandbox", version, about, long_about = None)]
pub struct Settings {
    /// Address to bind; port 0 picks a free port.
    #[arg(long, env = "PAYER_SANDBOX_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// External base URL used in the issuer, links, fullUrl and discovery documents
    /// [default: http://<bound address>].
    #[arg(long, env = "PAYER_SANDBOX_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Load FHIR data from this directory (Bundles, single resources, .ndjson) instead of the
    /// embedded seed data.
    #[arg(long, env = "PAYER_SANDBOX_DATA")]
    pub data: Option<PathBuf>,

    /// TOML file defining the plans of the network besides the default (docs/plans.md#the-plans-file)
    /// [default: the embedded network]. An empty file serves the default plan alone.
    #[arg(long, env = "PAYER_SANDBOX_PLANS")]
    pub plans: Option<PathBuf>,

    /// JSON file of pre-registered apps:
    /// [{"client_id","client_secret"?,"name","redirect_uris":[..],"public"?,"scopes"?:[..]}].
    #[arg(long, env = "PAYER_SANDBOX_CLIENTS")]
    pub clients: Option<PathBuf>,

    /// Hosted mode (docs/hosted.md): keep the shared state in this PostgreSQL database
    /// (postgres://user:password@host:port/db), so that several replicas serve as one.
    #[arg(long, env = "PAYER_SANDBOX_DATABASE", value_name = "URL")]
    pub database: Option<String>,

    /// Developer accounts in the portal (docs/developer-accounts.md): sign up and sign in to
    /// register apps, see and change only your own, and read their requests. Always on in
    /// hosted mode (--database).
    #[arg(long, env = "PAYER_SANDBOX_DEVELOPER_ACCOUNTS")]
    pub developer_accounts: bool,

    /// Persist registered apps, member email links and developer accounts in this directory
    /// [default: in memory].
    #[arg(long, env = "PAYER_SANDBOX_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Authorization code lifetime, in seconds.
    #[arg(long, env = "PAYER_SANDBOX_CODE_TTL", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub code_ttl: u64,

    /// Access token lifetime, in seconds (SMART: at most an hour).
    #[arg(long, env = "PAYER_SANDBOX_ACCESS_TOKEN_TTL", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub access_token_ttl: u64,

    /// Refresh token lifetime, in seconds [default: 90 days].
    #[arg(long, env = "PAYER_SANDBOX_REFRESH_TOKEN_TTL", default_value_t = 7_776_000, value_parser = clap::value_parser!(u64).range(1..=3_153_600_000))]
    pub refresh_token_ttl: u64,

    /// Scope granted when an authorization request has none.
    #[arg(
        long,
        env = "PAYER_SANDBOX_DEFAULT_SCOPE",
        default_value = "user/*.read"
    )]
    pub default_scope: String,

    /// Production-like: response_type, aud and PKCE S256 required from every app; localhost
    /// redirect URIs refused at registration.
    #[arg(long, env = "PAYER_SANDBOX_STRICT")]
    pub strict: bool,

    /// Turn off the sandbox control API (/sandbox/api/**).
    #[arg(long, env = "PAYER_SANDBOX_NO_CONTROL_API")]
    pub no_control_api: bool,

    /// How many requests GET /sandbox/api/requests keeps (the oldest are dropped).
    #[arg(long, env = "PAYER_SANDBOX_REQUEST_LOG_SIZE", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub request_log_size: u64,

    /// Request log format on stderr.
    #[arg(long, env = "PAYER_SANDBOX_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Check that the server at URL answers 200 and exit 0 (else 1), then stop: a container
    /// HEALTHCHECK with no shell. A mode, not a setting, so it reads no environment variable.
    #[arg(long, value_name = "URL")]
    pub healthcheck: Option<String>,
}

impl Settings {
    /// Defaults with port 0 on loopback: what the integration tests start from.
    pub fn for_tests() -> Self {
        let mut settings = Self::parse_from(["payer-sandbox"]);
        settings.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec() {
        let s = Settings::parse_from(["payer-sandbox"]);
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.code_ttl, 300);
        assert_eq!(s.access_token_ttl, 3600);
        assert_eq!(s.refresh_token_ttl, 7_776_000);
        assert_eq!(s.default_scope, "user/*.read");
        assert!(!s.strict && !s.no_control_api);
        assert!(
            !s.developer_accounts,
            "off by default: the portal stays open"
        );
    }

    #[test]
    fn zero_ttl_is_refused() {
        assert!(Settings::try_parse_from(["payer-sandbox", "--code-ttl", "0"]).is_err());
    }
}
