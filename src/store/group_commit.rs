//! Group commit: many tasks' writes share one transaction.
//!
//! One writer task owns a channel; each caller sends its item with a oneshot and waits. The
//! writer takes whatever is queued (up to the batch size), commits it in ONE transaction (the
//! [`Batch`]), and only then answers each caller. Alone, an item commits by itself with no added
//! delay; under load, N fsync-bound commits become one. If a batch fails, each of its items is
//! committed again in its own transaction, so that one bad item cannot fail the others.
//!
//! The writer is a task of its own, so a caller that gives up waiting (a client that hung up)
//! cannot cancel the commit of the others. The inbox stores events this way, the worker marks
//! succeeded jobs done this way.

use std::future::Future;

use sea_orm::DbErr;
use tokio::sync::{mpsc, oneshot};

/// What one group commit writes.
pub trait Batch: Send + Sync + 'static {
    type Item: Send + Sync + 'static;
    type Outcome: Send + 'static;

    /// Commits `items` in one transaction, answering one outcome per item, in order.
    fn commit(
        &self,
        items: &[Self::Item],
    ) -> impl Future<Output = Result<Vec<Self::Outcome>, DbErr>> + Send;

    /// Runs after a batch was committed and answered, before the next one: upkeep that the next
    /// callers may wait for, but not the ones just answered.
    fn after_answer(&self) {}

    /// `item` failed alone (after its batch failed): say so with what identifies it.
    fn failed_alone(&self, item: &Self::Item, error: &DbErr) {
        let _ = (item, error);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupCommitError {
    #[error("{0}")]
    Database(String),
    #[error("the writer is shutting down")]
    Closed,
}

struct Request<B: Batch> {
    item: B::Item,
    reply: oneshot::Sender<Result<B::Outcome, GroupCommitError>>,
}

/// The sending side of a group-commit writer. Cheap to clone; the writer ends when every clone
/// is dropped.
pub struct GroupCommit<B: Batch> {
    sender: mpsc::Sender<Request<B>>,
}

impl<B: Batch> Clone for GroupCommit<B> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
        }
    }
}

impl<B: Batch> GroupCommit<B> {
    /// Starts the writer (needs a Tokio runtime). `max_batch` items at most per transaction;
    /// beyond `capacity` waiting items, callers wait to send (back pressure).
    pub fn spawn(batch: B, max_batch: usize, capacity: usize) -> Self {
        let (sender, receiver) = mpsc::channel(capacity);
        tokio::spawn(run_writer(batch, receiver, max_batch));
        Self { sender }
    }

    /// Like [`spawn`](Self::spawn), for a batch that blocks its thread while it commits (the
    /// inbox's SQLite writer): the writer gets a thread of its own, off the runtime's workers, and
    /// its wake-ups do not queue behind the requests' tasks. The thread ends with the writer. If
    /// no thread can be started, the writer runs as a task after all.
    pub fn spawn_on_own_thread(name: &str, batch: B, max_batch: usize, capacity: usize) -> Self {
        let (sender, receiver) = mpsc::channel(capacity);
        let writer = run_writer(batch, receiver, max_batch);
        // The writer is handed over once the thread runs, so that it is not lost if none can.
        let (hand_over, handed) = std::sync::mpsc::sync_channel(1);
        let started = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .and_then(|runtime| {
                std::thread::Builder::new()
                    .name(name.to_owned())
                    .spawn(move || {
                        if let Ok(writer) = handed.recv() {
                            runtime.block_on(writer);
                        }
                    })
            });
        let unstarted = match started {
            Ok(_) => hand_over.send(writer).err().map(|returned| returned.0),
            Err(error) => {
                tracing::warn!(%error, thread = name, "cannot start a writer thread");
                Some(writer)
            }
        };
        if let Some(writer) = unstarted {
            tokio::spawn(writer);
        }
        Self { sender }
    }

