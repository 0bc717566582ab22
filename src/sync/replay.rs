//! Manual replay of events: their jobs go back to the queue with fresh attempts. Replaying is
//! idempotent (an event whose job is already queued is left as it is) and safe (flows converge on
//! the same partner objects, and a stale event is skipped by the ordering check).

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait,
};

use super::event_status;
use crate::ids::{EventId, TenantId};
use crate::queue;
use crate::store::entities::{inbox_event, job};
use crate::time::now_ms;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayOutcome {
    /// This many jobs went back to the queue.
    Requeued(u64),
    /// Its jobs are pending or running already: nothing changed.
    AlreadyQueued,
    NotFound,
}

/// Requeues the jobs of one event (any tenant: the caller has checked access).
pub async fn replay_event<C>(db: &C, event: EventId) -> Result<ReplayOutcome, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    let Some(row) = inbox_event::Entity::find_by_id(event.0).one(&txn).await? else {
        return Ok(ReplayOutcome::NotFound);
    };
    let finished = [queue::DONE, queue::DEAD];
    let requeued = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(queue::PENDING))
        .col_expr(job::Column::Attempts, Expr::value(0))
        .col_expr(job::Column::RunAt, Expr::value(now_ms()))
        .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            job::Column::LeaseExpiresAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(job::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(job::Column::EventId.eq(row.id))
        .filter(job::Column::Status.is_in(finished))
        .exec(&txn)
        .await?
        .rows_affected;
    if requeued > 0 {
        inbox_event::Entity::update_many()
            .col_expr(
                inbox_event::Column::Status,
                Expr::value(event_status::RECEIVED),
            )
            .filter(inbox_event::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(if requeued > 0 {
        ReplayOutcome::Requeued(requeued)
    } else {
        ReplayOutcome::AlreadyQueued
    })
}

/// Requeues every dead-lettered job of a tenant. Answers how many went back.
pub async fn replay_dead_letters<C>(db: &C, tenant: TenantId) -> Result<u64, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    let dead_events: Vec<i64> = job::Entity::find()
        .filter(job::Column::TenantId.eq(tenant.0))
        .filter(job::Column::Status.eq(queue::DEAD))
        .all(&txn)
        .await?
        .into_iter()
        .filter_map(|row| row.event_id)
        .collect();
    let requeued = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(queue::PENDING))
        .col_expr(job::Column::Attempts, Expr::value(0))
        .col_expr(job::Column::RunAt, Expr::value(now_ms()))
        .col_expr(job::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(job::Column::TenantId.eq(tenant.0))
        .filter(job::Column::Status.eq(queue::DEAD))
        .exec(&txn)
        .await?
        .rows_affected;
    for chunk in dead_events.chunks(500) {
        inbox_event::Entity::update_many()
            .col_expr(
                inbox_event::Column::Status,
                Expr::value(event_status::RECEIVED),
            )
            .filter(inbox_event::Column::Id.is_in(chunk.iter().copied()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(requeued)
}
