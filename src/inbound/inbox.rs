//! The inbox: where every received (or polled) event is stored before it is answered.
//!
//! **Group commit.** One writer task owns a channel; each request sends its event with a oneshot
//! and waits. The writer takes whatever is queued (up to `MAX_BATCH`), stores it in ONE
//! transaction (events inserted with `ON CONFLICT DO NOTHING` on `uq_inbox_delivery`, plus one
//! `apply_event` job per new event), commits, and only then answers each waiter. SQLite has one
//! writer: batching turns N fsync-bound commits into one, which is what makes thousands of
//! durable events per second possible with a short answer latency. If a batch fails, each item is
//! retried in its own transaction, so that one bad item cannot fail the others.
//!
//! Pollers call [`insert_events`] inside their own transaction (the feed snapshot and the events
//! it produces commit together), which is the same insert path.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, QueryTrait, Set, TransactionTrait,
};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::events::InboundEvent;
use crate::ids::{EventId, TenantId};
use crate::store::entities::{inbox_event, job};
use crate::sync::{self, event_status};
use crate::time::now_ms;

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

/// Sets the status of one stored event (the job that applies it went on or ended).
pub async fn set_event_status(
    db: &impl ConnectionTrait,
    event: EventId,
    status: EventStatus,
) -> Result<(), DbErr> {
    inbox_event::Entity::update_many()
        .col_expr(inbox_event::Column::Status, Expr::value(status.as_str()))
        .filter(inbox_event::Column::Id.eq(event.0))
        .exec(db)
        .await
        .map(|_| ())
}

/// Sets the status of the stored events `events` in one statement (the caller bounds the
/// slice); no statement for none.
pub async fn set_events_status(
    db: &impl ConnectionTrait,
    events: &[EventId],
    status: EventStatus,
) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    inbox_event::Entity::update_many()
        .col_expr(inbox_event::Column::Status, Expr::value(status.as_str()))
        .filter(inbox_event::Column::Id.is_in(events.iter().map(|event| event.0)))
        .exec(db)
        .await
        .map(|_| ())
}

/// A tenant's stored events by status (any status, as stored).
pub async fn status_counts_of_tenant(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<(String, i64)>, DbErr> {
    inbox_event::Entity::find()
        .select_only()
        .column(inbox_event::Column::Status)
        .column_as(inbox_event::Column::Id.count(), "count")
        .filter(inbox_event::Column::TenantId.eq(tenant.0))
        .group_by(inbox_event::Column::Status)
        .into_tuple()
        .all(db)
        .await
}

/// Blanks the stored payloads of a tenant's events whose normalised JSON contains any of
/// `needles` (an erasure), answering how many were blanked. `needles` must not be empty.
pub async fn blank_events_mentioning(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    needles: &[String],
) -> Result<u64, DbErr> {
    let mut matches = inbox_event::Column::Normalized.contains(&needles[0]);
    for needle in &needles[1..] {
        matches = matches.or(inbox_event::Column::Normalized.contains(needle));
    }
    let blanked = inbox_event::Entity::update_many()
        .col_expr(
            inbox_event::Column::Payload,
            Expr::value(r#"{"erased":true}"#),
        )
        .col_expr(
            inbox_event::Column::Normalized,
            Expr::value(r#"{"erased":true}"#),
        )
        .filter(inbox_event::Column::TenantId.eq(tenant.0))
        .filter(matches)
        .exec(db)
        .await?;
    Ok(blanked.rows_affected)
}

/// Most events stored in one transaction.
pub const MAX_BATCH: usize = 512;
/// Requests waiting for the writer beyond this make senders wait (back pressure).
const QUEUE_CAPACITY: usize = 8_192;
/// Rows per INSERT statement (well under both back ends' bound-parameter limits).
const ROWS_PER_STATEMENT: usize = 200;

/// An event to store.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub tenant: TenantId,
    pub event: InboundEvent,
    /// What the sender sent, kept for the event log.
    pub payload: String,
    /// `received` (a job applies it) or `processed` (a log entry only: nothing to apply).
    pub status: &'static str,
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
            status: event_status::RECEIVED,
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
            status: event_status::PROCESSED,
            trace_parent: None,
        }
    }

    fn key(&self) -> DeliveryKey {
        (
            self.tenant.0,
            self.event.source.as_str().to_owned(),
            self.event.delivery_id.clone(),
        )
    }
}

