//! The server: `App::build(settings)` connects and migrates the database and binds the
//! listener (port 0 allowed, for tests); `run_until_stopped` serves until the cancellation token
//! fires, then drains in-flight requests. With `tls_cert` and `tls_key` set it serves HTTPS.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::config::Settings;
use crate::store;

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
            (Some(cert), Some(key)) => Some(super::tls::server_config(cert, key)?),
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
        // them) open one connection per delivery. Each request knows its peer's address, for the
        // limits that count per client (`http::peer`).
        let router =
            super::router(state).into_make_service_with_connect_info::<super::peer::PeerAddr>();
        let address = self.listener.local_addr()?;
        let stopped = async move { shutdown.cancelled().await };
        match self.tls {
            Some(config) => {
                tracing::info!(%address, "liaison is listening (HTTPS)");
                let listener = super::tls::TlsListener::new(self.listener, config)?;
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

/// Serves the health probes and metrics alone on `address` until `shutdown` (what
/// `liaison worker --health-bind` runs).
pub async fn serve_health(
    state: AppState,
    address: SocketAddr,
    shutdown: CancellationToken,
) -> anyhow::Result<JoinHandle<anyhow::Result<()>>> {
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} for health checks"))?;
    tracing::info!(address = %listener.local_addr().unwrap_or(address), "health listener up");
    let router = super::health_router(state);
    Ok(tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
            .context("health listener failed")
    }))
}
