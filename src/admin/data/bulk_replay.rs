//! Replaying all dead letters of a tenant as one recorded operation, and its progress: which of
//! the jobs it sent back are pending, running, done, or dead again.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde::Serialize;

use super::events::tenant_slugs;
use crate::ids::{BulkReplayId, EventId, JobId, TenantId};
use crate::inbox::{self, EventStatus};
use crate::queue::{self, JobStatus};
use crate::store::entities::{bulk_replay, bulk_replay_job};
use crate::time::{now_ms, to_rfc3339};

const CHUNK: usize = 500;

/// Sends every dead-lettered job of `tenant` back to the queue with fresh attempts and records
/// which, in one transaction. None when there was nothing to replay (so a second click records
/// nothing and changes nothing).
pub async fn start<C>(
    db: &C,
    tenant: TenantId,
    started_by: &str,
) -> Result<Option<(BulkReplayId, u64)>, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    let dead = queue::dead_jobs_of_tenant(&txn, tenant).await?;
    if dead.is_empty() {
        txn.rollback().await?;
        return Ok(None);
    }
    let now = now_ms();
    let replay = bulk_replay::ActiveModel {
        tenant_id: Set(tenant.0),
        started_by: Set(started_by.to_owned()),
        jobs: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut requeued = 0;
    for chunk in dead.chunks(CHUNK) {
        let ids: Vec<JobId> = chunk.iter().map(|(id, _)| *id).collect();
        requeued += queue::requeue_dead(&txn, &ids, now).await?;
        bulk_replay_job::Entity::insert_many(ids.iter().map(|id| bulk_replay_job::ActiveModel {
            bulk_replay_id: Set(replay.id),
            job_id: Set(id.0),
            ..Default::default()
        }))
        .exec(&txn)
        .await?;
        let events: Vec<EventId> = chunk.iter().filter_map(|(_, event)| *event).collect();
        inbox::set_events_status(&txn, &events, EventStatus::Received).await?;
    }
    bulk_replay::Entity::update_many()
        .col_expr(bulk_replay::Column::Jobs, Expr::value(requeued as i64))
        .filter(bulk_replay::Column::Id.eq(replay.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Some((BulkReplayId(replay.id), requeued)))
}

/// Where a bulk replay stands now.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Progress {
    pub id: String,
    pub tenant: String,
    pub started_by: String,
    pub created_at: String,
    /// Jobs it sent back.
    pub jobs: i64,
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    /// Dead again (their error is on the event page).
    pub dead: i64,
    /// True when none of its jobs is pending or running any more.
    pub finished: bool,
}

/// The progress of replay `id`; None when there is none.
pub async fn progress(
    db: &impl ConnectionTrait,
    id: BulkReplayId,
) -> Result<Option<Progress>, DbErr> {
    let Some(replay) = bulk_replay::Entity::find_by_id(id.0).one(db).await? else {
        return Ok(None);
    };
    let mut counts = (0, 0, 0, 0);
    for (status, n) in queue::status_counts_of_bulk_replay(db, replay.id).await? {
        match status {
            JobStatus::Pending => counts.0 = n,
            JobStatus::Running => counts.1 = n,
            JobStatus::Done => counts.2 = n,
            JobStatus::Dead => counts.3 = n,
        }
    }
    let tenant = tenant_slugs(db)
        .await?
        .remove(&replay.tenant_id)
        .unwrap_or_default();
    Ok(Some(Progress {
        id: id.to_string(),
        tenant,
        started_by: replay.started_by,
        created_at: to_rfc3339(replay.created_at),
        jobs: replay.jobs,
        pending: counts.0,
        running: counts.1,
        done: counts.2,
        dead: counts.3,
        finished: counts.0 + counts.1 == 0,
    }))
}

/// The tenant a replay belongs to, and the latest replays of a tenant (for the queue page).
pub async fn recent(
    db: &impl ConnectionTrait,
    tenant: Option<TenantId>,
    limit: u64,
) -> Result<Vec<Progress>, DbErr> {
    let mut query = bulk_replay::Entity::find();
    if let Some(tenant) = tenant {
        query = query.filter(bulk_replay::Column::TenantId.eq(tenant.0));
    }
    let rows = query
        .order_by_desc(bulk_replay::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(progress) = progress(db, BulkReplayId(row.id)).await? {
            out.push(progress);
        }
    }
    Ok(out)
}
