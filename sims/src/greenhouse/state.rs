//! The simulator's memory: its configuration (where the partner is, the customer's key), the
//! take-home tests it sent, the PATCHes it received and the statuses it read.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use super::wire::{ResponseError, TestStatus};

/// Where the partner's four URLs are and the key Greenhouse holds for the customer.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GreenhouseSimConfig {
    /// The partner's base URL: `{base}/list_tests`, `/send_test`, `/test_status`,
    /// `/response_error` (Liaison: `{public_url}/partners/greenhouse`).
    pub partner_base_url: String,
    /// The key the partner issued the customer (Basic username, empty password).
    pub key: String,
    /// Where the simulator's own take-home test URLs point (`http://ADDR`), set at spawn.
    #[serde(default)]
    pub own_url: String,
    /// An extra root certificate (PEM) trusted for an `https` partner: the demo's self-signed
    /// certificate.
    #[serde(default, skip_serializing)]
    pub trust_pem: Option<String>,
}

/// `POST /_sim/faults`: how the PATCH endpoint misbehaves.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// The next this-many PATCHes answer `status` (without effect).
    pub fail_next: u32,
    pub status: Option<u16>,
    /// Added before each PATCH answer.
    pub latency_ms: u64,
    /// The next this-many PATCHes take effect, but their answer is dropped (502 as from a proxy
    /// that lost the upstream answer).
    pub drop_next: u32,
}

/// One take-home test Greenhouse sent the partner.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TakeHomeTest {
    pub url: String,
    pub partner_test_id: String,
    pub candidate_email: String,
    /// Every `partner_interview_id` the partner answered for this URL.
    pub partner_interview_ids: Vec<String>,
    /// PATCHes that reached the simulator (refused by a fault or not).
    pub patches_received: u32,
    /// PATCHes that took effect and were answered 2xx.
    pub patches_accepted: u32,
    /// PATCHes that took effect.
    pub patches_effective: u32,
    /// The last `test_status` answer read after a PATCH.
    pub status: Option<TestStatus>,
    /// What a PATCH was refused for (wrong key, a body).
    pub refusals: Vec<String>,
}

#[derive(Default)]
pub struct Inner {
    pub config: Mutex<GreenhouseSimConfig>,
    pub faults: Mutex<Faults>,
    /// By take-home test id (the last segment of its URL).
    pub tests: Mutex<BTreeMap<String, TakeHomeTest>>,
    pub response_errors: Mutex<Vec<ResponseError>>,
    pub next_id: Mutex<u64>,
    pub tasks: tokio_util::task::TaskTracker,
}

/// Shared, cheap to clone.
#[derive(Clone, Default)]
pub struct SimState(pub Arc<Inner>);

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SimState {
    pub fn new(config: GreenhouseSimConfig) -> Self {
        let state = Self::default();
        *lock(&state.0.config) = config;
        state
    }

    pub fn config(&self) -> GreenhouseSimConfig {
        lock(&self.0.config).clone()
    }

    pub fn set_partner(&self, partner_base_url: &str, key: &str) {
        let mut config = lock(&self.0.config);
        config.partner_base_url = partner_base_url.to_owned();
        config.key = key.to_owned();
    }

    /// A fresh take-home test URL, as Greenhouse mints one per Send Test click.
    pub fn new_test_url(&self) -> (String, String) {
        let mut next = lock(&self.0.next_id);
        *next += 1;
        let id = format!("{}", 10_000 + *next);
        let base = lock(&self.0.config).own_url.clone();
        (
            id.clone(),
            format!("{base}/integrations/testing_partners/take_home_tests/{id}"),
        )
    }

    pub fn test(&self, id: &str) -> Option<TakeHomeTest> {
        lock(&self.0.tests).get(id).cloned()
    }

    pub fn tests(&self) -> Vec<TakeHomeTest> {
        lock(&self.0.tests).values().cloned().collect()
    }

    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "tests": &*lock(&self.0.tests),
            "faults": &*lock(&self.0.faults),
            "response_errors": &*lock(&self.0.response_errors),
        })
    }
}
