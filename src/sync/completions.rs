//! Group commit of succeeded jobs. Each job hands its completion over and waits; whichever job
//! finds no commit in progress takes everything queued so far and finishes it in one
//! transaction (`queue::complete_batch`, the events' status through the inbox, plus the
//! `sync_state` values, write-backs and equivalences the jobs record on success), then answers
//! every waiter. Under load many jobs share one commit; alone, a job commits by itself with no
//! added delay. A job still counts as done only once that commit went through, so crash safety
//! and lease fencing are unchanged.

use std::sync::{Mutex, PoisonError};

use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tokio::sync::oneshot;

use super::flow::OnDone;
use super::state::{self, StateWrite};
use crate::equivalence;
use crate::ids::JobId;
use crate::inbound::inbox::{self, EventStatus};
use crate::queue::{self, Succeeded};

/// Most jobs finished in one transaction.
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<bool, String>>;

/// A succeeded job, what it settles when marked done, and who waits for the outcome.
type Queued = (Succeeded, OnDone, Reply);

#[derive(Default)]
pub struct Completions {
    queued: Mutex<Vec<Queued>>,
    /// Held by the job committing a batch; the others queue meanwhile.
    committing: tokio::sync::Mutex<()>,
}

impl Completions {
    /// Marks `job` done (with its execution-log row, its event's status and what it settles).
    /// `Ok(false)`: the lease was lost to another worker, nothing was changed.
    pub async fn complete(
        &self,
        db: &DatabaseConnection,
        job: Succeeded,
        on_done: OnDone,
        event_status: EventStatus,
    ) -> Result<bool, String> {
        let (reply, mut answer) = oneshot::channel();
        self.lock().push((job, on_done, reply));
        loop {
            let _committing = self.committing.lock().await;
            // A batch committed while this job waited may have included it.
            match answer.try_recv() {
                Ok(outcome) => return outcome,
                Err(oneshot::error::TryRecvError::Closed) => {
                    return Err("the batch was dropped".to_owned());
                }
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let batch: Vec<_> = {
                let mut queued = self.lock();
                let take = queued.len().min(MAX_BATCH);
                queued.drain(..take).collect()
            };
            commit(db, batch, event_status).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        self.queued.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn commit(db: &DatabaseConnection, batch: Vec<Queued>, event_status: EventStatus) {
    if batch.is_empty() {
        return;
    }
    let mut jobs = Vec::with_capacity(batch.len());
    let mut settles = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    for (job, on_done, reply) in batch {
        jobs.push(job);
        settles.push(on_done);
        replies.push(reply);
    }
    match finish(db, &jobs, &settles, event_status).await {
        Ok(outcomes) => {
            for (reply, done) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(done));
            }
        }
        // One bad row must not fail the others: each job alone, in its own transaction.
        Err(error) if jobs.len() > 1 => {
            tracing::warn!(error = %error, size = jobs.len(), "completion batch failed; one by one");
            for ((job, on_done), reply) in jobs.iter().zip(&settles).zip(replies) {
                let outcome = finish(
                    db,
                    std::slice::from_ref(job),
                    std::slice::from_ref(on_done),
                    event_status,
                )
                .await
                .map(|mut done| done.pop().unwrap_or(false));
                let _ = reply.send(outcome.map_err(|e: DbErr| e.to_string()));
            }
        }
        Err(error) => {
            for reply in replies {
                let _ = reply.send(Err(error.to_string()));
            }
        }
    }
}

/// One transaction: the jobs marked done, then what those that were settle (a job whose lease
/// was lost settles nothing).
async fn finish(
    db: &DatabaseConnection,
    jobs: &[Succeeded],
    settles: &[OnDone],
    event_status: EventStatus,
) -> Result<Vec<bool>, DbErr> {
    let _turn = crate::store::write_turn(db).await;
    let txn = db.begin().await?;
    let covered: Vec<(JobId, JobId)> = jobs
        .iter()
        .zip(settles)
        .flat_map(|(job, on_done)| on_done.covered.iter().map(|id| (*id, job.job.id)))
        .collect();
    let completed = queue::complete_batch(&txn, jobs, &covered).await?;
    for chunk in completed.events.chunks(queue::JOBS_PER_STATEMENT) {
        inbox::set_events_status(&txn, chunk, event_status).await?;
    }
    let outcomes = completed.done;
    let mut writes: Vec<StateWrite> = Vec::new();
    let mut writebacks = Vec::new();
    let mut links = Vec::new();
    for (on_done, done) in settles.iter().zip(&outcomes) {
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
