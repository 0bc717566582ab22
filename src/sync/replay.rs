//! Manual replay of events: their jobs go back to the queue with fresh attempts. Replaying is
//! idempotent (an event whose job is already queued is left as it is) and safe (flows converge on
//! the same partner objects, and a stale event is skipped by the ordering check).

use sea_orm::{ConnectionTrait, DbErr, TransactionSession, TransactionTrait};

use crate::ids::{EventId, TenantId};
use crate::inbox::{self, EventStatus};
use crate::queue;

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
    let Some(row) = inbox::find_event(&txn, event).await? else {
        return Ok(ReplayOutcome::NotFound);
    };
    let requeued = queue::requeue_finished_of_event(&txn, EventId(row.id)).await?;
    if requeued > 0 {
        inbox::set_event_status(&txn, EventId(row.id), EventStatus::Received).await?;
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
    let (requeued, dead_events) = queue::requeue_dead_of_tenant(&txn, tenant).await?;
    for chunk in dead_events.chunks(500) {
        inbox::set_events_status(&txn, chunk, EventStatus::Received).await?;
    }
    txn.commit().await?;
    Ok(requeued)
}
