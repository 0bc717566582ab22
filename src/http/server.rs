//! The server: `App::build(settings)` connects and migrates the database and binds the
//! listener (port 0 allowed, for tests); `run_until_stopped` serves until the cancellation token
//! fires, then drains in-flight requests. With `tls_cert` and `tls_key` set it serves HTTPS.
//!
//! Connections are served by hyper's HTTP/1 builder with a timer, so a client that does not send
//! its request line and headers within `http.header_read_timeout_s` (from the connection, or from
//! the previous response on a kept-alive one) is disconnected (slowloris), and at most
//! `http.max_connections` are served at once (`serve`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use crate::app::AppState;
use crate::config::{HttpSettings, Settings};
use crate::store;

pub struct App {
    listener: TcpListener,
    /// Set when `tls_cert` and `tls_key` are: the app serves HTTPS.
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
    state: AppState,
}

/// What one server allows a connection (from `[http]`).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

impl From<&HttpSettings> for ConnectionLimits {
    fn from(http: &HttpSettings) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(http.header_read_timeout_s),
            max_connections: http.max_connections,
        }
    }
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
        let limits = ConnectionLimits::from(&settings.http);
        let state = AppState::build(settings, db)?;
        Ok(Self {
            listener,
            tls,
            limits,
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
        store::checkpoint::spawn(&state.db, &shutdown);
        let router = super::router(state);
        let address = self.listener.local_addr()?;
        match self.tls {
            Some(config) => {
                tracing::info!(%address, "liaison is listening (HTTPS)");
                let listener = super::tls::TlsListener::new(self.listener, config)?;
                serve(listener, router, self.limits, shutdown).await;
            }
            None => {
                tracing::info!(%address, "liaison is listening");
                serve(self.listener, router, self.limits, shutdown).await;
            }
        }
        Ok(())
    }
}

/// Serves `router` on `listener` until `shutdown`, then lets in-flight requests finish.
///
/// Each connection gets a permit of `max_connections` (accepting waits for one), hyper's HTTP/1
/// connection with its header-read timeout on the Tokio timer, and the peer's address as
/// `ConnectInfo<SocketAddr>`. The router is cloned per connection (an `Arc`), never rebuilt:
/// webhook senders (Gupy among them) open one connection per delivery.
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) where
    L: Listener<Addr = SocketAddr>,
{
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let connections = TaskTracker::new();
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    loop {
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (io, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let service = router.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo(super::peer::PeerAddr(peer)));
                request
            },
        );
        let connection = http1
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
            .with_upgrades();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let _permit = permit;
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = shutdown.cancelled() => {
                    // Finish the request in flight, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::trace!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
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
    let limits = ConnectionLimits::from(&state.settings.http);
    let router = super::health_router(state);
    Ok(tokio::spawn(async move {
        serve(listener, router, limits, shutdown).await;
        Ok(())
    }))
}
