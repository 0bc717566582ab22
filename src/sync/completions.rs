//! Marking succeeded jobs done, many per transaction (`store::group_commit`): the jobs through
//! `queue::complete_batch`, their events through the inbox (processed), plus the `sync_state`
//! values, write-backs and equivalences the jobs record on success. Under load many jobs share
//! one commit; alone, a job commits by itself with no added delay. A job still counts as done
//! only once that commit went through, so crash safety and lease fencing are unchanged.

use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};

use super::flow::OnDone;
use super::state::{self, StateWrite};
use crate::equivalence;
use crate::ids::JobId;
use crate::inbox::{self, EventStatus};
use crate::queue::{self, Succeeded};
use crate::store::group_commit::{Batch, GroupCommit};

/// Most jobs finished in one transaction.
const MAX_BATCH: usize = 512;
/// Completions waiting for the writer beyond this make workers wait (back pressure).
const QUEUE_CAPACITY: usize = 4_096;

/// The worker's way to mark jobs done. Cheap to clone.
#[derive(Clone)]
pub struct Completions {
    writer: GroupCommit<FinishJobs>,
}

impl Completions {
    /// Starts the writer task (needs a Tokio runtime).
    pub fn spawn(db: DatabaseConnection) -> Self {
        Self {
            writer: GroupCommit::spawn(FinishJobs { db }, MAX_BATCH, QUEUE_CAPACITY),
        }
    }

    /// Marks `job` done (with its execution-log row, its event processed and what it settles).
    /// `Ok(false)`: the lease was lost to another worker, nothing was changed.
    pub async fn complete(&self, job: Succeeded, on_done: OnDone) -> Result<bool, String> {
        self.writer
            .submit((job, on_done))
            .await
            .map_err(|error| error.to_string())
    }
}

/// One transaction of succeeded jobs.
struct FinishJobs {
    db: DatabaseConnection,
}

impl Batch for FinishJobs {
    type Item = (Succeeded, OnDone);
    type Outcome = bool;

    async fn commit(&self, items: &[(Succeeded, OnDone)]) -> Result<Vec<bool>, DbErr> {
        finish(&self.db, items).await
    }
}

/// One transaction: the jobs marked done, then what those that were settle (a job whose lease
/// was lost settles nothing).
async fn finish(
    db: &DatabaseConnection,
    items: &[(Succeeded, OnDone)],
) -> Result<Vec<bool>, DbErr> {
    let jobs: Vec<&Succeeded> = items.iter().map(|(job, _)| job).collect();
    let settles = items.iter().map(|(_, on_done)| on_done);
    let _turn = crate::store::write_turn(db).await;
    let txn = db.begin().await?;
    let covered: Vec<(JobId, JobId)> = items
        .iter()
        .flat_map(|(job, on_done)| on_done.covered.iter().map(|id| (*id, job.job.id)))
        .collect();
    let completed = queue::complete_batch(&txn, &jobs, &covered).await?;
    for chunk in completed.events.chunks(queue::JOBS_PER_STATEMENT) {
        inbox::set_events_status(&txn, chunk, EventStatus::Processed).await?;
    }
    let outcomes = completed.done;
    let mut writes: Vec<StateWrite> = Vec::new();
    let mut writebacks = Vec::new();
    let mut links = Vec::new();
    for (on_done, done) in settles.zip(&outcomes) {
        if !*done {
            continue;
        }
        writes.extend(on_done.writes.iter().cloned());
        writebacks.extend(on_done.writebacks.iter().cloned());
        links.extend(on_done.links.iter().cloned());
    }
    state::put_many(&txn, &writes).await?;
    state::record_writebacks_done(&txn, &writebacks).await?;
    for refused in equivalence::link_made(&txn, &links).await? {
        // The job's partner object exists; the binding that holds stands, as `link` would.
        tracing::warn!(reason = %refused, "a job's equivalence was not written");
    }
    txn.commit().await?;
    Ok(outcomes)
}
