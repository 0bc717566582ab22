//! Reads of `jobs` and `job_attempts` for the console: a tenant's counts, an event's jobs and
//! their attempts, and the attempts per minute.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Statement,
};

use crate::ids::{EventId, JobId, TenantId};
use crate::store::entities::{job, job_attempt};

/// A tenant's jobs by stored status (any status, as stored).
pub async fn status_counts_of_tenant(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<(String, i64)>, DbErr> {
    job::Entity::find()
        .select_only()
        .column(job::Column::Status)
        .column_as(job::Column::Id.count(), "count")
        .filter(job::Column::TenantId.eq(tenant.0))
        .group_by(job::Column::Status)
        .into_tuple()
        .all(db)
        .await
}

/// The jobs of `event` (of `tenant`), oldest first.
pub async fn jobs_of_event(
    db: &impl ConnectionTrait,
    event: EventId,
    tenant: TenantId,
) -> Result<Vec<job::Model>, DbErr> {
    job::Entity::find()
        .filter(job::Column::EventId.eq(event.0))
        .filter(job::Column::TenantId.eq(tenant.0))
        .order_by_asc(job::Column::Id)
        .all(db)
        .await
}

/// The attempts of `jobs`, oldest first; no statement for none.
pub async fn attempts_of_jobs(
    db: &impl ConnectionTrait,
    jobs: &[JobId],
) -> Result<Vec<job_attempt::Model>, DbErr> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    job_attempt::Entity::find()
        .filter(job_attempt::Column::JobId.is_in(jobs.iter().map(|job| job.0)))
        .order_by_asc(job_attempt::Column::Id)
        .all(db)
        .await
}

/// Attempts started from minute `first` on (minute numbers: `started_at / 60000`, integer
/// division on both back ends), as (minute, outcome, count). A range scan of
/// `ix_job_attempts_started`, which covers it.
pub async fn attempts_per_minute(
    db: &impl ConnectionTrait,
    first: i64,
) -> Result<Vec<(i64, String, i64)>, DbErr> {
    attempts_per_minute_query(first).into_tuple().all(db).await
}

/// The statement of [`attempts_per_minute`], for a look at its plan.
pub fn attempts_per_minute_statement(backend: DbBackend, first: i64) -> Statement {
    attempts_per_minute_query(first).build(backend)
}

fn attempts_per_minute_query(first: i64) -> Select<job_attempt::Entity> {
    let minute = Expr::cust("started_at / 60000");
    job_attempt::Entity::find()
        .select_only()
        .column_as(minute.clone(), "minute")
        .column(job_attempt::Column::Outcome)
        .column_as(job_attempt::Column::Id.count(), "count")
        .filter(job_attempt::Column::StartedAt.gte(first * 60_000))
        .group_by(minute)
        .group_by(job_attempt::Column::Outcome)
}
