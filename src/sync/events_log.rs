//! Reading the event log (the inbox), for the API, the CLI and the console.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::ids::{EventId, TenantId};
use crate::store::entities::inbox_event;
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

impl From<inbox_event::Model> for EventSummary {
    fn from(row: inbox_event::Model) -> Self {
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
    let mut query = inbox_event::Entity::find().filter(inbox_event::Column::TenantId.eq(tenant.0));
    if let Some(status) = status {
        query = query.filter(inbox_event::Column::Status.eq(status));
    }
    if let Some(before) = cursor {
        query = query.filter(inbox_event::Column::Id.lt(before));
    }
    let mut rows = query
        .order_by_desc(inbox_event::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
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
    Ok(inbox_event::Entity::find_by_id(event.0)
        .one(db)
        .await?
        .map(|row| TenantId(row.tenant_id)))
}
