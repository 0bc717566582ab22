//! `liaison migrate`, `liaison serve` and `liaison worker`.

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

/// Workers and the scheduler only: the scale-out process.
pub async fn worker(settings: Settings) -> Result<(), CliError> {
    settings.require_master_key()?;
    let db = open_database(&settings).await?;
    let state = AppState::build(settings, db)?;
    tracing::info!("liaison worker started");
    runtime::run_background(state, shutdown_on_signal()).await?;
    Ok(())
}