type DeliveryKey = (i64, String, String);

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

struct Request {
    event: NewEvent,
    reply: oneshot::Sender<Result<Stored, InboxError>>,
}

/// The sending side of the group-commit writer. Cheap to clone.
#[derive(Clone)]
pub struct Inbox {
    sender: mpsc::Sender<Request>,
}

impl Inbox {
    /// Starts the writer task; it ends when every `Inbox` clone is dropped.
    pub fn spawn(db: DatabaseConnection, max_attempts: u32, wake: Arc<Notify>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run_writer(db, receiver, max_attempts, wake));
        Self { sender }
    }

    /// Stores `event` durably; answers once its transaction committed.
    pub async fn store(&self, event: NewEvent) -> Result<Stored, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Request { event, reply })
            .await
            .map_err(|_| InboxError::Closed)?;
        answer.await.map_err(|_| InboxError::Closed)?
    }
}

async fn run_writer(
    db: DatabaseConnection,
    mut receiver: mpsc::Receiver<Request>,
    max_attempts: u32,
    wake: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        commit_batch(&db, std::mem::take(&mut batch), max_attempts).await;
        // Jobs were enqueued: this process's workers can start at once.
        wake.notify_one();
    }
}

async fn commit_batch(db: &DatabaseConnection, batch: Vec<Request>, max_attempts: u32) {
    let (events, replies): (Vec<NewEvent>, Vec<_>) =
        batch.into_iter().map(|r| (r.event, r.reply)).unzip();
    match store_in_transaction(db, &events, max_attempts).await {
        Ok(stored) => {
            for (reply, outcome) in replies.into_iter().zip(stored) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(error) => {
            tracing::warn!(error = %error, size = events.len(), "batch failed; storing one by one");
            for (event, reply) in events.into_iter().zip(replies) {
                let outcome = store_in_transaction(db, std::slice::from_ref(&event), max_attempts)
                    .await
                    .map_err(|e| InboxError::Database(e.to_string()))
                    .and_then(|mut stored| stored.pop().ok_or(InboxError::Closed));
                if let Err(error) = &outcome {
                    tracing::error!(
                        error = %error,
                        tenant = %event.tenant,
                        delivery_id = %event.event.delivery_id,
                        "cannot store an event"
                    );
                }
                let _ = reply.send(outcome);
            }
        }
    }
}

async fn store_in_transaction(
    db: &DatabaseConnection,
    events: &[NewEvent],
    max_attempts: u32,
) -> Result<Vec<Stored>, DbErr> {
    let _turn = crate::store::write_turn(db).await;
    let txn = db.begin().await?;
    let stored = insert_events(&txn, events, max_attempts).await?;
    txn.commit().await?;
    Ok(stored)
}

/// Inserts `events` (skipping delivery ids already stored) and enqueues one `apply_event` job
/// per new `received` event, on `db` (a caller's transaction). Answers one outcome per event, in
/// order; an event repeated within `events` is a duplicate of its first occurrence.
pub async fn insert_events(
    db: &impl ConnectionTrait,
    events: &[NewEvent],
    max_attempts: u32,
) -> Result<Vec<Stored>, DbErr> {
    let mut outcomes = Vec::with_capacity(events.len());
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        outcomes.extend(insert_chunk(db, chunk, max_attempts).await?);
    }
    Ok(outcomes)
}

/// The key of a stored event, as the insert answers it.
#[derive(FromQueryResult)]
struct InsertedEvent {
    id: i64,
    tenant_id: i64,
    source: String,
    delivery_id: String,
}

