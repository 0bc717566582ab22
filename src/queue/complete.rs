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

use super::{AttemptOutcome, ClaimedJob, DONE, PENDING, RUNNING};
use crate::ids::{EventId, JobId};
use crate::store::entities::{job, job_attempt};
use crate::time::now_ms;

/// The execution-log outcome of a job marked done because another job's work answered it.
pub const COVERED: &str = AttemptOutcome::Covered.as_str();

/// Jobs per statement: two bound parameters each, well under both back ends' limits.
pub const JOBS_PER_STATEMENT: usize = 200;

/// A job whose flow succeeded, with what its execution-log row says.
#[derive(Clone, Debug)]
pub struct Succeeded {
    pub job: ClaimedJob,
    pub started_at: i64,
    pub duration: Duration,
    pub call: Option<String>,
}

/// What `complete_batch` did.
#[derive(Clone, Debug, Default)]
pub struct Completed {
    /// Per job of the batch in order, whether it was marked done (once the caller commits).
    pub done: Vec<bool>,
    /// The events of the jobs marked done (and of the waiting ones they answered), for the
    /// caller to mark in the inbox (`inbox::set_events_status`, at most `JOBS_PER_STATEMENT`
    /// a statement).
    pub events: Vec<EventId>,
}

/// Marks `jobs` done in `txn` and records one attempt each (`succeeded`, or `lease_lost` when
/// another worker had taken the job over); answers the events of the done ones.
/// `covered` pairs a job waiting behind one of `jobs` with that job, whose work answered its
/// event: when that job is marked done, the waiting one (if still pending) is too, without
/// running, with an attempt saying which job answered it. Three statements for a batch of any
/// size up to `JOBS_PER_STATEMENT` (the caller's marking of the events is the fourth).
pub async fn complete_batch(
    txn: &DatabaseTransaction,
    jobs: &[&Succeeded],
    covered: &[(JobId, JobId)],
) -> Result<Completed, DbErr> {
    let now = now_ms();
    let mut done: HashSet<i64> = HashSet::with_capacity(jobs.len());
    for chunk in jobs.chunks(JOBS_PER_STATEMENT) {
        // The status is tested in each term, not once beside them: SQLite then finds each row
        // by its id, where a separate `status = 'running'` made it walk every running job.
        let mut held = Condition::any();
        for item in chunk {
            held = held.add(
                Condition::all()
                    .add(job::Column::Id.eq(item.job.id.0))
                    .add(job::Column::LeaseOwner.eq(item.job.lease_owner.as_str()))
                    .add(job::Column::Status.eq(RUNNING)),
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
            .filter(held)
            .exec_with_returning(txn)
            .await?;
        done.extend(updated.into_iter().map(|row| row.id));
    }
    let outcomes: Vec<bool> = jobs
        .iter()
        .map(|item| done.contains(&item.job.id.0))
        .collect();

    let mut attempts: Vec<job_attempt::ActiveModel> = jobs
        .iter()
        .zip(&outcomes)
        .map(|(item, done)| job_attempt::ActiveModel {
            id: NotSet,
            tenant_id: Set(item.job.tenant.0),
            job_id: Set(item.job.id.0),
            attempt: Set(item.job.attempt as i32),
            started_at: Set(item.started_at),
            duration_ms: Set(item.duration.as_millis() as i64),
            outcome: Set(if *done {
                AttemptOutcome::Succeeded
            } else {
                AttemptOutcome::LeaseLost
            }
            .as_str()
            .to_owned()),
            call: Set(item.call.clone()),
            error: Set(None),
        })
        .collect();
    let mut events: Vec<i64> = jobs
        .iter()
        .zip(&outcomes)
        .filter(|(_, done)| **done)
        .filter_map(|(item, _)| item.job.event.map(|e| e.0))
        .collect();

    // Only the jobs waiting behind one that was marked done are answered.
    let answered_by: HashMap<i64, JobId> = covered
        .iter()
        .filter(|(_, by)| done.contains(&by.0))
        .map(|(job, by)| (job.0, *by))
        .collect();
    for row in mark_covered(txn, &answered_by, now).await? {
        attempts.push(job_attempt::ActiveModel {
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
        events.extend(row.event_id);
    }

    for chunk in attempts.chunks(JOBS_PER_STATEMENT) {
        job_attempt::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(Completed {
        done: outcomes,
        events: events.into_iter().map(EventId).collect(),
    })
}

/// Marks the jobs of `answered_by` that are still pending done, without running them; answers
/// the rows it marked.
async fn mark_covered(
    txn: &DatabaseTransaction,
    answered_by: &HashMap<i64, JobId>,
    now: i64,
) -> Result<Vec<job::Model>, DbErr> {
    let ids: Vec<i64> = answered_by.keys().copied().collect();
    let mut marked = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(JOBS_PER_STATEMENT) {
        // Each row found by its id (see `complete_batch`), not by walking the pending jobs.
        let mut waiting = Condition::any();
        for id in chunk {
            waiting = waiting.add(
                Condition::all()
                    .add(job::Column::Id.eq(*id))
                    .add(job::Column::Status.eq(PENDING)),
            );
        }
        let rows = job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(DONE))
            .col_expr(
                job::Column::Attempts,
                Expr::col(job::Column::Attempts).add(1),
            )
            .col_expr(job::Column::LastError, Expr::value(Option::<String>::None))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(waiting)
            .exec_with_returning(txn)
            .await?;
        marked.extend(rows);
    }
    Ok(marked)
}
