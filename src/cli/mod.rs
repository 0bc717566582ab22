//! The command line of the contract. Each command prints its result on stdout and, on failure, one
//! line on stderr with a non-zero exit status: 1 failure, 2 invalid usage or configuration,
//! 3 not found, 4 conflict.

mod demo;
mod equivalence;
mod events;
mod master_key;
mod script;
mod serve;
mod sim;
mod tenant;
mod tenant_connect;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{LogFormat, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "liaison",
    version,
    about = "Connector between ATSs and a video-interview suite"
)]
pub struct Cli {
    /// Configuration file (default: liaison.toml when present).
    #[arg(long, global = true, env = "LIAISON_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations and exit.
    Migrate,
    /// Serve HTTP (webhooks, pages, admin API).
    Serve {
        /// Do not run sync workers in this process.
        #[arg(long)]
        no_workers: bool,
    },
    /// Sync workers and pollers only (scale-out).
    Worker {
        /// Also serve `/healthz`, `/readyz` and `/metrics` on this address (for orchestrators'
        /// probes and scraping); none by default.
        #[arg(long, value_name = "ADDR")]
        health_bind: Option<std::net::SocketAddr>,
    },
    /// Create, update and list tenants.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Read and edit the equivalence table.
    #[command(subcommand)]
    Equivalence(equivalence::EquivalenceCommand),
    /// The event log, and replay of failed events.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Run a partner simulator alone, for manual testing.
    #[command(subcommand)]
    Sim(sim::SimCommand),
    /// Generate, verify or rotate the master key that seals secrets at rest.
    #[command(subcommand)]
    MasterKey(master_key::MasterKeyCommand),
    /// Script adapters: run a script locally.
    #[command(subcommand)]
    Script(script::ScriptCommand),
    /// Liaison on an embedded SQLite file with both simulators, a seeded demo tenant and a
    /// short scenario; prints the URLs to open and serves until Ctrl-C.
    Demo(demo::DemoArgs),
}

/// A failed command: the one line to print and the exit status.
#[derive(Debug)]
pub struct CliError {
    pub status: u8,
    pub message: String,
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            status: 2,
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: 3,
            message: message.into(),
        }
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self {
            status: 4,
            message: message.into(),
        }
    }
}

impl From<anyhow::Error> for CliError {
    /// A configuration error anywhere in the chain (a bad TLS file, say) is invalid usage.
    fn from(error: anyhow::Error) -> Self {
        let configuration = error
            .chain()
            .any(|cause| cause.downcast_ref::<crate::config::ConfigError>().is_some());
        Self {
            status: if configuration { 2 } else { 1 },
            message: format!("{error:#}"),
        }
    }
}

impl From<sea_orm::DbErr> for CliError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self {
            status: 1,
            message: format!("database error: {error}"),
        }
    }
}

impl From<crate::config::ConfigError> for CliError {
    fn from(error: crate::config::ConfigError) -> Self {
        Self::usage(error.to_string())
    }
}

/// Parses the command line, runs the command and turns the outcome into an exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error.message.replace('\n', " "));
            ExitCode::from(error.status)
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(format) = cli.log_format {
        settings.log_format = format;
    }
    // Before any outbound client is built (they read it once).
    crate::outbound::install(settings.outbound);
    // The demo's progress lines are the show: only warnings and errors in between.
    let default_filter = match cli.command {
        Command::Demo(_) => "warn",
        _ => crate::telemetry::DEFAULT_LOG_FILTER,
    };
    // Held to the end: dropping it sends the spans still buffered.
    let _tracing =
        crate::telemetry::init_logging(settings.log_format, &settings.telemetry, default_filter);
    match cli.command {
        Command::Migrate => serve::migrate(&settings).await,
        Command::Serve { no_workers } => serve::serve(settings, !no_workers).await,
        Command::Worker { health_bind } => serve::worker(settings, health_bind).await,
        Command::Tenant(command) => tenant::run(&settings, command).await,
        Command::Equivalence(command) => equivalence::run(&settings, command).await,
        Command::Events(command) => events::run(&settings, command).await,
        Command::Sim(command) => sim::run(command).await,
        Command::MasterKey(command) => master_key::run(&settings, command).await,
        Command::Script(command) => script::run(command),
        Command::Demo(args) => demo::run(settings, args).await,
    }
}

/// Opens and migrates the configured database, for commands that work on it.
async fn open_database(settings: &Settings) -> Result<sea_orm::DatabaseConnection, CliError> {
    let db = crate::store::connect(&settings.database_url).await?;
    crate::store::migrate(&db).await?;
    Ok(db)
}
