//! The background side of a process: the worker pool and the scheduler of polls and subscription
//! checks. `liaison serve` runs it next to HTTP (unless `--no-workers`), `liaison worker` alone.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::flows::ApplyEvent;
use super::partners::LivePartners;
use super::{APPLY_EVENT, Flows, Worker, state};
use crate::app::AppState;
use crate::ats::{Delivery, adapter_for};
use crate::tenant::{self, Tenant};

/// How often the scheduler looks for due polls.
const SCHEDULER_TICK: Duration = Duration::from_secs(1);
/// How often Gupy subscriptions are checked (Gupy drops a failing URL silently).
const SUBSCRIPTION_CHECK_MS: i64 = 3_600_000;

/// The flows this build of Liaison runs, wired to the live partners.
pub fn flows(state: &AppState) -> anyhow::Result<Flows> {
    let master_key = state
        .master_key
        .clone()
        .context("`master_key` is required to run workers")?;
    Ok(Flows::new().with(
        APPLY_EVENT,
        ApplyEvent::new(
            state.db.clone(),
            master_key,
            Arc::new(LivePartners::new(state.suite_clients.clone())),
        ),
    ))
}

pub fn worker(state: &AppState) -> anyhow::Result<Worker> {
    Ok(Worker::new(
        state.db.clone(),
        flows(state)?,
        state.settings.queue.clone(),
        state.settings.workers,
        state.wake.clone(),
    )
    .with_metrics(state.metrics.clone()))
}

/// Runs the workers and the scheduler until `shutdown`, then lets work in flight finish.
pub async fn run_background(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    let worker = worker(&state)?;
    let (health, db) = (state.health.clone(), state.db.clone());
    let scheduler = run_scheduler(state, shutdown.clone());
    tokio::join!(worker.run(shutdown), scheduler);
    // What the calls of the last seconds taught about the partners' health.
    if let Err(error) = health.flush(&db).await {
        tracing::warn!(error = %error, "cannot record connection health");
    }
    Ok(())
}

/// The poll interval of a tenant, when it polls at all: its configuration's, else its kind's.
pub fn poll_interval(tenant: &Tenant) -> Option<Duration> {
    let interval = match tenant.config.ats.poll_interval_s {
        Some(seconds) => Duration::from_secs(seconds),
        None => adapter_for(tenant.config.ats.kind).default_poll_interval()?,
    };
    (!interval.is_zero()).then_some(interval)
}

async fn run_scheduler(state: AppState, shutdown: CancellationToken) {
    let owner = format!(
        "pid{}/{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let Some(master_key) = state.master_key.clone() else {
        return;
    };
    while !shutdown.is_cancelled() {
        match tenant::list(&state.db).await {
            Ok(summaries) => {
                for summary in summaries {
                    if shutdown.is_cancelled() {
                        break;
                    }
                    match tenant::find(&state.db, &master_key, &summary.slug).await {
                        Ok(Some(tenant)) => run_due_tasks(&state, &tenant, &owner).await,
                        Ok(None) => {}
                        Err(error) => {
                            tracing::warn!(tenant = %summary.slug, error = format!("{error:#}"), "cannot load tenant")
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(error = format!("{error:#}"), "cannot list tenants"),
        }
        tokio::select! {
            _ = tokio::time::sleep(SCHEDULER_TICK) => {}
            _ = shutdown.cancelled() => {}
        }
    }
}

/// Polls and checks the tenant when they are due. The lease's expiry is the next due time, so
/// across all processes one of them runs each task once per interval.
async fn run_due_tasks(state: &AppState, tenant: &Tenant, owner: &str) {
    if let Some(interval) = poll_interval(tenant) {
        let ttl = interval.as_millis() as i64;
        if let Ok(true) = state::try_lease(&state.db, tenant.id, "poll", owner, ttl).await
            && let Err(error) = crate::ats::poll_once(state, tenant).await
        {
            tracing::warn!(tenant = %tenant.slug(), error = %error, "poll failed; nothing was changed");
        }
    }
    if adapter_for(tenant.config.ats.kind).delivery() == Delivery::Subscribed
        && let Ok(true) = state::try_lease(
            &state.db,
            tenant.id,
            "subscription_check",
            owner,
            SUBSCRIPTION_CHECK_MS,
        )
        .await
        && let Err(error) = crate::ats::check_subscriptions(state, tenant).await
    {
        tracing::warn!(tenant = %tenant.slug(), error = %error, "subscription check failed");
    }
}
