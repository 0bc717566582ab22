//! The insert path every stored event takes: the webhook path's group commit and the pollers'
//! own transactions (a feed snapshot and the events it produces commit together). New events
//! get their `apply_event` job in the same statement batch; redeliveries are answered with the
//! event stored before.

use std::collections::HashMap;

use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, QueryTrait, Statement, Value,
};

use super::{EventStatus, NewEvent, Stored};
use crate::events::InboundEvent;
use crate::ids::{EventId, TenantId};
use crate::queue::{NewJob, jobs_statement};
use crate::store::bulk_insert_sql;
use crate::store::entities::inbox_event;
use crate::store::sqlite_writer::Session;
use crate::time::now_ms;

/// Rows per INSERT statement (well under both back ends' bound-parameter limits).
const ROWS_PER_STATEMENT: usize = 200;

/// The flow that applies one stored event.
pub const APPLY_EVENT: &str = "apply_event";

/// The job that applies `event` (stored as `event_id`): one per event, ordered by the event's
/// subject, so one entity's events apply one at a time and in order. Enqueued in the same
/// transaction as the event, so that both commit or neither does.
pub fn job_for_event(
    tenant: TenantId,
    event_id: EventId,
    event: &InboundEvent,
    max_attempts: u32,
) -> NewJob {
    NewJob {
        tenant,
        event: Some(event_id),
        flow: APPLY_EVENT.to_owned(),
        payload: serde_json::json!({ "event_id": event_id.0 }),
        idempotency_key: format!("event:{}", event_id.0),
        ordering_key: Some(
            event
                .subject()
                .map(|subject| format!("{}:{subject}", tenant.0))
                .unwrap_or_else(|| format!("{}:event:{}", tenant.0, event_id.0)),
        ),
        run_at: None,
        max_attempts,
    }
}

/// Inserts `events` (skipping delivery ids already stored) and enqueues one `apply_event` job
/// per new `received` event, on `db` (a caller's transaction). Answers one outcome per event, in
/// order; an event repeated within `events` is a duplicate of its first occurrence.
pub async fn insert_events(
    db: &impl ConnectionTrait,
    events: &[NewEvent],
    max_attempts: u32,
) -> Result<Vec<Stored>, DbErr> {
    insert_into(db, events, max_attempts).await
}

/// [`insert_events`] in a transaction of the inbox's SQLite writer (`store::sqlite_writer`).
pub(super) fn insert_events_in(
    session: &Session<'_>,
    events: &[NewEvent],
    max_attempts: u32,
) -> Result<Vec<Stored>, DbErr> {
    // The session runs each statement before it answers: this future is ready when first polled.
    futures::executor::block_on(insert_into(session, events, max_attempts))
}

/// What the insert path's statements run on: a sea-orm connection or transaction, or a
/// transaction of the inbox's SQLite writer. The statements are the same for both.
trait InsertTarget {
    fn backend(&self) -> DbBackend;
    /// The stored events' keys that `statement` (an insert's `RETURNING`, a select) answers.
    async fn event_keys(&self, statement: Statement) -> Result<Vec<InsertedEvent>, DbErr>;
    async fn execute(&self, statement: Statement) -> Result<(), DbErr>;
}

impl<C: ConnectionTrait> InsertTarget for C {
    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    async fn event_keys(&self, statement: Statement) -> Result<Vec<InsertedEvent>, DbErr> {
        InsertedEvent::find_by_statement(statement).all(self).await
    }

    async fn execute(&self, statement: Statement) -> Result<(), DbErr> {
        self.execute_raw(statement).await.map(drop)
    }
}

impl InsertTarget for Session<'_> {
    fn backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn event_keys(&self, statement: Statement) -> Result<Vec<InsertedEvent>, DbErr> {
        // The columns in `InsertedEvent`'s order, as both statements name them.
        self.query(&statement, |row| {
            Ok(InsertedEvent {
                id: row.get(0)?,
                tenant_id: row.get(1)?,
                source: row.get(2)?,
                delivery_id: row.get(3)?,
            })
        })
    }

    async fn execute(&self, statement: Statement) -> Result<(), DbErr> {
        Session::execute(self, &statement).map(drop)
    }
}

