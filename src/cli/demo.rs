//! `liaison demo`: see `crate::demo`. This file parses the options and prints what happens.

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::ExposeSecret as _;

use super::CliError;
use crate::app::shutdown_on_signal;
use crate::config::{DatabaseUrl, Settings};
use crate::demo::{self, DemoOptions, RunningDemo, SecretSource};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where Liaison listens (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The database (default: an SQLite file in --dir); a postgres:// URL works too.
    #[arg(long, env = "LIAISON_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where the demo keeps its database, generated master key and admin token, and certificate.
    #[arg(long, default_value = ".liaison")]
    pub dir: PathBuf,
    /// Serve HTTPS with a self-signed certificate (generated once, kept in --dir).
    #[arg(long)]
    pub tls: bool,
    /// Seed the tenant and serve, without playing the scenario.
    #[arg(long)]
    pub no_scenario: bool,
}

pub async fn run(settings: Settings, args: DemoArgs) -> Result<(), CliError> {
    let options = DemoOptions {
        bind: args.bind,
        database_url: args.database_url.map(DatabaseUrl),
        dir: args.dir,
        tls: args.tls,
    };
    println!("Starting the Liaison demo...");
    let mut running = demo::start(settings, options, shutdown_on_signal()).await?;
    print_setup(&running);
    let outcome = if args.no_scenario {
        None
    } else {
        println!("Playing the scenario (ATS simulator -> Liaison -> suite simulator and back):");
        match running.play(&mut |line| println!("  {line}")).await {
            Ok(outcome) => Some(outcome),
            Err(error) => {
                let _ = running.stop().await;
                return Err(error.context("the demo scenario did not finish").into());
            }
        }
    };
    print_links(&running, outcome.as_ref());
    running.stopped().await;
    println!("Stopping...");
    running.stop().await?;
    println!("Stopped.");
    Ok(())
}

fn print_setup(running: &RunningDemo) {
    // Addresses here; the pages to open are listed at the end.
    let address = |url: &str| {
        url.split_once("://")
            .map_or(url.to_owned(), |(_, a)| a.to_owned())
    };
    println!(
        "==> Liaison listening on {} ({})",
        address(&running.public_url),
        running.public_url.split(':').next().unwrap_or("http")
    );
    println!("==> database {}", running.database_url);
    println!(
        "==> ATS (Gupy) simulator on {}",
        address(&running.gupy_url())
    );
    println!("==> suite simulator on {}", address(&running.suite_url()));
    println!(
        "==> second tenant \"{}\" on the Greenhouse simulator at {} (POST /_sim/send_test \
         {{\"partner_test_id\", \"email\"}} sends an order; GET /_sim/state)",
        demo::greenhouse::TENANT,
        address(&running.greenhouse_url())
    );
    println!(
        "==> demo tenant \"{}\" seeded with generated secrets; {} webhook subscriptions registered \
         at the ATS and the suite",
        demo::seed::TENANT,
        running.subscriptions
    );
}

fn print_links(running: &RunningDemo, outcome: Option<&demo::scenario::ScenarioOutcome>) {
    let links = running.links(outcome);
    let width = links.iter().map(|l| l.label.len()).max().unwrap_or(0);
    println!();
    println!("Open:");
    for link in &links {
        println!("  {:width$}  {}", link.label, link.url);
    }
    println!();
    match running.admin_token_source {
        SecretSource::Generated => println!(
            "Admin token (console and /api/v1): {}  (kept in {})",
            running.admin_token.expose_secret(),
            running.files.path("admin.token").display()
        ),
        SecretSource::Configured => {
            println!("Admin token (console and /api/v1): the one you configured")
        }
    }
    if outcome.is_some() {
        println!(
            "Launch links above expire after 10 minutes; the ATS requisition page signs fresh ones on every load."
        );
    }
    if let Some(cert) = &running.certificate {
        println!(
            "HTTPS uses the self-signed certificate {}: open {}/healthz once and accept the \
             browser's warning, then the embedded pages load.",
            cert.display(),
            running.public_url
        );
    }
    println!("Serving until Ctrl-C.");
}
