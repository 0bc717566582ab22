//! The durable job queue, in the same database as everything else so that an event and the jobs
//! it causes are committed in one transaction.
//!
//! Life cycle: `pending` -> (claim) `running` with a lease -> `done`, or back to `pending` with a
//! backoff, or `dead` (a dead letter) when attempts run out or the failure is permanent. A lease
//! that expires (the worker crashed) makes the job claimable again. Jobs that share an
//! `ordering_key` (one entity) run one at a time, in the order they were enqueued.
//!
//! Why not a job-queue crate: see `docs/architecture.md` (enqueueing inside our own transaction
//! and per-key ordering decided it).

mod backoff;
mod claim;
mod complete;
mod insert;
mod outcome;
mod reads;
mod requeue;
mod waiting;

pub use backoff::retry_delay;
pub use claim::claim;
pub use complete::{COVERED, Completed, JOBS_PER_STATEMENT, Succeeded, complete_batch};
use insert::insert_job;
pub use insert::jobs_statement;
pub use outcome::AttemptOutcome;
pub use reads::{
    attempts_of_jobs, attempts_per_minute, attempts_per_minute_statement, jobs_of_event,
    status_counts_of_tenant,
};
pub use requeue::{
    dead_jobs_of_tenant, requeue_dead, requeue_dead_of_tenant, requeue_finished_of_event,
    status_counts_of_bulk_replay,
};
pub use waiting::{pending_after_of_event_types, pending_of_event_types};

use std::time::Duration;

use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;

use crate::ids::{EventId, JobId, TenantId};
use crate::store::entities::{job, job_attempt};
use crate::time::now_ms;

/// Where a job stands; stored as its `as_str` in `jobs.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobStatus {
    Pending,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub const ALL: [JobStatus; 4] = [Self::Pending, Self::Running, Self::Done, Self::Dead];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == stored)
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const PENDING: &str = JobStatus::Pending.as_str();
pub const RUNNING: &str = JobStatus::Running.as_str();
pub const DONE: &str = JobStatus::Done.as_str();
pub const DEAD: &str = JobStatus::Dead.as_str();

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub tenant: TenantId,
    pub event: Option<EventId>,
    pub flow: String,
    pub payload: serde_json::Value,
    /// Unique per tenant: enqueueing the same key twice is a no-op.
    pub idempotency_key: String,
    /// Jobs with the same key run one at a time, oldest first. Defaults to the idempotency key.
    pub ordering_key: Option<String>,
    /// Not before this time (ms); now when None.
    pub run_at: Option<i64>,
    pub max_attempts: u32,
}

/// A job a worker holds a lease on.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    pub id: JobId,
    pub tenant: TenantId,
    pub event: Option<EventId>,
    pub flow: String,
    pub payload: serde_json::Value,
    /// Attempts so far, this one included.
    pub attempt: u32,
    pub max_attempts: u32,
    pub idempotency_key: String,
    pub ordering_key: String,
    /// The lease token: only its holder may finish the job.
    pub lease_owner: String,
    /// The W3C `traceparent` of the request that enqueued it (tracing export on only).
    pub trace_parent: Option<String>,
}

/// Enqueues `job`, or does nothing when its idempotency key is already queued for the tenant.
/// Answers the new job's id, or None for a duplicate. Works inside a caller's transaction.
pub async fn enqueue(db: &impl ConnectionTrait, job: NewJob) -> Result<Option<JobId>, DbErr> {
    let trace_parent = crate::telemetry::trace::current_traceparent();
    insert_job(db, job, trace_parent, now_ms()).await
}

/// Marks a claimed job done. False when the lease was lost (another worker took it over).
pub async fn complete(db: &impl ConnectionTrait, job: &ClaimedJob) -> Result<bool, DbErr> {
    let result = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(DONE))
        .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            job::Column::LeaseExpiresAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(job::Column::LastError, Expr::value(Option::<String>::None))
        .col_expr(job::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(job::Column::Id.eq(job.id.0))
        .filter(job::Column::Status.eq(RUNNING))
        .filter(job::Column::LeaseOwner.eq(&job.lease_owner))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// What to do with a job whose attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Worth trying again (partner outage, timeout, rate limit). `not_before` lets a partner's
    /// `Retry-After` push the next attempt later than the backoff would.
    Transient { not_before: Option<i64> },
    /// Trying again cannot help: dead-letter now.
    Permanent,
}

/// Where a failed job went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOutcome {
    RetryAt(i64),
    DeadLettered,
    /// The lease had been lost: another worker owns the job now, nothing was changed.
    LeaseLost,
}

/// Records a failed attempt: back to `pending` after a backoff, or `dead` when attempts are spent
/// or the failure is permanent.
pub async fn fail(
    db: &impl ConnectionTrait,
    job: &ClaimedJob,
    failure: Failure,
    error: &str,
    backoff: &BackoffPolicy,
) -> Result<FailOutcome, DbErr> {
    let now = now_ms();
    let exhausted = job.attempt >= job.max_attempts;
    let outcome = match failure {
        Failure::Transient { not_before } if !exhausted => {
            let delay = retry_delay(job.attempt, backoff.base, backoff.max, rand::random());
            let at = (now + delay.as_millis() as i64).max(not_before.unwrap_or(0));
            FailOutcome::RetryAt(at)
        }
        _ => FailOutcome::DeadLettered,
    };
    let (status, run_at) = match outcome {
        FailOutcome::RetryAt(at) => (PENDING, at),
        _ => (DEAD, now),
    };
    let result = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(status))
        .col_expr(job::Column::RunAt, Expr::value(run_at))
        .col_expr(job::Column::LastError, Expr::value(truncate(error, 2_000)))
        .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            job::Column::LeaseExpiresAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(job.id.0))
        .filter(job::Column::Status.eq(RUNNING))
        .filter(job::Column::LeaseOwner.eq(&job.lease_owner))
        .exec(db)
        .await?;
    if result.rows_affected == 1 {
        Ok(outcome)
    } else {
        Ok(FailOutcome::LeaseLost)
    }
}

