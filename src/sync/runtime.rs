//! The background side of a process: the worker pool and the scheduler of polls and subscription
//! checks. `liaison serve` runs it next to HTTP (unless `--no-workers`), `liaison worker` alone.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::flows::ApplyEvent;
use super::keys::LeaseName;
use super::partners::LivePartners;
use super::{APPLY_EVENT, Flows, Worker, state};
use crate::ats::{Delivery, Pollers, adapter_for};
use crate::config::QueueSettings;
use crate::health::HealthBook;
use crate::suite::SuiteClients;
use crate::telemetry::Metrics;
use crate::tenant::{Directory, Tenant};

/// How often the scheduler looks for due polls.
const SCHEDULER_TICK: Duration = Duration::from_secs(1);
/// How often Gupy subscriptions are checked (Gupy drops a failing URL silently).
const SUBSCRIPTION_CHECK_MS: i64 = 3_600_000;

/// What the background side of a process runs on: built from the process's parts, with the
/// tenant directory it cannot run without (the application state refuses to build one without a
/// master key, answering "`master_key` is required to run workers").
#[derive(Clone)]
pub struct Background {
    pub db: DatabaseConnection,
    /// The process's tenant directory (shared with the webhook path and the pages).
    pub tenants: Directory,
    pub queue: QueueSettings,
    /// How many workers run in this process.
    pub workers: usize,
    pub metrics: Arc<Metrics>,
    pub health: HealthBook,
    pub suite_clients: SuiteClients,
    /// What the scheduler's polls and subscription checks need.
    pub pollers: Pollers,
}

impl Background {
    /// Wakes this process's workers when work was just enqueued.
    pub fn wake(&self) -> Arc<Notify> {
        self.pollers.wake.clone()
    }
}

/// The flows this build of Liaison runs, wired to the live partners.
pub fn flows(background: &Background) -> Flows {
    let partners = Arc::new(LivePartners::new(
        background.suite_clients.clone(),
        background.pollers.ats_shared.clone(),
    ));
    let (db, tenants) = (background.db.clone(), background.tenants.clone());
    Flows::new()
        .with(
            APPLY_EVENT,
            ApplyEvent::new(db.clone(), tenants.clone(), partners.clone()),
        )
        .with(
            crate::orders::PLACE_ORDER,
            super::orders::PlaceOrder::new(db.clone(), tenants.clone(), partners),
        )
        .with(
            crate::orders::REPORT_ORDER,
            super::orders::ReportOrder::new(db, tenants),
        )
}

pub fn worker(background: &Background) -> Worker {
    Worker::new(
        background.db.clone(),
        flows(background),
        background.queue.clone(),
        background.workers,
        background.wake(),
    )
    .with_metrics(background.metrics.clone())
}

/// Runs the workers and the scheduler until `shutdown`, then lets work in flight finish.
pub async fn run_background(
    background: Background,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let worker = worker(&background);
    let (health, db) = (background.health.clone(), background.db.clone());
    let scheduler = run_scheduler(background, shutdown.clone());
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

async fn run_scheduler(state: Background, shutdown: CancellationToken) {
    let owner = format!(
        "pid{}/{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    while !shutdown.is_cancelled() {
        // The rows are read every tick; a tenant is opened again only when its row changed.
        match state.tenants.all().await {
            Ok(tenants) => {
                for (slug, opened) in tenants {
                    if shutdown.is_cancelled() {
                        break;
                    }
                    match opened {
                        Ok(tenant) => run_due_tasks(&state.pollers, &tenant, &owner).await,
                        Err(error) => {
                            tracing::warn!(tenant = %slug, error = format!("{error:#}"), "cannot load tenant")
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
async fn run_due_tasks(state: &Pollers, tenant: &Tenant, owner: &str) {
    if let Some(interval) = poll_interval(tenant) {
        let ttl = interval.as_millis() as i64;
        if let Ok(true) = state::try_lease(&state.db, tenant.id, LeaseName::Poll, owner, ttl).await
            && let Err(error) = crate::ats::poll_once(state, tenant).await
        {
            tracing::warn!(tenant = %tenant.slug(), error = %error, "poll failed; nothing was changed");
        }
    }
    if adapter_for(tenant.config.ats.kind).delivery() == Delivery::Subscribed
        && let Ok(true) = state::try_lease(
            &state.db,
            tenant.id,
            LeaseName::SubscriptionCheck,
            owner,
            SUBSCRIPTION_CHECK_MS,
        )
        .await
        && let Err(error) = crate::ats::check_subscriptions(state, tenant).await
    {
        tracing::warn!(tenant = %tenant.slug(), error = %error, "subscription check failed");
    }
}