async fn insert_into(
    db: &impl InsertTarget,
    events: &[NewEvent],
    max_attempts: u32,
) -> Result<Vec<Stored>, DbErr> {
    let mut outcomes = Vec::with_capacity(events.len());
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        outcomes.extend(insert_chunk(db, chunk, max_attempts).await?);
    }
    Ok(outcomes)
}

/// What makes a delivery unique (`uq_inbox_delivery`): tenant, source, delivery id.
type DeliveryKey = (i64, String, String);

impl NewEvent {
    fn key(&self) -> DeliveryKey {
        (
            self.tenant.0,
            self.event.source.as_str().to_owned(),
            self.event.delivery_id.clone(),
        )
    }
}

/// The key of a stored event, as the insert (and the look-up of those stored before) answers
/// it, in this order.
#[derive(FromQueryResult)]
struct InsertedEvent {
    id: i64,
    tenant_id: i64,
    source: String,
    delivery_id: String,
}

/// The inbox columns an insert sets, in [`inbox_values`]'s order.
const INBOX_COLUMNS: [&str; 10] = [
    "tenant_id",
    "source",
    "delivery_id",
    "event_type",
    "subject",
    "occurred_at",
    "status",
    "payload",
    "normalized",
    "received_at",
];

/// Redeliveries insert nothing (`uq_inbox_delivery`); only the keys come back: the payloads are
/// large, and the caller has them.
const INBOX_TAIL: &str = "ON CONFLICT (tenant_id, source, delivery_id) DO NOTHING \
                          RETURNING id, tenant_id, source, delivery_id";

async fn insert_chunk(
    db: &impl InsertTarget,
    events: &[NewEvent],
    max_attempts: u32,
) -> Result<Vec<Stored>, DbErr> {
    let now = now_ms();
    let backend = db.backend();
    let mut values = Vec::with_capacity(events.len() * INBOX_COLUMNS.len());
    for event in events {
        values.extend(inbox_values(event, now)?);
    }
    let sql = bulk_insert_sql(
        backend,
        "inbox_events",
        &INBOX_COLUMNS,
        events.len(),
        INBOX_TAIL,
    );
    let mut fresh: HashMap<DeliveryKey, i64> = db
        .event_keys(Statement::from_sql_and_values(backend, sql, values))
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

    let jobs: Vec<(NewJob, Option<String>)> = events
        .iter()
        .zip(&outcomes)
        .filter(|(event, _)| event.status == EventStatus::Received)
        .filter_map(|(event, outcome)| match outcome {
            Stored::New(id) => Some((
                job_for_event(event.tenant, *id, &event.event, max_attempts),
                event.trace_parent.clone(),
            )),
            Stored::Duplicate(_) => None,
        })
        .collect();
    if !jobs.is_empty() {
        db.execute(jobs_statement(backend, jobs, now)).await?;
    }
    Ok(outcomes)
}

fn inbox_values(event: &NewEvent, now: i64) -> Result<[Value; INBOX_COLUMNS.len()], DbErr> {
    let normalized = serde_json::to_string(&event.event).map_err(|e| DbErr::Json(e.to_string()))?;
    Ok([
        event.tenant.0.into(),
        event.event.source.as_str().into(),
        event.event.delivery_id.clone().into(),
        event.event.partner_type.clone().into(),
        event.event.subject().into(),
        event.event.occurred_at.into(),
        event.status.as_str().into(),
        event.payload.clone().into(),
        normalized.into(),
        now.into(),
    ])
}

async fn find_existing<'a>(
    db: &impl InsertTarget,
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
    let select = inbox_event::Entity::find()
        .select_only()
        .column(inbox_event::Column::Id)
        .column(inbox_event::Column::TenantId)
        .column(inbox_event::Column::Source)
        .column(inbox_event::Column::DeliveryId)
        .filter(any)
        .build(db.backend());
    Ok(db
        .event_keys(select)
        .await?
        .into_iter()
        .map(|row| ((row.tenant_id, row.source, row.delivery_id), row.id))
        .collect())
}
