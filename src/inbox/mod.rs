//! The inbox: where every received (or polled) event is stored before it is answered, and the
//! only code that reads or writes `inbox_events`. It sits below the webhook path, the pollers and the sync
//! engine, which all store or mark events through it.
//!
//! - [`Inbox`]: the webhook path's group commit (`store::group_commit`). SQLite has one writer:
//!   batching turns N fsync-bound commits into one, which is what makes thousands of durable
//!   events per second possible with a short answer latency.
//! - `insert`: the insert path, shared with the pollers, which call [`insert_events`] inside
//!   their own transaction; it enqueues each new event's `apply_event` job.
//! - `queries`: the statuses the jobs give their events, and the erasure's blanking.
//! - `reads`: the reads others need (listings, one event, the email scan, a side's newest event,
//!   the jobs' starting points), as named queries.

mod insert;
mod queries;
mod reads;

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tokio::sync::Notify;

use crate::events::InboundEvent;
use crate::ids::{EventId, TenantId};
use crate::store::group_commit::{Batch, GroupCommit, GroupCommitError};
use crate::store::{HotWriter, sqlite_write_turn};

use insert::insert_events_in;
pub use insert::{APPLY_EVENT, insert_events, job_for_event};
pub use queries::{
    blank_events_mentioning, set_event_status, set_events_status, status_counts_of_tenant,
};
pub use reads::{
    EventFilter, EventWithVersion, StoredEvent, events_with_version, find_event, newest_events,
    newest_received_at, normalized_mentioning,
};

/// Most events stored in one transaction.
const MAX_BATCH: usize = 512;
/// Requests waiting for the writer beyond this make senders wait (back pressure).
const QUEUE_CAPACITY: usize = 8_192;

/// Where a stored event stands, following the job that applies it; stored as its `as_str` in
/// `inbox_events.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventStatus {
    Received,
    Processed,
    Retrying,
    Dead,
}

impl EventStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Processed => "processed",
            Self::Retrying => "retrying",
            Self::Dead => "dead",
        }
    }
}

/// An event to store.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub tenant: TenantId,
    pub event: InboundEvent,
    /// What the sender sent, kept for the event log.
    pub payload: String,
    /// `Received` (a job applies it) or `Processed` (a log entry only: nothing to apply).
    pub status: EventStatus,
    /// The W3C `traceparent` of the request that received it (tracing export on only), handed
    /// to its job so the job's trace continues the request's.
    pub trace_parent: Option<String>,
}

impl NewEvent {
    /// An event for the sync engine to apply.
    pub fn received(tenant: TenantId, event: InboundEvent, payload: String) -> Self {
        Self {
            tenant,
            event,
            payload,
            status: EventStatus::Received,
            trace_parent: crate::telemetry::trace::current_traceparent(),
        }
    }

    /// An entry of the event log that needs no processing (a restored subscription, a skipped
    /// feed job).
    pub fn log_only(tenant: TenantId, event: InboundEvent, payload: String) -> Self {
        Self {
            tenant,
            event,
            payload,
            status: EventStatus::Processed,
            trace_parent: None,
        }
    }
}

/// Where an event went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// Stored now (and its job enqueued).
    New(EventId),
    /// Its delivery id was stored before: the existing event.
    Duplicate(EventId),
}

impl Stored {
    pub fn event_id(self) -> EventId {
        match self {
            Self::New(id) | Self::Duplicate(id) => id,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum InboxError {
    #[error("the event could not be stored: {0}")]
    Database(String),
    #[error("the inbox is shutting down")]
    Closed,
}

/// The webhook path's way in: events stored in shared transactions. Cheap to clone.
#[derive(Clone)]
pub struct Inbox {
    writer: GroupCommit<StoreEvents>,
    db: DatabaseConnection,
    wake: Arc<Notify>,
    max_attempts: u32,
}

impl Inbox {
    /// Starts the writer (needs a Tokio runtime): on SQLite a thread of its own, on PostgreSQL a
    /// task. It ends when every `Inbox` clone is dropped. `wake` is told after each commit: jobs
    /// were enqueued.
    pub fn spawn(db: DatabaseConnection, max_attempts: u32, wake: Arc<Notify>) -> Self {
        let writer = crate::store::hot_writer(&db);
        let on_own_thread = matches!(writer, HotWriter::Sqlite(_));
        let batch = StoreEvents {
            writer,
            max_attempts,
            wake: wake.clone(),
        };
        let writer = if on_own_thread {
            GroupCommit::spawn_on_own_thread("inbox-writer", batch, MAX_BATCH, QUEUE_CAPACITY)
        } else {
            GroupCommit::spawn(batch, MAX_BATCH, QUEUE_CAPACITY)
        };
        Self {
            writer,
            db,
            wake,
            max_attempts,
        }
    }

    /// Stores `event` durably; answers once its transaction committed.
    pub async fn store(&self, event: NewEvent) -> Result<Stored, InboxError> {
        self.writer
            .submit(event)
            .await
            .map_err(|error| match error {
                GroupCommitError::Database(error) => InboxError::Database(error),
                GroupCommitError::Closed => InboxError::Closed,
            })
    }
}

impl Inbox {
    /// Stores several events of one delivery in one transaction of their own (all or none);
    /// one event takes the group commit.
    pub async fn store_together(&self, events: Vec<NewEvent>) -> Result<Vec<Stored>, InboxError> {
        if let [event] = events.as_slice() {
            return self.store(event.clone()).await.map(|stored| vec![stored]);
        }
        let database = |error: DbErr| InboxError::Database(error.to_string());
        let stored = {
            let _turn = crate::store::write_turn(&self.db).await;
            let txn = self.db.begin().await.map_err(database)?;
            let stored = insert_events(&txn, &events, self.max_attempts)
                .await
                .map_err(database)?;
            txn.commit().await.map_err(database)?;
            stored
        };
        self.wake.notify_one();
        Ok(stored)
    }

    /// The store the inbox writes to (for the reads that go with a delivery).
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// One transaction of the webhook path: the events, and the jobs of the new ones.
struct StoreEvents {
    writer: HotWriter,
    max_attempts: u32,
    wake: Arc<Notify>,
}

impl Batch for StoreEvents {
    type Item = NewEvent;
    type Outcome = Stored;

    async fn commit(&self, events: &[NewEvent]) -> Result<Vec<Stored>, DbErr> {
        let stored = match &self.writer {
            HotWriter::Sqlite(writer) => {
                let _turn = sqlite_write_turn().await;
                writer
                    .transaction(|session| insert_events_in(session, events, self.max_attempts))?
            }
            HotWriter::Pool(db) => {
                let txn = db.begin().await?;
                let stored = insert_events(&txn, events, self.max_attempts).await?;
                txn.commit().await?;
                stored
            }
        };
        // Jobs were enqueued: this process's workers can start at once.
        self.wake.notify_one();
        Ok(stored)
    }

    fn after_answer(&self) {
        if let HotWriter::Sqlite(writer) = &self.writer {
            writer.checkpoint_if_due();
        }
    }

    fn failed_alone(&self, event: &NewEvent, error: &DbErr) {
        tracing::error!(
            error = %error,
            tenant = %event.tenant,
            delivery_id = %event.event.delivery_id,
            "cannot store an event"
        );
    }
}
