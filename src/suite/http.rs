//! The one outbound HTTP client builder: rustls, connect and request timeouts, Liaison's user
//! agent, no redirects (a token or a body must never follow a redirect somewhere else), names
//! resolved through [`crate::outbound::GuardedResolver`] (no link-local or metadata addresses).

use std::time::Duration;

use crate::config::SuiteClientSettings;

use super::error::SuiteError;

/// `liaison/<version>`.
pub const USER_AGENT: &str = concat!("liaison/", env!("CARGO_PKG_VERSION"));

/// A client for partner APIs, shared by every tenant (one connection pool per process).
pub fn build_http_client(settings: &SuiteClientSettings) -> Result<reqwest::Client, SuiteError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
        .timeout(Duration::from_millis(settings.request_timeout_ms))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(crate::outbound::GuardedResolver::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|error| SuiteError::Config(format!("cannot build the HTTP client: {error}")))
}
