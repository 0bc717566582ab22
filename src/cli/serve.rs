//! `liaison migrate`, `liaison serve` and `liaison worker`.

use std::net::SocketAddr;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{CliError, open_database};
use crate::app::{App, AppState, shutdown_on_signal};
use crate::config::Settings;
use crate::sync::runtime;

pub async fn migrate(settings: &Settings) -> Result<(), CliError> {
    open_database(settings).await?;
    println!("migrations applied to {}", settings.database_url);
    Ok(())
}

/// HTTP, plus the workers and the scheduler unless `--no-workers`.
pub async fn serve(settings: Settings, with_workers: bool) -> Result<(), CliError> {
    settings.require_master_key()?;
    let app = App::build(settings).await?;
    let shutdown = shutdown_on_signal();
    let background = with_workers.then(|| {
        let state = app.state().clone();
        tokio::spawn(runtime::run_background(state, shutdown.clone()))
    });
    app.run_until_stopped(shutdown.clone()).await?;
    if let Some(background) = background {
        shutdown.cancel();
        background
            .await
            .map_err(|e| anyhow::anyhow!("the workers stopped abnormally: {e}"))??;
    }
    Ok(())
}

/// Workers and the scheduler only: the scale-out process. With `health_bind`, it also answers
/// the health probes and serves its metrics (a contract extension, for orchestrators).
pub async fn worker(settings: Settings, health_bind: Option<SocketAddr>) -> Result<(), CliError> {
    settings.require_master_key()?;
    let db = open_database(&settings).await?;
    let shutdown = shutdown_on_signal();
    let state = AppState {
        shutdown: shutdown.clone(),
        ..AppState::build(settings, db)?
    };
    let health = match health_bind {
        Some(address) => Some(serve_health(state.clone(), address, shutdown.clone()).await?),
        None => None,
    };
    tracing::info!("liaison worker started");
    let outcome = runtime::run_background(state, shutdown.clone()).await;
    shutdown.cancel();
    if let Some(health) = health {
        health
            .await
            .map_err(|e| anyhow::anyhow!("the health listener stopped abnormally: {e}"))??;
    }
    outcome?;
    Ok(())
}

async fn serve_health(
    state: AppState,
    address: SocketAddr,
    shutdown: CancellationToken,
) -> Result<JoinHandle<anyhow::Result<()>>, CliError> {
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} for health checks"))?;
    tracing::info!(address = %listener.local_addr().unwrap_or(address), "health listener up");
    let router = crate::http::health_router(state);
    Ok(tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
            .context("health listener failed")
    }))
}
