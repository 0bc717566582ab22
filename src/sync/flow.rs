//! What a flow is to the worker: something that runs a claimed job and says whether it worked,
//! failed for now (retry later), or failed for good (dead letter).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::queue::ClaimedJob;

pub type FlowFuture<'a> = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send + 'a>>;

/// One kind of job. Implementations must be idempotent: a job can run again after a crash
/// between its effect and the queue's commit.
pub trait Flow: Send + Sync {
    fn run<'a>(&'a self, context: &'a JobContext) -> FlowFuture<'a>;
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

/// A running job and its notes for the execution log.
pub struct JobContext {
    pub job: ClaimedJob,
    calls: Mutex<Vec<String>>,
}

impl JobContext {
    pub fn new(job: ClaimedJob) -> Self {
        Self {
            job,
            calls: Mutex::new(Vec::new()),
        }
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
}
