//! Finishing succeeded jobs in bulk: in the caller's transaction, marks a batch done (fenced by
//! each job's lease token), writes their execution-log rows and their events' status. The
//! worker's group commit (`sync::completions`) calls it, so that a busy worker pays one commit for
//! many jobs instead of three for each.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sea_orm::sea_query::{Condition, Expr, ExprTrait as _};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, Set,
};

use super::{ClaimedJob, DONE, PENDING, RUNNING};
use crate::ids::JobId;
use crate::store::entities::{inbox_event, job, job_attempt};
use crate::time::now_ms;

/// The execution-log outcome of a job marked done because another job's work answered it.
pub const COVERED: &str = "covered";

/// Jobs per statement: two bound parameters each, well under both back ends' limits.
const JOBS_PER_STATEMENT: usize = 200;

/// A job whose flow succeeded, with what its execution-log row says.
#[derive(Clone, Debug)]
pub struct Succeeded {
    pub job: ClaimedJob,
    pub started_at: i64,
    pub duration: Duration,
    pub call: Option<String>,
}

/// Marks `jobs` done in `txn`, records one attempt each (`succeeded`, or `lease_lost` when
/// another worker had taken the job over) and marks the events of the done ones `event_status`.
/// Answers, per job in order, whether it was marked done (once the caller commits).
pub async fn complete_batch(
    txn: &DatabaseTransaction,
    jobs: &[Succeeded],
    event_status: &str,
) -> Result<Vec<bool>, DbErr> {
    let now = now_ms();
    let mut done: HashSet<i64> = HashSet::with_capacity(jobs.len());
    for chunk in jobs.chunks(JOBS_PER_STATEMENT) {
        let mut held = Condition::any();
        for item in chunk {
            held = held.add(
                Condition::all()
                    .add(job::Column::Id.eq(item.job.id.0))
                    .add(job::Column::LeaseOwner.eq(item.job.lease_owner.as_str())),
            );
        }
        let updated = job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(DONE))
            .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::LeaseExpiresAt,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(job::Column::LastError, Expr::value(Option::<String>::None))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Status.eq(RUNNING))
            .filter(held)
            .exec_with_returning(txn)
            .await?;
        done.extend(updated.into_iter().map(|row| row.id));
    }
    let outcomes: Vec<bool> = jobs
        .iter()
        .map(|item| done.contains(&item.job.id.0))
        .collect();
    for (chunk, marked) in jobs
        .chunks(JOBS_PER_STATEMENT)
        .zip(outcomes.chunks(JOBS_PER_STATEMENT))
    {
        let rows = chunk
            .iter()
            .zip(marked)
            .map(|(item, done)| job_attempt::ActiveModel {
                id: NotSet,
                tenant_id: Set(item.job.tenant.0),
                job_id: Set(item.job.id.0),
                attempt: Set(item.job.attempt as i32),
                started_at: Set(item.started_at),
                duration_ms: Set(item.duration.as_millis() as i64),
                outcome: Set(if *done { "succeeded" } else { "lease_lost" }.to_owned()),
                call: Set(item.call.clone()),
                error: Set(None),
            });
        job_attempt::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
        let events: Vec<i64> = chunk
            .iter()
            .zip(marked)
            .filter(|(_, done)| **done)
            .filter_map(|(item, _)| item.job.event.map(|e| e.0))
            .collect();
        if !events.is_empty() {
            inbox_event::Entity::update_many()
                .col_expr(inbox_event::Column::Status, Expr::value(event_status))
                .filter(inbox_event::Column::Id.is_in(events))
                .exec(txn)
                .await?;
        }
    }
    Ok(outcomes)
}

/// Marks covered jobs done without running them, in `txn`: each pair is a covered job and the
/// job whose work answered its event. Only jobs still pending are touched; each gets an
/// execution-log row saying which job answered it, and its event `event_status`. Three
/// statements for any number of pairs.
pub async fn complete_covered(
    txn: &DatabaseTransaction,
    covered: &[(JobId, JobId)],
    event_status: &str,
) -> Result<(), DbErr> {
    if covered.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let answered_by: HashMap<i64, JobId> = covered.iter().map(|(job, by)| (job.0, *by)).collect();
    let ids: Vec<i64> = answered_by.keys().copied().collect();
    let marked = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(DONE))
        .col_expr(
            job::Column::Attempts,
            Expr::col(job::Column::Attempts).add(1),
        )
        .col_expr(job::Column::LastError, Expr::value(Option::<String>::None))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Status.eq(PENDING))
        .filter(job::Column::Id.is_in(ids))
        .exec_with_returning(txn)
        .await?;
    if marked.is_empty() {
        return Ok(());
    }
    let rows = marked.iter().map(|row| job_attempt::ActiveModel {
        id: NotSet,
        tenant_id: Set(row.tenant_id),
        job_id: Set(row.id),
        attempt: Set(row.attempts),
        started_at: Set(now),
        duration_ms: Set(0),
        outcome: Set(COVERED.to_owned()),
        call: Set(answered_by
            .get(&row.id)
            .map(|by| format!("answered by {by}"))),
        error: Set(None),
    });
    job_attempt::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    let events: Vec<i64> = marked.iter().filter_map(|row| row.event_id).collect();
    if !events.is_empty() {
        inbox_event::Entity::update_many()
            .col_expr(inbox_event::Column::Status, Expr::value(event_status))
            .filter(inbox_event::Column::Id.is_in(events))
            .exec(txn)
            .await?;
    }
    Ok(())
}