async fn insert_chunk(
    db: &impl ConnectionTrait,
    events: &[NewEvent],
    max_attempts: u32,
) -> Result<Vec<Stored>, DbErr> {
    let now = now_ms();
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        rows.push(inbox_row(event, now)?);
    }
    // Only the keys come back: the payloads are large, and the caller has them.
    let mut insert = inbox_event::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([
            inbox_event::Column::TenantId,
            inbox_event::Column::Source,
            inbox_event::Column::DeliveryId,
        ])
        .into_query();
    insert.returning(Query::returning().columns([
        inbox_event::Column::Id,
        inbox_event::Column::TenantId,
        inbox_event::Column::Source,
        inbox_event::Column::DeliveryId,
    ]));
    let statement = db.get_database_backend().build(&insert);
    let mut fresh: HashMap<DeliveryKey, i64> = InsertedEvent::find_by_statement(statement)
        .all(db)
        .await?
        .into_iter()
        .map(|row| ((row.tenant_id, row.source, row.delivery_id), row.id))
        .collect();

    // First occurrence of a fresh key is new; later ones, and keys stored before, are duplicates.
    let mut taken: HashMap<DeliveryKey, i64> = HashMap::new();
    let mut outcomes: Vec<Option<Stored>> = Vec::with_capacity(events.len());
    let mut unknown = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let key = event.key();
        if let Some(id) = fresh.remove(&key) {
            taken.insert(key, id);
            outcomes.push(Some(Stored::New(EventId(id))));
        } else if let Some(id) = taken.get(&key) {
            outcomes.push(Some(Stored::Duplicate(EventId(*id))));
        } else {
            unknown.push(index);
            outcomes.push(None);
        }
    }
    if !unknown.is_empty() {
        let existing = find_existing(db, unknown.iter().map(|&i| &events[i])).await?;
        for index in unknown {
            let id = existing
                .get(&events[index].key())
                .copied()
                .ok_or_else(|| DbErr::Custom("a conflicting event vanished".to_owned()))?;
            outcomes[index] = Some(Stored::Duplicate(EventId(id)));
        }
    }
    let outcomes: Vec<Stored> = outcomes.into_iter().flatten().collect();

    let jobs: Vec<job::ActiveModel> = events
        .iter()
        .zip(&outcomes)
        .filter(|(event, _)| event.status == event_status::RECEIVED)
        .filter_map(|(event, outcome)| match outcome {
            Stored::New(id) => Some(job_row(event, *id, max_attempts, now)),
            Stored::Duplicate(_) => None,
        })
        .collect();
    if !jobs.is_empty() {
        job::Entity::insert_many(jobs)
            .on_conflict_do_nothing_on([job::Column::TenantId, job::Column::IdempotencyKey])
            .exec_without_returning(db)
            .await?;
    }
    Ok(outcomes)
}

fn inbox_row(event: &NewEvent, now: i64) -> Result<inbox_event::ActiveModel, DbErr> {
    let normalized = serde_json::to_string(&event.event).map_err(|e| DbErr::Json(e.to_string()))?;
    Ok(inbox_event::ActiveModel {
        tenant_id: Set(event.tenant.0),
        source: Set(event.event.source.as_str().to_owned()),
        delivery_id: Set(event.event.delivery_id.clone()),
        event_type: Set(event.event.partner_type.clone()),
        subject: Set(event.event.subject()),
        occurred_at: Set(event.event.occurred_at),
        status: Set(event.status.to_owned()),
        payload: Set(event.payload.clone()),
        normalized: Set(normalized),
        received_at: Set(now),
        ..Default::default()
    })
}

/// The `apply_event` job of `sync::job_for_event`, as a row (inserted in bulk).
fn job_row(event: &NewEvent, id: EventId, max_attempts: u32, now: i64) -> job::ActiveModel {
    sync::job_for_event(event.tenant, id, &event.event, max_attempts)
        .into_row(now, event.trace_parent.clone())
}

async fn find_existing<'a>(
    db: &impl ConnectionTrait,
    events: impl Iterator<Item = &'a NewEvent>,
) -> Result<HashMap<DeliveryKey, i64>, DbErr> {
    let mut any = Condition::any();
    for event in events {
        any = any.add(
            Condition::all()
                .add(inbox_event::Column::TenantId.eq(event.tenant.0))
                .add(inbox_event::Column::Source.eq(event.event.source.as_str()))
                .add(inbox_event::Column::DeliveryId.eq(event.event.delivery_id.as_str())),
        );
    }
    let rows: Vec<(i64, i64, String, String)> = inbox_event::Entity::find()
        .select_only()
        .column(inbox_event::Column::Id)
        .column(inbox_event::Column::TenantId)
        .column(inbox_event::Column::Source)
        .column(inbox_event::Column::DeliveryId)
        .filter(any)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, tenant, source, delivery)| ((tenant, source, delivery), id))
        .collect())
}
