//! The suite client against the real suite simulator (and `wiremock` for narrow adapter cases).

mod authorization_code;
mod calls;
mod resilience;
mod tokens;
mod wire;

use std::time::Duration;

use liaison::config::SuiteClientSettings;
use liaison::suite::{RetryPolicy, SuiteClient, build_http_client};
use liaison::tenant::{SuiteAuth, SuiteSettings};
use secrecy::SecretString;

use crate::sim_suite::{CLIENT_ID, CLIENT_SECRET};

pub const TENANT: &str = "acme";

/// Limits and timeouts for tests: the defaults, with quick, patient retries.
pub fn test_settings() -> SuiteClientSettings {
    SuiteClientSettings {
        max_retries: 20,
        max_retry_seconds: 120,
        ..SuiteClientSettings::default()
    }
}

/// Short delays (the simulator fails on purpose, not because it is overloaded).
pub fn quick_retries(settings: &SuiteClientSettings) -> RetryPolicy {
    RetryPolicy {
        first_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(200),
        ..RetryPolicy::from_settings(settings)
    }
}

pub fn suite_settings(base_url: &str, auth: SuiteAuth, secret: &str) -> SuiteSettings {
    SuiteSettings {
        base_url: base_url.to_owned(),
        app_url: None,
        auth,
        client_id: CLIENT_ID.to_owned(),
        client_secret: Some(SecretString::from(secret.to_owned())),
        webhook_secret: None,
    }
}

/// A client-credentials client for `base_url`.
pub fn client_for(base_url: &str, settings: &SuiteClientSettings) -> SuiteClient {
    let http = build_http_client(settings).expect("http client");
    let suite = suite_settings(base_url, SuiteAuth::ClientCredentials, CLIENT_SECRET);
    SuiteClient::new(http, TENANT, &suite, settings, None)
        .expect("client")
        .with_retry_policy(quick_retries(settings))
}

/// A counter of the simulator's state, 0 when absent.
pub fn counter(state: &serde_json::Value, path: &[&str]) -> u64 {
    let mut value = &state["counters"];
    for part in path {
        value = &value[*part];
    }
    value.as_u64().unwrap_or(0)
}
