//! The interview suite simulator: a real HTTP server with in-memory state that serves the whole
//! suite API contract (`shared/contracts/suite-api.md`), including its failure modes, plus
//! `/_sim` control endpoints for tests.
//!
//! Use [`spawn`] to run it on a socket (port 0 allowed), or [`router`] with a [`SuiteSim`] to
//! drive it without one.

mod auth;
mod candidates;
mod control;
mod delivery;
mod error;
mod faults;
mod grants;
mod idempotency;
mod invitations;
mod model;
mod pagination;
mod projects;
mod sessions;
mod signing;
mod state;
mod users;
mod webhooks;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;
pub use faults::Faults;
pub use invitations::ReviewIn;
pub use model::{InvitationStatus, Recommendation, Role};
pub use projects::ProjectIn;
pub use state::{DeliveryStatus, Store};

/// Settings of one simulated suite.
#[derive(Clone)]
pub struct SuiteSimConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Base of the URLs the simulator hands out (interview, login, review links). [`spawn`]
    /// fills it from the bound address when `None`.
    pub public_url: Option<String>,
    /// Lifetime of access tokens (the real suite: one hour).
    pub token_lifetime: Duration,
    /// Lifetime of `POST /v1/sessions` login links (the contract: 60 s).
    pub login_link_lifetime: Duration,
    /// Delays before each webhook retry; the number of entries is the number of retries.
    /// The real suite waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h; tests want it short.
    pub webhook_retry_schedule: Vec<Duration>,
    /// How long a receiver has to answer one delivery (the real suite: 15 s).
    pub webhook_timeout: Duration,
    /// Where ids start, so that runs against one kept database (the demo's) never meet an id
    /// of an earlier run.
    pub id_offset: u64,
    /// An extra root certificate (PEM) trusted when delivering webhooks to `https` URLs: the
    /// demo's self-signed certificate.
    pub trust_pem: Option<String>,
}

impl Default for SuiteSimConfig {
    fn default() -> Self {
        Self {
            client_id: "liaison".to_owned(),
            client_secret: "liaison-secret".to_owned(),
            public_url: None,
            token_lifetime: Duration::from_secs(3600),
            login_link_lifetime: Duration::from_secs(60),
            webhook_retry_schedule: [100, 500, 2_000, 5_000]
                .into_iter()
                .map(Duration::from_millis)
                .collect(),
            webhook_timeout: Duration::from_secs(15),
            id_offset: 0,
            trust_pem: None,
        }
    }
}

impl fmt::Debug for SuiteSimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SuiteSimConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("public_url", &self.public_url)
            .field("token_lifetime", &self.token_lifetime)
            .field("login_link_lifetime", &self.login_link_lifetime)
            .field("webhook_retry_schedule", &self.webhook_retry_schedule)
            .field("webhook_timeout", &self.webhook_timeout)
            .field("id_offset", &self.id_offset)
            .field("trust_pem", &self.trust_pem.is_some())
            .finish()
    }
}

const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:9102";

/// The simulator's shared state; cheap to clone.
#[derive(Clone)]
pub struct SuiteSim {
    inner: Arc<Shared>,
}

struct Shared {
    config: SuiteSimConfig,
    public_url: String,
    store: Mutex<Store>,
    deliveries: mpsc::UnboundedSender<String>,
    /// Taken by the one delivery worker when it starts.
    delivery_queue: Mutex<Option<mpsc::UnboundedReceiver<String>>>,
}

