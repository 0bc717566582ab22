//! The worker: claims due jobs, runs them through their flow with bounded concurrency, and records
//! every attempt. Crash-safe by construction: a job is only `done` once its flow returned, and a
//! worker that dies leaves leases that expire and hand the job to another worker.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::completions::Completions;
use super::flow::{Flows, JobContext, JobError};
use crate::config::QueueSettings;
use crate::inbox::{self, EventStatus};
use crate::queue::{
    self, AttemptOutcome, AttemptRecord, BackoffPolicy, ClaimedJob, FailOutcome, Failure, Succeeded,
};
use crate::telemetry::Metrics;
use crate::telemetry::trace::continue_trace;
use crate::time::now_ms;

#[derive(Clone)]
pub struct Worker {
    db: DatabaseConnection,
    flows: Arc<Flows>,
    settings: QueueSettings,
    concurrency: usize,
    /// Who we are in lease tokens: host and process, so an operator can tell workers apart.
    identity: String,
    /// Woken by in-process enqueues, so new work starts without waiting for the idle poll.
    wake: Arc<Notify>,
    /// Job counts and durations (none in tests that build a bare worker).
    metrics: Option<Arc<Metrics>>,
    /// Succeeded jobs are marked done in shared transactions.
    completions: Completions,
}

impl Worker {
    pub fn new(
        db: DatabaseConnection,
        flows: Flows,
        settings: QueueSettings,
        concurrency: usize,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            completions: Completions::spawn(db.clone()),
            db,
            flows: Arc::new(flows),
            settings,
            concurrency: concurrency.max(1),
            identity: format!("pid{}", std::process::id()),
            wake,
            metrics: None,
        }
    }

    /// Records every finished attempt in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn lease(&self) -> Duration {
        Duration::from_secs(self.settings.lease_seconds)
    }

    fn owner_token(&self) -> String {
        format!("{}/{}", self.identity, uuid::Uuid::new_v4().simple())
    }

    /// Runs until `shutdown`, then waits for the jobs in flight to finish.
    pub async fn run(self, shutdown: CancellationToken) {
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let mut running = JoinSet::new();
        let idle = Duration::from_millis(self.settings.idle_poll_ms.max(10));
        // A claim reads the whole due part of the queue: while jobs are running, wait until a
        // fair share of the executors is free rather than claiming one job at a time.
        let worth_claiming = (self.concurrency / 8).max(1);
        tracing::info!(concurrency = self.concurrency, "worker started");
        while !shutdown.is_cancelled() {
            while running.try_join_next().is_some() {}
            let free = permits.available_permits();
            if free == 0 || (free < worth_claiming && !running.is_empty()) {
                tokio::select! {
                    _ = running.join_next() => {}
                    _ = shutdown.cancelled() => break,
                }
                continue;
            }
            let batch = match queue::claim(&self.db, &self.owner_token(), self.lease(), free as u64)
                .await
            {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::warn!(error = %error, "cannot claim jobs; retrying");
                    Vec::new()
                }
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = self.wake.notified() => {}
                    _ = shutdown.cancelled() => break,
                }
                continue;
            }
            self.flows.prefetch(&batch).await;
            for job in batch {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let worker = self.clone();
                running.spawn(async move {
                    worker.execute(job).await;
                    drop(permit);
                });
            }
        }
        tracing::info!(
            in_flight = running.len(),
            "worker stopping: finishing jobs in flight"
        );
        while running.join_next().await.is_some() {}
    }

    /// Claims and runs one batch to completion. Answers how many jobs ran (0: nothing was due).
    pub async fn run_once(&self) -> Result<usize, sea_orm::DbErr> {
        let batch = queue::claim(
            &self.db,
            &self.owner_token(),
            self.lease(),
            self.concurrency as u64,
        )
        .await?;
        let count = batch.len();
        self.flows.prefetch(&batch).await;
        let mut running = JoinSet::new();
        for job in batch {
            let worker = self.clone();
            running.spawn(async move { worker.execute(job).await });
        }
        while running.join_next().await.is_some() {}
        Ok(count)
    }

    /// Runs jobs until none is due: what tests use instead of sleeping.
    pub async fn drain(&self) -> Result<usize, sea_orm::DbErr> {
        let mut total = 0;
        loop {
            match self.run_once().await? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }

    /// Runs one job in its span, which continues the trace of the request that enqueued it.
    async fn execute(&self, job: ClaimedJob) {
        let span = tracing::info_span!(
            "job",
            job = %job.id,
            flow = %job.flow,
            tenant = job.tenant.0,
            attempt = job.attempt,
        );
        continue_trace(&span, job.trace_parent.as_deref());
        self.run_job(job).instrument(span).await
    }

    async fn run_job(&self, job: ClaimedJob) {
        let started_at = now_ms();
        let clock = Instant::now();
        let context = JobContext::new(job);
        let result = match self.flows.get(&context.job.flow) {
            Some(flow) => AssertUnwindSafe(flow.run(&context))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(JobError::transient("the flow panicked"))),
            None => Err(JobError::permanent(format!(
                "no flow named `{}`",
                context.job.flow
            ))),
        };
        if result.is_ok() {
            let call = context.calls_summary();
            let on_done = context.take_on_done();
            let (flow, attempt) = (context.job.flow.clone(), context.job.attempt);
            let succeeded = Succeeded {
                job: context.job,
                started_at,
                duration: clock.elapsed(),
                call,
            };
            let outcome = self.completions.complete(succeeded, on_done).await;
            let outcome = match outcome {
                Ok(true) => {
                    tracing::debug!("job finished");
                    AttemptOutcome::Succeeded
                }
                Ok(false) => {
                    tracing::debug!("job finished, but its lease was lost");
                    AttemptOutcome::LeaseLost
                }
                Err(error) => {
                    tracing::warn!(error = %error, "cannot mark job done; it will run again");
                    AttemptOutcome::Unrecorded
                }
            };
            if let Some(metrics) = &self.metrics {
                metrics.record_job(&flow, outcome, attempt, clock.elapsed());
            }
            return;
        }
        let job = &context.job;
        let (outcome, error) = match &result {
            Ok(()) => return,
            Err(failure) => {
                let kind = match failure {
                    JobError::Transient { retry_after, .. } => Failure::Transient {
                        not_before: retry_after.map(|d| now_ms() + d.as_millis() as i64),
                    },
                    JobError::Permanent { .. } => Failure::Permanent,
                };
                let message = failure.to_string();
                match queue::fail(
                    &self.db,
                    job,
                    kind,
                    &message,
                    &BackoffPolicy::from(&self.settings),
                )
                .await
                {
                    Ok(FailOutcome::RetryAt(_)) => (AttemptOutcome::Retrying, Some(message)),
                    Ok(FailOutcome::DeadLettered) => (AttemptOutcome::Dead, Some(message)),
                    Ok(FailOutcome::LeaseLost) => (AttemptOutcome::LeaseLost, Some(message)),
                    Err(error) => {
                        tracing::warn!(error = %error, "cannot record job failure");
                        (AttemptOutcome::Unrecorded, Some(message))
                    }
                }
            }
        };
        match outcome {
            AttemptOutcome::Dead => {
                tracing::warn!(error = error.as_deref().unwrap_or(""), "job dead-lettered")
            }
            AttemptOutcome::Retrying => tracing::info!(
                error = error.as_deref().unwrap_or(""),
                "job will be retried"
            ),
            _ => tracing::debug!(outcome = outcome.as_str(), "job finished"),
        }
        if let Some(metrics) = &self.metrics {
            metrics.record_job(&job.flow, outcome, job.attempt, clock.elapsed());
        }
        let record = AttemptRecord {
            job,
            started_at,
            duration: clock.elapsed(),
            outcome,
            call: context.calls_summary(),
            error,
        };
        if let Err(error) = queue::record_attempt(&self.db, record).await {
            tracing::warn!(error = %error, "cannot write the execution log");
        }
        if let Some(event) = job.event {
            let status = match outcome {
                AttemptOutcome::Succeeded => EventStatus::Processed,
                AttemptOutcome::Retrying => EventStatus::Retrying,
                AttemptOutcome::Dead => EventStatus::Dead,
                _ => return,
            };
            let update = inbox::set_event_status(&self.db, event, status).await;
            if let Err(error) = update {
                tracing::warn!(error = %error, "cannot update the event's status");
            }
        }
    }
}
