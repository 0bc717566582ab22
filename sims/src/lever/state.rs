//! The simulator's settings and the shared state behind its handlers and delivery tasks.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::faults::Faults;
use super::model::World;
use super::oauth::{Grants, OAuthCounters};

/// How the simulator behaves; `Default` is Lever's contract with short retry delays.
#[derive(Debug, Clone)]
pub struct LeverSimConfig {
    /// The customer API key (Basic auth, user = key, empty password).
    pub api_key: String,
    /// The OAuth client Lever registered for the connector (authorization code).
    pub oauth_client_id: String,
    pub oauth_client_secret: String,
    /// How long an OAuth access token lives (Lever: one hour).
    pub access_token_ttl: Duration,
    /// The signature token of the webhook settings; `None`: deliveries carry no signature.
    pub signature_token: Option<String>,
    /// The users `perform_as` may name.
    pub users: Vec<String>,
    /// The account's pipeline, in order.
    pub stages: Vec<String>,
    /// Lever's token bucket per key: steady refill per second, and its size.
    pub requests_per_second: f64,
    pub burst: f64,
    /// Delays before each retry of a failed delivery (Lever: five retries, growing; the exact
    /// schedule is not published).
    pub retry_schedule: Vec<Duration>,
    pub delivery_timeout: Duration,
    /// With the `shuffle` fault, each delivery waits a random time up to this.
    pub shuffle_window: Duration,
}

impl Default for LeverSimConfig {
    fn default() -> Self {
        Self {
            api_key: "lever-api-key".to_owned(),
            oauth_client_id: "liaison-lever-client".to_owned(),
            oauth_client_secret: "liaison-lever-secret".to_owned(),
            access_token_ttl: Duration::from_secs(3600),
            signature_token: Some("lever-signature-token".to_owned()),
            users: vec!["user-liaison".to_owned()],
            stages: ["New lead", "Phone screen", "Video interview", "Offer"]
                .map(str::to_owned)
                .to_vec(),
            requests_per_second: 10.0,
            burst: 20.0,
            retry_schedule: [50, 200, 500, 1_000, 2_000]
                .map(Duration::from_millis)
                .to_vec(),
            delivery_timeout: Duration::from_secs(10),
            shuffle_window: Duration::from_millis(200),
        }
    }
}

/// Cheap to clone; everything lives behind one `Arc`.
#[derive(Clone)]
pub struct SimState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub config: LeverSimConfig,
    pub world: Mutex<World>,
    pub faults: Mutex<Faults>,
    pub traffic: Mutex<Traffic>,
    pub oauth: Mutex<Grants>,
    /// Where webhooks go (`POST /_sim/webhook`).
    pub webhook_url: Mutex<Option<String>>,
    pub deliveries: Mutex<Vec<Value>>,
    pub cancel: CancellationToken,
    pub tasks: TaskTracker,
    pub http: reqwest::Client,
}

/// What the API saw: calls by route, their arrival times, the bucket, the 429s answered.
#[derive(Debug)]
pub struct Traffic {
    pub calls: BTreeMap<String, u64>,
    pub arrivals: VecDeque<Instant>,
    pub tokens: f64,
    pub refilled_at: Instant,
    pub rate_limited: u64,
}

impl SimState {
    pub fn new(config: LeverSimConfig) -> Self {
        let stages: Vec<&str> = config.stages.iter().map(String::as_str).collect();
        let http = reqwest::Client::builder()
            .timeout(config.delivery_timeout)
            .user_agent("Lever-Webhooks")
            .build()
            .unwrap_or_default();
        Self(Arc::new(Inner {
            world: Mutex::new(World::new(&stages)),
            faults: Mutex::new(Faults::default()),
            traffic: Mutex::new(Traffic {
                calls: BTreeMap::new(),
                arrivals: VecDeque::new(),
                tokens: config.burst,
                refilled_at: Instant::now(),
                rate_limited: 0,
            }),
            oauth: Mutex::new(Grants::default()),
            webhook_url: Mutex::new(None),
            deliveries: Mutex::new(Vec::new()),
            cancel: CancellationToken::new(),
            tasks: TaskTracker::new(),
            http,
            config,
        }))
    }

    pub fn config(&self) -> &LeverSimConfig {
        &self.0.config
    }

    pub fn faults(&self) -> Faults {
        lock(&self.0.faults).clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.0.faults) = faults;
    }

    pub fn set_webhook_url(&self, url: Option<String>) {
        *lock(&self.0.webhook_url) = url;
    }

    /// API calls by `"METHOD /v1/route/{template}"`.
    pub fn api_calls(&self) -> BTreeMap<String, u64> {
        lock(&self.0.traffic).calls.clone()
    }

    /// What the OAuth server did: codes exchanged, refreshes, reuses of a spent refresh token.
    pub fn oauth_counters(&self) -> OAuthCounters {
        lock(&self.0.oauth).counters.clone()
    }

    /// How many calls were answered 429 by the rate limit (forced ones included).
    pub fn rate_limited(&self) -> u64 {
        lock(&self.0.traffic).rate_limited
    }

    /// The most API calls that arrived within any one second.
    pub fn max_calls_in_a_second(&self) -> usize {
        let traffic = lock(&self.0.traffic);
        let arrivals: Vec<Instant> = traffic.arrivals.iter().copied().collect();
        let mut best = 0;
        let mut start = 0;
        for (end, at) in arrivals.iter().enumerate() {
            while at.duration_since(arrivals[start]) >= Duration::from_secs(1) {
                start += 1;
            }
            best = best.max(end + 1 - start);
        }
        best
    }

    /// Everything, for assertions: the `GET /_sim/state` body.
    pub fn snapshot(&self) -> Value {
        let world = lock(&self.0.world);
        json!({
            "world": &*world,
            "deliveries": &*lock(&self.0.deliveries),
            "apiCalls": lock(&self.0.traffic).calls,
            "rateLimited": lock(&self.0.traffic).rate_limited,
            "oauth": lock(&self.0.oauth).counters.clone(),
            "faults": &*lock(&self.0.faults),
        })
    }

    /// The stage with this id or name.
    pub fn stage_id(&self, wanted: &str) -> Option<String> {
        lock(&self.0.world)
            .stage_by_id_or_name(wanted)
            .map(|s| s.id.clone())
    }
}

/// Locks a mutex, recovering from poisoning: a panicked handler must not take the simulator
/// down with it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
