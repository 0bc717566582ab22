//! Process configuration: defaults -> TOML file -> `LIAISON_*` environment -> `validate()`.
//!
//! Every key of the contract's table is here; sections (`[queue]`, ...) are Liaison's extensions,
//! documented in `docs/configuration.md`. Unknown keys and invalid values are refused with the key
//! named. Secrets are wrapped so that `Debug` never prints them.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::crypto::MasterKey;

/// Top-level configuration sections: `LIAISON_<SECTION>_<KEY>` maps into them.
const SECTIONS: &[&str] = &[
    "queue",
    "suite_client",
    "admin",
    "telemetry",
    "sso",
    "http",
    "outbound",
];

/// Top-level keys that begin like a section's name.
const TOP_LEVEL_LOOKALIKES: &[&str] = &["admin_token"];

/// Environment variables under `LIAISON_` that are not configuration keys.
const NOT_CONFIG_ENV: &[&str] = &["config", "log", "test_database_url"];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default = "default_database_url")]
    pub database_url: DatabaseUrl,
    #[serde(default = "default_bind")]
    pub bind: String,
    #[serde(default = "default_public_url")]
    pub public_url: String,
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    #[serde(default)]
    pub master_key: Option<SecretString>,
    #[serde(default)]
    pub admin_token: Option<SecretString>,
    /// When set, `/metrics` answers only `Authorization: Bearer <metrics_token>` (401 otherwise).
    #[serde(default)]
    pub metrics_token: Option<SecretString>,
    #[serde(default = "default_workers")]
    pub workers: usize,
    #[serde(default)]
    pub log_format: LogFormat,
    #[serde(default)]
    pub queue: QueueSettings,
    #[serde(default)]
    pub suite_client: SuiteClientSettings,
    #[serde(default)]
    pub admin: AdminSettings,
    #[serde(default)]
    pub telemetry: TelemetrySettings,
    #[serde(default)]
    pub sso: SsoLimitSettings,
    #[serde(default)]
    pub http: HttpSettings,
    /// `[outbound]`: which addresses calls to partners and identity providers may reach.
    #[serde(default)]
    pub outbound: crate::outbound::TargetPolicy,
}

/// `[http]`: how long and how many connections the server keeps (slow clients, slowloris).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Seconds a client has to send a request's line and headers, counted from the connection
    /// (or the end of the previous response on a kept-alive connection, so it is also the idle
    /// timeout); then the connection is closed.
    pub header_read_timeout_s: u64,
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            header_read_timeout_s: 10,
            max_connections: 10_000,
        }
    }
}