impl SuiteSim {
    pub fn new(config: SuiteSimConfig) -> Self {
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| DEFAULT_PUBLIC_URL.to_owned())
            .trim_end_matches('/')
            .to_owned();
        let mut store = Store::starting_at(config.id_offset);
        store.seed_admin();
        let (deliveries, queue) = mpsc::unbounded_channel();
        Self {
            inner: Arc::new(Shared {
                config,
                public_url,
                store: Mutex::new(store),
                deliveries,
                delivery_queue: Mutex::new(Some(queue)),
            }),
        }
    }

    pub fn config(&self) -> &SuiteSimConfig {
        &self.inner.config
    }

    /// Base URL without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// Direct access to the state. Hold it briefly and never across an `.await`.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `change` on the state after expiring due invitations, then hands any webhook
    /// deliveries it caused to the delivery worker.
    pub fn mutate<R>(
        &self,
        change: impl FnOnce(&mut Store) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let (result, pending) = {
            let mut store = self.store();
            store.expire_due_invitations(model::now());
            let result = change(&mut store);
            (result, store.take_pending_deliveries())
        };
        for delivery_id in pending {
            // The receiver is gone only when the worker stopped, at shutdown.
            let _ = self.inner.deliveries.send(delivery_id);
        }
        result
    }

    /// A candidate finishes invitation `id` and reviewers rate it (`reviews`), with the events
    /// that follow: `/_sim/invitations/{id}/complete`, and drivers in the same process.
    pub fn complete_invitation(
        &self,
        id: &str,
        reviews: Vec<ReviewIn>,
    ) -> Result<(model::Invitation, Vec<model::Review>), ApiError> {
        self.mutate(|store| store.complete_invitation(id, reviews))
    }

    /// Everything, as `GET /_sim/state` shows it.
    pub fn snapshot(&self) -> serde_json::Value {
        let store = self.store();
        serde_json::to_value(&*store).unwrap_or_default()
    }

    /// Starts the webhook delivery worker; only the first call does anything.
    pub fn start_delivery_worker(&self, cancel: CancellationToken) -> Option<JoinHandle<()>> {
        let queue = self
            .inner
            .delivery_queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        Some(tokio::spawn(delivery::run_worker(
            self.clone(),
            queue,
            cancel,
        )))
    }
}

/// The whole HTTP surface: `/oauth`, `/v1`, login links, and `/_sim` controls.
pub fn router(sim: SuiteSim) -> Router {
    // Layers added later run first: faults, then the bearer check, then idempotency.
    let v1 = Router::new()
        .merge(projects::routes())
        .merge(candidates::routes())
        .merge(invitations::routes())
        .merge(users::routes())
        .merge(sessions::api_routes())
        .merge(webhooks::routes())
        .route_layer(from_fn_with_state(
            sim.clone(),
            idempotency::honour_idempotency_key,
        ))
        .route_layer(from_fn_with_state(sim.clone(), auth::require_bearer))
        .route_layer(from_fn_with_state(sim.clone(), faults::inject_faults));
    Router::new()
        .merge(v1)
        .merge(auth::routes())
        .merge(sessions::page_routes())
        .merge(control::routes())
        .route_layer(from_fn_with_state(sim.clone(), count_calls))
        .fallback(sessions::show_suite_page)
        .layer(from_fn_with_state(sim.clone(), faults::add_latency))
        .with_state(sim)
}

async fn count_calls(State(sim): State<SuiteSim>, request: Request, next: Next) -> Response {
    if let Some(path) = request.extensions().get::<MatchedPath>() {
        let route = format!("{} {}", request.method(), path.as_str());
        sim.store().count_call(route);
    }
    next.run(request).await
}

/// A simulator serving on a socket. Dropping it stops the server.
pub struct RunningSuiteSim {
    addr: SocketAddr,
    sim: SuiteSim,
    cancel: CancellationToken,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningSuiteSim {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn sim(&self) -> &SuiteSim {
        &self.sim
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Stops serving and waits for the server to finish.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.cancel.cancel();
        if let Some(server) = self.server.take() {
            server.await.context("suite simulator task")??;
        }
        Ok(())
    }
}

impl Drop for RunningSuiteSim {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Binds `bind` (port 0 picks a free port) and serves the simulator until stopped.
pub async fn spawn(
    bind: SocketAddr,
    mut config: SuiteSimConfig,
) -> anyhow::Result<RunningSuiteSim> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding the suite simulator to {bind}"))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{addr}"));
    }
    let sim = SuiteSim::new(config);
    let cancel = CancellationToken::new();
    sim.start_delivery_worker(cancel.child_token());
    let app = router(sim.clone()).into_make_service();
    let shutdown = cancel.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    });
    tracing::info!(%addr, "suite simulator listening");
    Ok(RunningSuiteSim {
        addr,
        sim,
        cancel,
        server: Some(server),
    })
}
