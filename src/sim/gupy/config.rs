//! Settings of the simulator.

use std::time::Duration;

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
    /// How many first attempts may be in flight at once. 1 (the default) sends them strictly one
    /// after another, in queue order; more lets a load test go faster than the receiver's answer
    /// latency allows one at a time (they still start in queue order).
    pub delivery_concurrency: usize,
}

impl Default for GupySimConfig {
    fn default() -> Self {
        Self {
            token: "gupy-token".to_owned(),
            company_name: "ACME".to_owned(),
            retry_schedule: [1, 5, 15, 30].map(Duration::from_secs).to_vec(),
            delivery_timeout: Duration::from_secs(30),
            shuffle_window: Duration::from_millis(200),
            delivery_concurrency: 1,
        }
    }
}