/// `[telemetry]`: tracing export. Off unless `otlp_endpoint` is set.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetrySettings {
    /// The OTLP/HTTP collector's base URL (`http://collector:4318`); spans go to `/v1/traces`.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the exported spans.
    pub service_name: String,
    /// The share of traces kept, 0.0 to 1.0 (a trace started by a kept parent stays kept).
    pub sample_ratio: f64,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "liaison".to_owned(),
            sample_ratio: 1.0,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[queue]`: how the durable job queue leases and retries work.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueSettings {
    /// How long a claimed job stays leased before another worker may take it over.
    pub lease_seconds: u64,
    /// Attempts before a job is dead-lettered.
    pub max_attempts: u32,
    /// First retry delay; later ones double, with jitter, up to `max_backoff_seconds`.
    pub base_backoff_ms: u64,
    pub max_backoff_seconds: u64,
    /// How long an idle worker waits before looking for work again.
    pub idle_poll_ms: u64,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            lease_seconds: 60,
            max_attempts: 12,
            base_backoff_ms: 1_000,
            max_backoff_seconds: 3_600,
            idle_poll_ms: 250,
        }
    }
}

/// `[suite_client]`: limits on outgoing calls to the suite, per tenant.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SuiteClientSettings {
    pub max_concurrency: usize,
    pub requests_per_second: u32,
    pub connect_timeout_ms: u64,
    pub request_timeout_ms: u64,
    pub max_retries: usize,
    pub max_retry_seconds: u64,
}

impl Default for SuiteClientSettings {
    fn default() -> Self {
        Self {
            max_concurrency: 64,
            requests_per_second: 2_000,
            connect_timeout_ms: 3_000,
            request_timeout_ms: 15_000,
            max_retries: 8,
            max_retry_seconds: 60,
        }
    }
}

/// `[admin]`: the admin console's sign-in.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// A tenant whose SSO may sign people into the console: those whose role maps to the suite
    /// role `admin` in that tenant's `[roles]`. None: only the admin token signs in.
    pub sso_tenant: Option<String>,
    /// How long a console session lasts.
    pub session_minutes: u64,
    /// Origins besides `public_url`'s from which the sign-in form may be posted (another name
    /// of this server, such as `https://liaison.internal:8443`). Loopback names of the request's
    /// own origin (`localhost`, `127.0.0.1`, `[::1]`) are accepted without being listed.
    pub extra_origins: Vec<String>,
    /// Failed sign-ins (console form or API bearer token) one client address may make per
    /// `sign_in_window_seconds` before it is answered 429 until the window ends.
    pub sign_in_attempts: u32,
    pub sign_in_window_seconds: u64,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` names the client:
    /// for a request from one of them, the client is the rightmost address in that header that
    /// is not itself a trusted proxy. Empty: the client is always the TCP peer.
    pub trusted_proxies: Vec<String>,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            sso_tenant: None,
            session_minutes: 8 * 60,
            extra_origins: Vec::new(),
            sign_in_attempts: 10,
            sign_in_window_seconds: 60,
            trusted_proxies: Vec::new(),
        }
    }
}

/// `[sso]`: limits on the unauthenticated SSO endpoints (`/sso/{tenant}/login` and the SAML
/// assertion consumer), which write rows and may call the identity provider.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoLimitSettings {
    /// Sign-in starts and SAML posts allowed per client address (an IPv6 /64) and minute, with
    /// bursts up to the same number; more are answered 429 with `Retry-After`.
    pub requests_per_minute: u32,
    /// Unfinished sign-ins a tenant may have at once; a new one beyond that is answered 429.
    pub max_pending_logins: u64,
}

impl Default for SsoLimitSettings {
    fn default() -> Self {
        Self {
            requests_per_minute: 30,
            max_pending_logins: 1_000,
        }
    }
}

impl AdminSettings {
    /// `extra_origins`, each as a browser serializes it in `Origin` (`scheme://host[:port]`).
    pub fn extra_origins(&self) -> Vec<String> {
        self.extra_origins
            .iter()
            .filter_map(|origin| origin_of(origin))
            .collect()
    }

    /// `trusted_proxies` as networks (a bare address is a network of one).
    pub fn trusted_proxies(&self) -> Vec<ipnet::IpNet> {
        self.trusted_proxies
            .iter()
            .filter_map(|entry| proxy_net(entry))
            .collect()
    }
}

