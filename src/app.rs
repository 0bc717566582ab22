//! The application: `App::build(settings)` connects and migrates the database and binds the
//! listener (port 0 allowed, for tests); `run_until_stopped` serves until the cancellation token
//! fires, then drains in-flight requests. With `tls_cert` and `tls_key` set it serves HTTPS.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::crypto::MasterKey;
use crate::health::HealthBook;
use crate::store;
use crate::suite::SuiteClients;
use crate::telemetry::{Metrics, PartnerCalls};

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub master_key: Option<MasterKey>,
    pub metrics: Arc<Metrics>,
    /// Connection health, recorded by partner calls and flushed to the database.
    pub health: HealthBook,
    /// Where partner calls are recorded (metrics, spans, health).
    pub partner_calls: PartnerCalls,
    /// One suite client per tenant (token cache, limits).
    pub suite_clients: SuiteClients,
    /// The embed pages' session keys and caches.
    pub web: crate::web::WebState,
    pub shutdown: CancellationToken,
    /// Wakes this process's workers when work was just enqueued (they poll otherwise).
    pub wake: Arc<Notify>,
    /// The webhook path: the inbox's group-commit writer and the tenant cache.
    pub inbound: crate::inbound::InboundState,
}

impl AppState {
    /// The state of a process, with or without an HTTP listener (`liaison worker` has none).
    pub fn build(settings: Settings, db: DatabaseConnection) -> anyhow::Result<Self> {
        let master_key = settings.require_master_key().ok();
        let metrics = Metrics::new();
        let health = HealthBook::new();
        health.spawn_flusher(db.clone());
        let partner_calls = PartnerCalls::new(metrics.clone(), health.clone());
        let suite_clients = SuiteClients::recording(
            &settings,
            db.clone(),
            master_key.clone(),
            partner_calls.clone(),
        )?;
        let wake = Arc::new(Notify::new());
        let inbound = crate::inbound::InboundState::start(
            db.clone(),
            settings.queue.max_attempts,
            wake.clone(),
        );
        Ok(AppState {
            db,
            suite_clients,
            web: crate::web::WebState::new(master_key.as_ref()),
            settings: Arc::new(settings),
            master_key,
            metrics,
            health,
            partner_calls,
            shutdown: CancellationToken::new(),
            wake,
            inbound,
        })
    }
}

pub struct App {
    listener: TcpListener,
    /// Set when `tls_cert` and `tls_key` are: the app serves HTTPS.
    tls: Option<Arc<rustls::ServerConfig>>,
    state: AppState,
}

impl App {
    /// Connects, migrates and binds. Without a master key the app serves, but tenants and
    /// workers that need secrets refuse to run (`serve` and `worker` require one).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = store::connect(&settings.database_url).await?;
        store::migrate(&db).await?;
        Self::build_with_db(settings, db).await
    }

    /// Like `build`, on a database the caller has connected and migrated.
    pub async fn build_with_db(settings: Settings, db: DatabaseConnection) -> anyhow::Result<Self> {
        // Read before binding, so a bad certificate is reported as such (exit 2, key named).
        let tls = match (&settings.tls_cert, &settings.tls_key) {
            (Some(cert), Some(key)) => Some(crate::http::tls::server_config(cert, key)?),
            _ => None,
        };
        let bind = settings.bind_addr();
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        let state = AppState::build(settings, db)?;
        Ok(Self {
            listener,
            tls,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Whether the app serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// For tests: adjust the state (e.g. `public_url` once the port is known) before serving.
    pub fn state_mut(&mut self) -> &mut AppState {
        &mut self.state
    }

    /// Serves until `shutdown` is cancelled, then lets in-flight requests finish.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let state = AppState {
            shutdown: shutdown.clone(),
            ..self.state
        };
        // A make-service that clones the router per connection: serving the `Router` itself
        // would rebuild its route table for every connection, and webhook senders (Gupy among
        // them) open one connection per delivery.
        let router = crate::http::router(state).into_make_service();
        let address = self.listener.local_addr()?;
        let stopped = async move { shutdown.cancelled().await };
        match self.tls {
            Some(config) => {
                tracing::info!(%address, "liaison is listening (HTTPS)");
                let listener = crate::http::tls::TlsListener::new(self.listener, config)?;
                axum::serve(listener, router)
                    .with_graceful_shutdown(stopped)
                    .await
            }
            None => {
                tracing::info!(%address, "liaison is listening");
                axum::serve(self.listener, router)
                    .with_graceful_shutdown(stopped)
                    .await
            }
        }
        .context("HTTP server failed")
    }
}

/// A token cancelled on SIGTERM or Ctrl-C.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut terminate =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(signal) => signal,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        trigger.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
        tracing::info!("shutting down: finishing in-flight work");
        trigger.cancel();
    });
    token
}
