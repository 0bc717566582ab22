//! Manual replay of events: their jobs go back to the queue with fresh attempts. Replaying is
//! idempotent (an event whose job is already queued is left as it is) and safe (flows converge on
//! the same partner objects, and a stale event is skipped by the ordering check). A script
//! tenant's failed `catch` has no job: replaying it runs `catch` again on the kept request
//! (`ats::script::replay`).

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionSession, TransactionTrait};

use crate::ats::script::replay::{self as script_replay, Recaught};
use crate::ids::{EventId, TenantId};
use crate::inbox::{self, EventStatus};
use crate::queue;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayOutcome {
    /// This many jobs went back to the queue.
    Requeued(u64),
    /// Its jobs are pending or running already: nothing changed.
    AlreadyQueued,
    NotFound,
    /// A failed `catch` ran again and answered `events` events (`new` not seen before).
    Recaught {
        events: usize,
        new: usize,
    },
    /// A failed `catch` failed again (or could not run): why.
    RecatchFailed(String),
}

/// Replays one event (any tenant: the caller has checked access): requeues its jobs, or runs a
/// failed `catch` again (which needs the tenant directory).
pub async fn replay_event(
    db: &DatabaseConnection,
    tenants: Option<&crate::tenant::Directory>,
    max_attempts: u32,
    event: EventId,
) -> Result<ReplayOutcome, DbErr> {
    if let Some(row) = inbox::find_event(db, event).await?
        && script_replay::is_failed_catch(&row)
    {
        let Some(tenants) = tenants else {
            return Ok(ReplayOutcome::RecatchFailed(
                "no master key: the tenant cannot be opened".to_owned(),
            ));
        };
        return Ok(
            match script_replay::recatch(db, tenants, max_attempts, &row).await? {
                Recaught::Stored { events, new } => ReplayOutcome::Recaught { events, new },
                Recaught::Failed(reason) => ReplayOutcome::RecatchFailed(reason),
            },
        );
    }
    requeue_event(db, event).await
}

/// Requeues the jobs of one event.
async fn requeue_event<C>(db: &C, event: EventId) -> Result<ReplayOutcome, DbErr>
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
