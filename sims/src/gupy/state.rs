//! The shared state behind the simulator's handlers and its delivery tasks.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::GupySimConfig;
use super::events::Deliveries;
use super::faults::Faults;
use super::model::World;

/// Cheap to clone; everything lives behind one `Arc`.
#[derive(Clone)]
pub struct SimState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub config: GupySimConfig,
    pub world: Mutex<World>,
    pub faults: Mutex<Faults>,
    /// API calls by `"METHOD /path/{template}"`.
    pub api_calls: Mutex<BTreeMap<String, u64>>,
    /// Arrival times of API calls in the last minute, for the rate limit.
    pub recent_calls: Mutex<VecDeque<Instant>>,
    /// Delivery records and the queue of first attempts. Lock order: `world` before this.
    pub deliveries: Mutex<Deliveries>,
    pub outbox_ready: Notify,
    pub dispatcher_started: AtomicBool,
    pub cancel: CancellationToken,
    pub tasks: TaskTracker,
    /// For `https` postback URLs only (plain HTTP goes through `transport`, byte-exact).
    pub http: reqwest::Client,
    /// Plain connections kept alive between deliveries.
    pub idle: super::transport::IdleConnections,
}

impl SimState {
    pub fn new(config: GupySimConfig) -> Self {
        let mut http = reqwest::Client::builder().timeout(config.delivery_timeout);
        if let Some(pem) = &config.trust_pem {
            match reqwest::Certificate::from_pem(pem.as_bytes()) {
                Ok(cert) => http = http.add_root_certificate(cert),
                Err(error) => {
                    tracing::warn!(%error, "Gupy simulator: ignoring an unreadable trust_pem")
                }
            }
        }
        let http = http.build().unwrap_or_default();
        Self(Arc::new(Inner {
            world: Mutex::new(World::new(config.company_name.clone(), config.id_offset)),
            config,
            faults: Mutex::new(Faults::default()),
            api_calls: Mutex::new(BTreeMap::new()),
            recent_calls: Mutex::new(VecDeque::new()),
            deliveries: Mutex::new(Deliveries::default()),
            outbox_ready: Notify::new(),
            dispatcher_started: AtomicBool::new(false),
            idle: Default::default(),
            cancel: CancellationToken::new(),
            tasks: TaskTracker::new(),
            http,
        }))
    }

    /// Cancelling it stops the delivery tasks (and the server, when started by `spawn`).
    pub fn cancel_token(&self) -> CancellationToken {
        self.0.cancel.clone()
    }

    /// Everything, for assertions: the `GET /_sim/state` body.
    pub fn snapshot(&self) -> Value {
        let world = lock(&self.0.world);
        let deliveries = lock(&self.0.deliveries);
        json!({
            "world": &*world,
            "deliveries": &deliveries.records,
            "apiCalls": &*lock(&self.0.api_calls),
            "faults": &*lock(&self.0.faults),
        })
    }

    /// How many applications carry at least one tag: a cheap progress check for load tests
    /// (`snapshot` serialises the whole world).
    pub fn tagged_applications(&self) -> usize {
        lock(&self.0.world)
            .applications
            .values()
            .filter(|record| !record.application.tags.is_empty())
            .count()
    }

    /// API calls by `"METHOD /path/{template}"`.
    pub fn api_calls(&self) -> BTreeMap<String, u64> {
        lock(&self.0.api_calls).clone()
    }

    pub fn faults(&self) -> Faults {
        lock(&self.0.faults).clone()
    }
}

/// Locks a mutex, recovering from poisoning: a panicked handler must not take the whole
/// simulator down with it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
