//! What a flow is to the worker: something that runs a claimed job and says whether it worked,
//! failed for now (retry later), or failed for good (dead letter).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::state::{MadeWriteback, StateWrite};
use crate::ats::AdapterError;
use crate::equivalence::{EntityKind, MadeLink};
use crate::ids::JobId;
use crate::queue::ClaimedJob;

pub type FlowFuture<'a> = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send + 'a>>;

/// One kind of job. Implementations must be idempotent: a job can run again after a crash
/// between its effect and the queue's commit.
pub trait Flow: Send + Sync {
    fn run<'a>(&'a self, context: &'a JobContext) -> FlowFuture<'a>;

    /// Called with each claimed batch of this flow's jobs before they run, so that the flow can
    /// load what they need in a few queries rather than a few per job. Best effort: a job finds
    /// nothing prefetched (a failed query, a job run alone) and loads it itself.
    fn prefetch<'a>(
        &'a self,
        jobs: &'a [&'a ClaimedJob],
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        let _ = jobs;
        Box::pin(async {})
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying: an outage, a timeout, a rate limit.
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help: dead-letter the job with this reason.
    #[error("{message}")]
    Permanent { message: String },
}

impl JobError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent {
            message: message.into(),
        }
    }
}

/// A running job, its notes for the execution log, and what it settles if it succeeds.
pub struct JobContext {
    pub job: ClaimedJob,
    calls: Mutex<Vec<String>>,
    on_done: Mutex<OnDone>,
}

/// What a succeeded job settles in the transaction that marks it done.
#[derive(Debug, Default)]
pub struct OnDone {
    /// `sync_state` values to write.
    pub writes: Vec<StateWrite>,
    /// Jobs waiting behind this one whose work this one did: marked done without running.
    pub covered: Vec<JobId>,
    /// Idempotent write-backs made by the job, recorded as done.
    pub writebacks: Vec<MadeWriteback>,
    /// Equivalences the job made, written then.
    pub links: Vec<MadeLink>,
}

/// What the worker does with a failed partner call.
impl From<AdapterError> for JobError {
    fn from(error: AdapterError) -> Self {
        match error {
            AdapterError::RateLimited { retry_after } => JobError::Transient {
                message: "rate limited by the ATS".to_owned(),
                retry_after,
            },
            error if error.is_transient() => JobError::transient(error.to_string()),
            error => JobError::permanent(error.to_string()),
        }
    }
}

impl JobContext {
    pub fn new(job: ClaimedJob) -> Self {
        Self {
            job,
            calls: Mutex::new(Vec::new()),
            on_done: Mutex::new(OnDone::default()),
        }
    }

    fn settle(&self) -> std::sync::MutexGuard<'_, OnDone> {
        self.on_done.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets `key` of the job's tenant in `sync_state` when the job is marked done, in the same
    /// transaction. For values that only matter once the job's effects are complete (the
    /// applied version, the last written verdict): a retry after a failure recomputes them.
    pub fn put_state_when_done(&self, key: impl Into<String>, value: impl Into<String>) {
        let write = StateWrite {
            tenant: self.job.tenant,
            key: key.into(),
            value: value.into(),
        };
        self.settle().writes.push(write);
    }

    /// Records the idempotent write-back `key` (made on `ats_application_id`) as done when the
    /// job is marked done. A job that fails before then leaves no record, and its retry makes
    /// the write again, which an idempotent write allows.
    pub fn record_writeback_when_done(
        &self,
        key: impl Into<String>,
        ats_application_id: impl Into<String>,
        action: impl Into<String>,
    ) {
        let made = MadeWriteback {
            tenant: self.job.tenant,
            key: key.into(),
            ats_application_id: ats_application_id.into(),
            action: action.into(),
        };
        self.settle().writebacks.push(made);
    }

    /// Binds `ats_id` to `suite_id` when the job is marked done, in the same transaction: for a
    /// partner object the job made (or found) under an idempotency key, which a retry before
    /// then makes again and gets the same object. An existing binding to anything else stands
    /// (see `equivalence::link_made`).
    pub fn link_when_done(
        &self,
        kind: EntityKind,
        ats_id: impl Into<String>,
        suite_id: impl Into<String>,
    ) {
        let link = MadeLink {
            tenant: self.job.tenant,
            kind,
            ats_id: ats_id.into(),
            suite_id: suite_id.into(),
        };
        self.settle().links.push(link);
    }

    /// Marks `jobs` (pending, behind this one in its ordering key) done when this job is: its
    /// work answered their events too.
    pub fn cover_when_done(&self, jobs: impl IntoIterator<Item = JobId>) {
        self.settle().covered.extend(jobs);
    }

    pub fn take_on_done(&self) -> OnDone {
        std::mem::take(&mut *self.settle())
    }

    /// Notes a partner call for the execution log (`POST /v1/projects -> 201 (38 ms)`).
    pub fn note_call(&self, summary: impl Into<String>) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(summary.into());
        }
    }

    pub fn calls_summary(&self) -> Option<String> {
        let calls = self.calls.lock().ok()?;
        (!calls.is_empty()).then(|| calls.join("; "))
    }
}

/// Flows by name, as stored in `jobs.flow`.
#[derive(Clone, Default)]
pub struct Flows {
    by_name: HashMap<String, Arc<dyn Flow>>,
}

impl Flows {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, name: &str, flow: impl Flow + 'static) -> Self {
        self.by_name.insert(name.to_owned(), Arc::new(flow));
        self
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Flow>> {
        self.by_name.get(name).cloned()
    }

    /// Lets each flow prefetch for its jobs of a claimed batch.
    pub async fn prefetch(&self, batch: &[ClaimedJob]) {
        for (name, flow) in &self.by_name {
            let jobs: Vec<&ClaimedJob> = batch.iter().filter(|job| job.flow == *name).collect();
            if !jobs.is_empty() {
                flow.prefetch(&jobs).await;
            }
        }
    }
}
