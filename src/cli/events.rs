//! `liaison events list --tenant T [--status S]` and `liaison events replay ID`.

use anyhow::Context as _;
use clap::Subcommand;

use super::{CliError, open_database};
use crate::config::Settings;
use crate::ids::EventId;
use crate::sync::{events_log, replay};
use crate::tenant;

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List a tenant's events, newest first.
    List {
        #[arg(long)]
        tenant: String,
        /// received, processed, retrying or dead.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u64,
        #[arg(long)]
        json: bool,
    },
    /// Put a failed or dead-lettered event's jobs back in the queue.
    Replay { id: String },
}

pub async fn run(settings: &Settings, command: EventsCommand) -> Result<(), CliError> {
    let db = open_database(settings).await?;
    match command {
        EventsCommand::List {
            tenant,
            status,
            limit,
            json,
        } => {
            let tenant = tenant::find_ref(&db, &tenant)
                .await?
                .ok_or_else(|| CliError::not_found(format!("unknown tenant `{tenant}`")))?;
            let page = events_log::list(&db, tenant.id, status.as_deref(), limit, None).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&page.data).context("cannot print JSON")?
                );
            } else {
                for event in page.data {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        event.id,
                        event.received_at,
                        event.source,
                        event.event_type,
                        event.status,
                        event.subject.unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        EventsCommand::Replay { id } => {
            let event: EventId = id
                .parse()
                .map_err(|_| CliError::usage(format!("`{id}` is not an event id")))?;
            // A failed `catch` of a script tenant runs again: that needs the tenant opened.
            let tenants = settings
                .require_master_key()
                .ok()
                .map(|key| crate::tenant::Directory::new(db.clone(), key));
            let outcome =
                replay::replay_event(&db, tenants.as_ref(), settings.queue.max_attempts, event)
                    .await?;
            match outcome {
                replay::ReplayOutcome::Recaught { events, new } => {
                    println!("{event}: catch ran again: {events} event(s), {new} new")
                }
                replay::ReplayOutcome::RecatchFailed(reason) => {
                    return Err(CliError::usage(format!(
                        "{event}: catch failed again: {reason}"
                    )));
                }
                replay::ReplayOutcome::Requeued(jobs) => {
                    println!("{event}: {jobs} job(s) back in the queue")
                }
                replay::ReplayOutcome::AlreadyQueued => {
                    println!("{event}: already queued, nothing to do")
                }
                replay::ReplayOutcome::NotFound => {
                    return Err(CliError::not_found(format!("no event {event}")));
                }
            }
            Ok(())
        }
    }
}
