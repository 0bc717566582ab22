//! `liaison migrate`, `liaison serve` and `liaison worker`.

use std::net::SocketAddr;

use super::{CliError, open_database};
use crate::app::{self, App, shutdown_on_signal};
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
    let background = match with_workers {
        true => Some(app.state().background()?),
        false => None,
    }
    .map(|background| tokio::spawn(runtime::run_background(background, shutdown.clone())));
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
    crate::store::checkpoint::spawn(&db, &shutdown);
    let state = app::process_state(settings, db, shutdown.clone())?;
    let background = state.background()?;
    let health = match health_bind {
        Some(address) => Some(app::serve_health(state, address, shutdown.clone()).await?),
        None => None,
    };
    tracing::info!("liaison worker started");
    let outcome = runtime::run_background(background, shutdown.clone()).await;
    shutdown.cancel();
    if let Some(health) = health {
        health
            .await
            .map_err(|e| anyhow::anyhow!("the health listener stopped abnormally: {e}"))??;
    }
    outcome?;
    Ok(())
}
