//! Replaying all dead letters of a tenant as one recorded operation, and its progress: which of
//! the jobs it sent back are pending, running, done, or dead again.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde::Serialize;

use super::events::tenant_slugs;
use crate::ids::{BulkReplayId, TenantId};
use crate::queue;
use crate::store::entities::{bulk_replay, bulk_replay_job, inbox_event, job};
use crate::sync::event_status;
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
    let dead: Vec<(i64, Option<i64>)> = job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .column(job::Column::EventId)
        .filter(job::Column::TenantId.eq(tenant.0))
        .filter(job::Column::Status.eq(queue::DEAD))
        .into_tuple()
        .all(&txn)
        .await?;
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
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        requeued += job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(queue::PENDING))
            .col_expr(job::Column::Attempts, Expr::value(0))
            .col_expr(job::Column::RunAt, Expr::value(now))
            .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::LeaseExpiresAt,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.is_in(ids.clone()))
            .filter(job::Column::Status.eq(queue::DEAD))
            .exec(&txn)
            .await?
            .rows_affected;
        bulk_replay_job::Entity::insert_many(ids.iter().map(|id| bulk_replay_job::ActiveModel {
            bulk_replay_id: Set(replay.id),
            job_id: Set(*id),
            ..Default::default()
        }))
        .exec(&txn)
        .await?;
        let events: Vec<i64> = chunk.iter().filter_map(|(_, event)| *event).collect();
        if !events.is_empty() {
            inbox_event::Entity::update_many()
                .col_expr(
                    inbox_event::Column::Status,
                    Expr::value(event_status::RECEIVED),
                )
                .filter(inbox_event::Column::Id.is_in(events))
                .exec(&txn)
                .await?;
        }
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
    let (jobs_t, links) = (Alias::new("jobs"), Alias::new("bulk_replay_jobs"));
    let select = Query::select()
        .column((jobs_t.clone(), Alias::new("status")))
        .expr_as(
            Expr::col((jobs_t.clone(), Alias::new("id"))).count(),
            Alias::new("n"),
        )
        .from(jobs_t.clone())
        .inner_join(
            links.clone(),
            Expr::col((links.clone(), Alias::new("job_id")))
                .equals((jobs_t.clone(), Alias::new("id"))),
        )
        .and_where(Expr::col((links, Alias::new("bulk_replay_id"))).eq(replay.id))
        .group_by_col((jobs_t, Alias::new("status")))
        .to_owned();
    let mut counts = (0, 0, 0, 0);
    for row in db.query_all(&select).await? {
        let status: String = row.try_get("", "status")?;
        let n: i64 = row.try_get("", "n")?;
        match status.as_str() {
            queue::PENDING => counts.0 = n,
            queue::RUNNING => counts.1 = n,
            queue::DONE => counts.2 = n,
            queue::DEAD => counts.3 = n,
            _ => {}
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
