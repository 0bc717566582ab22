//! `liaison migrate` and `liaison serve`.

use super::{CliError, open_database};
use crate::app::{App, shutdown_on_signal};
use crate::config::Settings;

pub async fn migrate(settings: &Settings) -> Result<(), CliError> {
    open_database(settings).await?;
    println!("migrations applied to {}", settings.database_url);
    Ok(())
}

pub async fn serve(settings: Settings, _with_workers: bool) -> Result<(), CliError> {
    settings.require_master_key()?;
    let app = App::build(settings).await?;
    app.run_until_stopped(shutdown_on_signal()).await?;
    Ok(())
}