fn proxy_net(entry: &str) -> Option<ipnet::IpNet> {
    entry.parse::<ipnet::IpNet>().ok().or_else(|| {
        entry
            .parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

/// The serialized origin of an http(s) URL that is only an origin (no path, query or user).
pub fn origin_of(text: &str) -> Option<String> {
    let parsed = url::Url::parse(text).ok()?;
    let bare = matches!(parsed.scheme(), "http" | "https")
        && parsed.host().is_some()
        && matches!(parsed.path(), "" | "/")
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    bare.then(|| parsed.origin().ascii_serialization())
}

fn default_database_url() -> DatabaseUrl {
    DatabaseUrl("sqlite://liaison.db?mode=rwc".to_owned())
}
fn default_bind() -> String {
    "127.0.0.1:8080".to_owned()
}
fn default_public_url() -> String {
    "http://127.0.0.1:8080".to_owned()
}
fn default_workers() -> usize {
    32
}

/// A database URL whose password never reaches a log line.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut parsed) if parsed.password().is_some() => {
                let _ = parsed.set_password(Some("***"));
                write!(f, "{parsed}")
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Parse errors from figment already name the key (`unknown field`, `invalid type ... for key`).
    #[error("invalid configuration: {0}")]
    Parse(String),
    #[error("invalid configuration: `{key}` {reason}")]
    Invalid { key: &'static str, reason: String },
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
}

impl Settings {
    /// Loads `file` (or `liaison.toml` when present), applies `LIAISON_*` overrides and validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let figment = Self::figment(file, Env::prefixed("LIAISON_"))?;
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Parse(describe_figment_error(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Settings from defaults only (plus validation): what tests and the demo start from.
    pub fn defaults() -> Self {
        Figment::new()
            .extract()
            .unwrap_or_else(|_| unreachable!("every key has a default"))
    }

    fn figment(file: Option<&Path>, env: Env) -> Result<Figment, ConfigError> {
        let mut figment = Figment::new();
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_owned())),
            Some(path) => figment = figment.merge(Toml::file(path)),
            None if Path::new("liaison.toml").exists() => {
                figment = figment.merge(Toml::file("liaison.toml"))
            }
            None => {}
        }
        let env = env
            .filter(|key| {
                let key = key.as_str().to_ascii_lowercase();
                !NOT_CONFIG_ENV.contains(&key.as_str()) && !key.starts_with("test_")
            })
            .map(|key| {
                let key = key.as_str().to_ascii_lowercase();
                // `admin_token` is a top-level key, not `token` in `[admin]`.
                if TOP_LEVEL_LOOKALIKES.contains(&key.as_str()) {
                    return key.into();
                }
                for section in SECTIONS {
                    if let Some(rest) = key.strip_prefix(section).and_then(|r| r.strip_prefix('_'))
                    {
                        return format!("{section}.{rest}").into();
                    }
                }
                key.to_owned().into()
            });
        Ok(figment.merge(env))
    }

    /// Checks values that types alone cannot, naming the key at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| ConfigError::Invalid {
            key,
            reason: reason.to_owned(),
        };
        let url = self.database_url.expose();
        if !(url.starts_with("sqlite:") || self.database_url.is_postgres()) {
            return Err(invalid(
                "database_url",
                "must start with sqlite: or postgres://",
            ));
        }
        self.bind
            .parse::<SocketAddr>()
            .map_err(|_| invalid("bind", "must be an address such as 127.0.0.1:8080"))?;
        match url::Url::parse(&self.public_url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
            _ => return Err(invalid("public_url", "must be an http(s) URL")),
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(invalid(
                "tls_cert",
                "and tls_key must be set together (or neither)",
            ));
        }
        if self.tls_cert.is_some() && !self.public_url.starts_with("https://") {
            return Err(invalid(
                "public_url",
                "must be an https URL when tls_cert and tls_key are set",
            ));
        }
        if let Some(key) = &self.master_key {
            MasterKey::from_base64(key.expose_secret())
                .map_err(|_| invalid("master_key", "must be 32 bytes, base64-encoded"))?;
        }
        if let Some(token) = &self.admin_token
            && token.expose_secret().len() < 16
        {
            return Err(invalid("admin_token", "must be at least 16 characters"));
        }
        for origin in &self.admin.extra_origins {
            if origin_of(origin).is_none() {
                return Err(ConfigError::Invalid {
                    key: "admin.extra_origins",
                    reason: format!(
                        "`{origin}` is not an origin: give scheme://host[:port], such as \
                         https://liaison.internal:8443"
                    ),
                });
            }
        }
        for entry in &self.admin.trusted_proxies {
            if proxy_net(entry).is_none() {
                return Err(ConfigError::Invalid {
                    key: "admin.trusted_proxies",
                    reason: format!(
                        "`{entry}` is neither an IP address nor a CIDR block (10.0.0.0/8)"
                    ),
                });
            }
        }
        if self.admin.sign_in_attempts == 0 {
            return Err(invalid("admin.sign_in_attempts", "must be at least 1"));
        }
        if self.admin.sign_in_window_seconds == 0 || self.admin.sign_in_window_seconds > 86_400 {
            return Err(invalid(
                "admin.sign_in_window_seconds",
                "must be between 1 and 86400 (a day)",
            ));
        }
        if let Some(token) = &self.metrics_token
            && token.expose_secret().len() < 16
        {
            return Err(invalid("metrics_token", "must be at least 16 characters"));
        }
        if let Some(slug) = &self.admin.sso_tenant
            && !crate::tenant::is_slug(slug)
        {
            return Err(invalid("admin.sso_tenant", "must be a tenant slug"));
        }
        if self.admin.session_minutes == 0 || self.admin.session_minutes > 7 * 24 * 60 {
            return Err(invalid(
                "admin.session_minutes",
                "must be between 1 and 10080 (a week)",
            ));
        }
        if self.workers == 0 || self.workers > 4_096 {
            return Err(invalid("workers", "must be between 1 and 4096"));
        }
        if self.queue.lease_seconds == 0 {
            return Err(invalid("queue.lease_seconds", "must be at least 1"));
        }
        if let Some(endpoint) = &self.telemetry.otlp_endpoint {
            match url::Url::parse(endpoint) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
                _ => return Err(invalid("telemetry.otlp_endpoint", "must be an http(s) URL")),
            }
        }
        if !(0.0..=1.0).contains(&self.telemetry.sample_ratio) {
            return Err(invalid(
                "telemetry.sample_ratio",
                "must be between 0.0 and 1.0",
            ));
        }
        if self.telemetry.service_name.trim().is_empty() {
            return Err(invalid("telemetry.service_name", "must not be empty"));
        }
        if self.http.header_read_timeout_s == 0 || self.http.header_read_timeout_s > 3_600 {
            return Err(invalid(
                "http.header_read_timeout_s",
                "must be between 1 and 3600",
            ));
        }
        if self.http.max_connections == 0 {
            return Err(invalid("http.max_connections", "must be at least 1"));
        }
        if self.queue.max_attempts == 0 {
            return Err(invalid("queue.max_attempts", "must be at least 1"));
        }
        if self.suite_client.max_concurrency == 0 {
            return Err(invalid(
                "suite_client.max_concurrency",
                "must be at least 1",
            ));
        }
        if self.suite_client.requests_per_second == 0 {
            return Err(invalid(
                "suite_client.requests_per_second",
                "must be at least 1",
            ));
        }
        if self.sso.requests_per_minute == 0 {
            return Err(invalid("sso.requests_per_minute", "must be at least 1"));
        }
        if self.sso.max_pending_logins == 0 {
            return Err(invalid("sso.max_pending_logins", "must be at least 1"));
        }
        Ok(())
    }

    /// The master key, required by every command but `demo`.
    pub fn require_master_key(&self) -> Result<MasterKey, ConfigError> {
        let Some(key) = &self.master_key else {
            return Err(ConfigError::Invalid {
                key: "master_key",
                reason: "is required (set it in the file or LIAISON_MASTER_KEY; generate one with \
                         `head -c 32 /dev/urandom | base64`)"
                    .to_owned(),
            });
        };
        MasterKey::from_base64(key.expose_secret()).map_err(|_| ConfigError::Invalid {
            key: "master_key",
            reason: "must be 32 bytes, base64-encoded".to_owned(),
        })
    }

    pub fn bind_addr(&self) -> SocketAddr {
        self.bind
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)))
    }
}