    /// Commits `item` with whatever else is queued; answers once its transaction committed.
    pub async fn submit(&self, item: B::Item) -> Result<B::Outcome, GroupCommitError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Request { item, reply })
            .await
            .map_err(|_| GroupCommitError::Closed)?;
        answer.await.map_err(|_| GroupCommitError::Closed)?
    }
}

async fn run_writer<B: Batch>(
    batch: B,
    mut receiver: mpsc::Receiver<Request<B>>,
    max_batch: usize,
) {
    let mut queued = Vec::with_capacity(max_batch);
    while receiver.recv_many(&mut queued, max_batch).await > 0 {
        commit_queued(&batch, std::mem::take(&mut queued)).await;
        batch.after_answer();
    }
}

async fn commit_queued<B: Batch>(batch: &B, queued: Vec<Request<B>>) {
    let (items, replies): (Vec<B::Item>, Vec<_>) =
        queued.into_iter().map(|r| (r.item, r.reply)).unzip();
    match commit_checked(batch, &items).await {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(error) if items.len() == 1 => {
            batch.failed_alone(&items[0], &error);
            for reply in replies {
                let _ = reply.send(Err(GroupCommitError::Database(error.to_string())));
            }
        }
        Err(error) => {
            tracing::warn!(error = %error, size = items.len(), "batch failed; committing one by one");
            for (item, reply) in items.iter().zip(replies) {
                let outcome = match commit_checked(batch, std::slice::from_ref(item)).await {
                    Ok(mut outcomes) => outcomes.pop().ok_or(GroupCommitError::Closed),
                    Err(error) => {
                        batch.failed_alone(item, &error);
                        Err(GroupCommitError::Database(error.to_string()))
                    }
                };
                let _ = reply.send(outcome);
            }
        }
    }
}

/// The batch's commit, holding it to one outcome per item.
async fn commit_checked<B: Batch>(batch: &B, items: &[B::Item]) -> Result<Vec<B::Outcome>, DbErr> {
    let outcomes = batch.commit(items).await?;
    if outcomes.len() != items.len() {
        return Err(DbErr::Custom(format!(
            "a batch of {} answered {} outcomes",
            items.len(),
            outcomes.len()
        )));
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Doubles numbers; refuses 13 (and any batch holding it); counts its transactions.
    struct Doubler(Arc<AtomicUsize>);

    impl Batch for Doubler {
        type Item = u32;
        type Outcome = u32;

        async fn commit(&self, items: &[u32]) -> Result<Vec<u32>, DbErr> {
            self.0.fetch_add(1, Ordering::SeqCst);
            if items.contains(&13) {
                return Err(DbErr::Custom("unlucky".to_owned()));
            }
            Ok(items.iter().map(|n| n * 2).collect())
        }
    }

    #[tokio::test]
    async fn each_caller_gets_its_own_outcome_and_a_bad_item_fails_alone() {
        let commits = Arc::new(AtomicUsize::new(0));
        let writer = GroupCommit::spawn(Doubler(commits.clone()), 64, 64);
        let calls: Vec<_> = [1, 13, 3]
            .into_iter()
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.submit(n).await })
            })
            .collect();
        let mut answers = Vec::new();
        for call in calls {
            answers.push(call.await.expect("task"));
        }
        assert_eq!(answers[0], Ok(2));
        assert!(
            matches!(&answers[1], Err(GroupCommitError::Database(error)) if error.contains("unlucky")),
            "{:?}",
            answers[1]
        );
        assert_eq!(answers[2], Ok(6));
    }

    #[tokio::test]
    async fn queued_items_share_one_transaction() {
        let commits = Arc::new(AtomicUsize::new(0));
        let writer = GroupCommit::spawn(Doubler(commits.clone()), 64, 64);
        // The writer task has not run yet on this single-threaded runtime: all 10 queue first.
        let answers = futures::future::join_all((0..10).map(|n| writer.submit(n))).await;
        assert_eq!(answers, (0..10).map(|n| Ok(n * 2)).collect::<Vec<_>>());
        assert_eq!(commits.load(Ordering::SeqCst), 1);
    }
}
