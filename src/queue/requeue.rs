//! Sending finished jobs back to the queue with fresh attempts (manual replay, one event's jobs
//! or a tenant's dead letters).

use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::JobStatus;
use crate::ids::{EventId, JobId, TenantId};
use crate::store::entities::job;
use crate::time::now_ms;

/// Sends the finished (done or dead) jobs of `event` back to `pending` with no attempts and no
/// lease, due now. Answers how many went back (none when they are pending or running already).
pub async fn requeue_finished_of_event(
    db: &impl ConnectionTrait,
    event: EventId,
) -> Result<u64, DbErr> {
    let finished = [JobStatus::Done.as_str(), JobStatus::Dead.as_str()];
    Ok(job::Entity::update_many()
        .col_expr(
            job::Column::Status,
            Expr::value(JobStatus::Pending.as_str()),
        )
        .col_expr(job::Column::Attempts, Expr::value(0))
        .col_expr(job::Column::RunAt, Expr::value(now_ms()))
        .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            job::Column::LeaseExpiresAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(job::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(job::Column::EventId.eq(event.0))
        .filter(job::Column::Status.is_in(finished))
        .exec(db)
        .await?
        .rows_affected)
}

/// Sends every dead job of `tenant` back to `pending` with no attempts, due now. Answers how
/// many went back and the events of the dead jobs (read first, in the same connection).
pub async fn requeue_dead_of_tenant(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<(u64, Vec<EventId>), DbErr> {
    let dead_events: Vec<EventId> = job::Entity::find()
        .filter(job::Column::TenantId.eq(tenant.0))
        .filter(job::Column::Status.eq(JobStatus::Dead.as_str()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| row.event_id.map(EventId))
        .collect();
    let requeued = job::Entity::update_many()
        .col_expr(
            job::Column::Status,
            Expr::value(JobStatus::Pending.as_str()),
        )
        .col_expr(job::Column::Attempts, Expr::value(0))
        .col_expr(job::Column::RunAt, Expr::value(now_ms()))
        .col_expr(job::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(job::Column::TenantId.eq(tenant.0))
        .filter(job::Column::Status.eq(JobStatus::Dead.as_str()))
        .exec(db)
        .await?
        .rows_affected;
    Ok((requeued, dead_events))
}

/// The dead jobs of `tenant`, each with its event.
pub async fn dead_jobs_of_tenant(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<(JobId, Option<EventId>)>, DbErr> {
    let rows: Vec<(i64, Option<i64>)> = job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .column(job::Column::EventId)
        .filter(job::Column::TenantId.eq(tenant.0))
        .filter(job::Column::Status.eq(JobStatus::Dead.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, event)| (JobId(id), event.map(EventId)))
        .collect())
}

/// Sends those of `jobs` that are still dead back to `pending` with no attempts and no lease,
/// due at `now`, in one statement (the caller bounds the slice). Answers how many went back.
pub async fn requeue_dead(
    db: &impl ConnectionTrait,
    jobs: &[JobId],
    now: i64,
) -> Result<u64, DbErr> {
    Ok(job::Entity::update_many()
        .col_expr(
            job::Column::Status,
            Expr::value(JobStatus::Pending.as_str()),
        )
        .col_expr(job::Column::Attempts, Expr::value(0))
        .col_expr(job::Column::RunAt, Expr::value(now))
        .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            job::Column::LeaseExpiresAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.is_in(jobs.iter().map(|job| job.0)))
        .filter(job::Column::Status.eq(JobStatus::Dead.as_str()))
        .exec(db)
        .await?
        .rows_affected)
}

/// How many of the jobs a bulk replay sent back stand at each status now (one grouped count
/// over `jobs` joined with `bulk_replay_jobs`).
pub async fn status_counts_of_bulk_replay(
    db: &impl ConnectionTrait,
    bulk_replay: i64,
) -> Result<Vec<(JobStatus, i64)>, DbErr> {
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
        .and_where(Expr::col((links, Alias::new("bulk_replay_id"))).eq(bulk_replay))
        .group_by_col((jobs_t, Alias::new("status")))
        .to_owned();
    let mut counts = Vec::new();
    for row in db.query_all(&select).await? {
        let status: String = row.try_get("", "status")?;
        let n: i64 = row.try_get("", "n")?;
        if let Some(status) = JobStatus::parse(&status) {
            counts.push((status, n));
        }
    }
    Ok(counts)
}
