//! Settings of the simulator.

use std::time::Duration;

use secrecy::SecretString;

/// How the simulator behaves. `Default` gives the contract's values scaled down so that a
/// manual test sees retries within a minute.
#[derive(Debug, Clone)]
pub struct GupySimConfig {
    /// The accepted bearer token.
    pub token: String,
    /// `companyName` in deliveries.
    pub company_name: String,
    /// Delays before each retry of a failed delivery; its length is the number of retries.
    /// (Gupy: 1, 5, 15, 30 minutes, ...)
    pub retry_schedule: Vec<Duration>,
    /// How long a delivery waits for an answer (Gupy: 30 s).
    pub delivery_timeout: Duration,
    /// With the `shuffle` fault, each delivery is delayed by a random time up to this.
    pub shuffle_window: Duration,
    /// Added to every id the simulator mints, so that runs against one kept database (the
    /// demo's) never meet an id of an earlier run.
    pub id_offset: i64,
    /// An extra root certificate (PEM) trusted for `https` postback URLs: the demo's
    /// self-signed certificate.
    pub trust_pem: Option<String>,
    /// Where the requisition pages embed Liaison; without it they answer 404 `not_configured`.
    pub embed: Option<EmbedTarget>,
    /// How many first attempts may be in flight at once. 1 (the default) sends them strictly one
    /// after another, in queue order; more lets a load test go faster than the receiver's answer
    /// latency allows one at a time (they still start in queue order).
    pub delivery_concurrency: usize,
}

/// What the simulated ATS needs to embed Liaison's pages: where Liaison is, the tenant, and the
/// secret that signs launch links.
#[derive(Clone)]
pub struct EmbedTarget {
    /// Liaison's public URL.
    pub liaison_url: String,
    pub tenant: String,
    pub launch_secret: SecretString,
}

impl std::fmt::Debug for EmbedTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbedTarget")
            .field("liaison_url", &self.liaison_url)
            .field("tenant", &self.tenant)
            .field("launch_secret", &"<redacted>")
            .finish()
    }
}

impl Default for GupySimConfig {
    fn default() -> Self {
        Self {
            token: "gupy-token".to_owned(),
            company_name: "ACME".to_owned(),
            retry_schedule: [1, 5, 15, 30].map(Duration::from_secs).to_vec(),
            delivery_timeout: Duration::from_secs(30),
            shuffle_window: Duration::from_millis(200),
            id_offset: 0,
            trust_pem: None,
            embed: None,
            delivery_concurrency: 1,
        }
    }
}