/// Generates a fresh random master key in its configuration form (base64 of 32 bytes).
pub fn generate_master_key() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn describe_figment_error(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let kind = e.kind.to_string();
            if key.is_empty() {
                kind
            } else {
                format!("`{key}`: {kind}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(text: &str) -> Result<Settings, ConfigError> {
        let settings: Settings = Figment::new()
            .merge(Toml::string(text))
            .extract()
            .map_err(|e| ConfigError::Parse(describe_figment_error(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    #[test]
    fn defaults_follow_the_contract() {
        let settings = Settings::defaults();
        assert_eq!(
            settings.database_url.expose(),
            "sqlite://liaison.db?mode=rwc"
        );
        assert_eq!(settings.bind, "127.0.0.1:8080");
        assert_eq!(settings.public_url, "http://127.0.0.1:8080");
        assert_eq!(settings.workers, 32);
        assert!(settings.master_key.is_none());
        settings.validate().expect("defaults are valid");
    }

    #[test]
    fn unknown_key_is_refused_with_its_name() {
        let error = from_toml("databse_url = \"sqlite://x.db\"").unwrap_err();
        assert!(error.to_string().contains("databse_url"), "{error}");
    }

    #[test]
    fn unknown_key_in_a_section_is_refused_with_its_name() {
        let error = from_toml("[queue]\nlease = 3").unwrap_err();
        assert!(error.to_string().contains("lease"), "{error}");
    }

    #[test]
    fn bad_values_are_refused_with_the_key() {
        for (text, key) in [
            ("workers = \"many\"", "workers"),
            ("workers = 0", "workers"),
            ("bind = \"nowhere\"", "bind"),
            ("public_url = \"ftp://x\"", "public_url"),
            ("master_key = \"short\"", "master_key"),
            (
                "[admin]\nextra_origins = [\"https://x.example/path\"]",
                "admin.extra_origins",
            ),
            ("[admin]\nextra_origins = [\"null\"]", "admin.extra_origins"),
            ("[admin]\nsign_in_attempts = 0", "admin.sign_in_attempts"),
            (
                "[admin]\ntrusted_proxies = [\"10.0.0.0/33\"]",
                "admin.trusted_proxies",
            ),
            (
                "[admin]\nsign_in_window_seconds = 0",
                "admin.sign_in_window_seconds",
            ),
            ("database_url = \"mysql://x\"", "database_url"),
            ("tls_cert = \"/tmp/cert.pem\"", "tls_cert"),
            (
                "tls_cert = \"/tmp/c.pem\"\ntls_key = \"/tmp/k.pem\"",
                "public_url",
            ),
            (
                "[http]\nheader_read_timeout_s = 0",
                "http.header_read_timeout_s",
            ),
            ("[http]\nmax_connections = 0", "http.max_connections"),
        ] {
            let error = from_toml(text).unwrap_err().to_string();
            assert!(error.contains(key), "{text}: {error}");
        }
    }

    #[test]
    fn the_example_file_is_valid() {
        let example = include_str!("../deploy/liaison.example.toml");
        from_toml(example).expect("deploy/liaison.example.toml is valid");
    }

    #[test]
    fn admin_lists_can_be_given_in_the_environment() {
        // What figment's `Env` does with a value: it parses it as a `Value`.
        let origins: figment::value::Value =
            r#"["http://127.0.0.1:8080", "http://localhost:8080"]"#
                .parse()
                .expect("infallible");
        let settings: Settings = Figment::new()
            .merge(figment::providers::Serialized::default(
                "admin.extra_origins",
                origins,
            ))
            .extract()
            .expect("extract");
        assert_eq!(
            settings.admin.extra_origins(),
            ["http://127.0.0.1:8080", "http://localhost:8080"]
        );
        settings.validate().expect("valid");
    }

    #[test]
    fn database_password_is_hidden_when_printed() {
        let url = DatabaseUrl("postgres://liaison:hunter2@db:5432/liaison".to_owned());
        assert!(!format!("{url} {url:?}").contains("hunter2"));
    }

    #[test]
    fn secrets_are_hidden_in_debug_output() {
        let settings = from_toml(&format!(
            "admin_token = \"a-very-secret-admin-token\"\nmaster_key = \"{}\"",
            generate_master_key()
        ))
        .expect("valid");
        let printed = format!("{settings:?}");
        assert!(!printed.contains("a-very-secret-admin-token"), "{printed}");
    }
}
