//! Group commit of succeeded jobs. Each job hands its completion over and waits; whichever job
//! finds no commit in progress takes everything queued so far and finishes it in one
//! transaction (`queue::complete_batch`), then answers every waiter. Under load many jobs share
//! one commit; alone, a job commits by itself with no added delay. A job still counts as done
//! only once that commit went through, so crash safety and lease fencing are unchanged.

use std::sync::{Mutex, PoisonError};

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::oneshot;

use crate::queue::{self, Succeeded};

/// Most jobs finished in one transaction.
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<bool, String>>;

#[derive(Default)]
pub struct Completions {
    queued: Mutex<Vec<(Succeeded, Reply)>>,
    /// Held by the job committing a batch; the others queue meanwhile.
    committing: tokio::sync::Mutex<()>,
}

impl Completions {
    /// Marks `job` done (with its execution-log row and its event's status). `Ok(false)`: the
    /// lease was lost to another worker, nothing was changed.
    pub async fn complete(
        &self,
        db: &DatabaseConnection,
        job: Succeeded,
        event_status: &str,
    ) -> Result<bool, String> {
        let (reply, mut answer) = oneshot::channel();
        self.lock().push((job, reply));
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Succeeded, Reply)>> {
        self.queued.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn commit(db: &DatabaseConnection, batch: Vec<(Succeeded, Reply)>, event_status: &str) {
    if batch.is_empty() {
        return;
    }
    let (jobs, replies): (Vec<Succeeded>, Vec<Reply>) = batch.into_iter().unzip();
    match queue::complete_batch(db, &jobs, event_status).await {
        Ok(outcomes) => {
            for (reply, done) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(done));
            }
        }
        // One bad row must not fail the others: each job alone, in its own transaction.
        Err(error) if jobs.len() > 1 => {
            tracing::warn!(error = %error, size = jobs.len(), "completion batch failed; one by one");
            for (job, reply) in jobs.into_iter().zip(replies) {
                let outcome = queue::complete_batch(db, std::slice::from_ref(&job), event_status)
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