/// Retry delays for `fail`.
#[derive(Clone, Copy, Debug)]
pub struct BackoffPolicy {
    pub base: Duration,
    pub max: Duration,
}

impl From<&crate::config::QueueSettings> for BackoffPolicy {
    fn from(settings: &crate::config::QueueSettings) -> Self {
        Self {
            base: Duration::from_millis(settings.base_backoff_ms),
            max: Duration::from_secs(settings.max_backoff_seconds),
        }
    }
}

/// One row of the execution log.
#[derive(Clone, Debug)]
pub struct AttemptRecord<'a> {
    pub job: &'a ClaimedJob,
    pub started_at: i64,
    pub duration: Duration,
    pub outcome: AttemptOutcome,
    pub call: Option<String>,
    pub error: Option<String>,
}

pub async fn record_attempt(
    db: &impl ConnectionTrait,
    record: AttemptRecord<'_>,
) -> Result<(), DbErr> {
    job_attempt::ActiveModel {
        tenant_id: Set(record.job.tenant.0),
        job_id: Set(record.job.id.0),
        attempt: Set(record.job.attempt as i32),
        started_at: Set(record.started_at),
        duration_ms: Set(record.duration.as_millis() as i64),
        outcome: Set(record.outcome.as_str().to_owned()),
        call: Set(record.call),
        error: Set(record.error.map(|e| truncate(&e, 2_000))),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Depth {
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub dead: i64,
}

impl Depth {
    /// Sets the count of `status`.
    pub fn set(&mut self, status: JobStatus, count: i64) {
        match status {
            JobStatus::Pending => self.pending = count,
            JobStatus::Running => self.running = count,
            JobStatus::Done => self.done = count,
            JobStatus::Dead => self.dead = count,
        }
    }

    /// Each status with its count, in `JobStatus::ALL` order.
    pub fn counts(&self) -> [(JobStatus, i64); 4] {
        [
            (JobStatus::Pending, self.pending),
            (JobStatus::Running, self.running),
            (JobStatus::Done, self.done),
            (JobStatus::Dead, self.dead),
        ]
    }
}

/// Jobs by status, across tenants (for `/metrics` and the console).
pub async fn depth(db: &impl ConnectionTrait) -> Result<Depth, DbErr> {
    let counts: Vec<(String, i64)> = job::Entity::find()
        .select_only()
        .column(job::Column::Status)
        .column_as(job::Column::Id.count(), "count")
        .group_by(job::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut depth = Depth::default();
    for (status, count) in counts {
        if let Some(status) = JobStatus::parse(&status) {
            depth.set(status, count);
        }
    }
    Ok(depth)
}

/// Jobs by tenant and status (for the console's per-tenant depth).
pub async fn depth_by_tenant(
    db: &impl ConnectionTrait,
) -> Result<Vec<(TenantId, JobStatus, i64)>, DbErr> {
    let rows: Vec<(i64, String, i64)> = job::Entity::find()
        .select_only()
        .column(job::Column::TenantId)
        .column(job::Column::Status)
        .column_as(job::Column::Id.count(), "count")
        .group_by(job::Column::TenantId)
        .group_by(job::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(tenant, status, count)| {
            JobStatus::parse(&status).map(|status| (TenantId(tenant), status, count))
        })
        .collect())
}

/// Pending jobs waiting for a retry time after `now`.
pub async fn scheduled_retries(db: &impl ConnectionTrait, now: i64) -> Result<i64, DbErr> {
    Ok(job::Entity::find()
        .select_only()
        .column_as(job::Column::Id.count(), "count")
        .filter(job::Column::Status.eq(PENDING))
        .filter(job::Column::RunAt.gt(now))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0))
}

/// The most recently updated dead jobs (of one tenant, or all), at most `limit`, newest first
/// (by `updated_at`, then id). `after` is the (`updated_at`, id) of the previous page's last
/// row: the page goes on after it, so every dead job is reached page by page.
pub async fn dead_letters(
    db: &impl ConnectionTrait,
    tenant: Option<TenantId>,
    after: Option<(i64, i64)>,
    limit: u64,
) -> Result<Vec<job::Model>, DbErr> {
    let mut query = job::Entity::find().filter(job::Column::Status.eq(DEAD));
    if let Some(tenant) = tenant {
        query = query.filter(job::Column::TenantId.eq(tenant.0));
    }
    if let Some((updated_at, id)) = after {
        query = query.filter(
            Condition::any()
                .add(job::Column::UpdatedAt.lt(updated_at))
                .add(
                    Condition::all()
                        .add(job::Column::UpdatedAt.eq(updated_at))
                        .add(job::Column::Id.lt(id)),
                ),
        );
    }
    query
        .order_by_desc(job::Column::UpdatedAt)
        .order_by_desc(job::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// When the oldest pending job became due (`run_at`), among those due by `now`: a range read of
/// the claim index (`status`, `run_at`).
pub async fn oldest_due_pending(db: &impl ConnectionTrait, now: i64) -> Result<Option<i64>, DbErr> {
    let oldest: Option<Option<i64>> = job::Entity::find()
        .select_only()
        .column_as(job::Column::RunAt.min(), "oldest")
        .filter(job::Column::Status.eq(PENDING))
        .filter(job::Column::RunAt.lte(now))
        .into_tuple()
        .one(db)
        .await?;
    Ok(oldest.flatten())
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
