//! Reading the event log (the inbox), for the API, the CLI and the console.

use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

use crate::ids::{EventId, TenantId};
use crate::inbox::{self, EventFilter, StoredEvent};
use crate::time::to_rfc3339;

/// One event as listed (no payload: see `EventDetail`).
#[derive(Clone, Debug, Serialize)]
pub struct EventSummary {
    pub id: String,
    pub source: String,
    pub delivery_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub subject: Option<String>,
    pub occurred_at: Option<String>,
    pub status: String,
    pub received_at: String,
}

impl From<StoredEvent> for EventSummary {
    fn from(row: StoredEvent) -> Self {
        Self {
            id: EventId(row.id).to_string(),
            source: row.source,
            delivery_id: row.delivery_id,
            event_type: row.event_type,
            subject: row.subject,
            occurred_at: row.occurred_at.map(to_rfc3339),
            status: row.status,
            received_at: to_rfc3339(row.received_at),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct EventPage {
    pub data: Vec<EventSummary>,
    pub next_cursor: Option<String>,
}

/// A tenant's events, newest first, optionally by status.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    status: Option<&str>,
    limit: u64,
    cursor: Option<i64>,
) -> Result<EventPage, DbErr> {
    let limit = limit.clamp(1, 1_000);
    let filter = EventFilter {
        tenant: Some(tenant),
        status: status.map(str::to_owned),
        ..EventFilter::default()
    };
    let mut rows = inbox::newest_events(db, &filter, cursor, limit + 1).await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|row| row.id.to_string())
    } else {
        None
    };
    Ok(EventPage {
        data: rows.into_iter().map(EventSummary::from).collect(),
        next_cursor,
    })
}

/// The tenant an event belongs to, for access checks.
pub async fn tenant_of(
    db: &impl ConnectionTrait,
    event: EventId,
) -> Result<Option<TenantId>, DbErr> {
    Ok(inbox::find_event(db, event)
        .await?
        .map(|row| TenantId(row.tenant_id)))
}
