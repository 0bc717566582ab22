//! The statuses jobs give their events, and the reads and erasures of stored events that the
//! console and the flows need.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::EventStatus;
use crate::ids::{EventId, TenantId};
use crate::store::entities::inbox_event;

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
