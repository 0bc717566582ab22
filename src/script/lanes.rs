//! Where a tenant's webhook scripts run: a thread of its own (a "lane"), fed by a channel. The
//! lane keeps the tenant's warm runtime (`sandbox`), so the module is compiled once, and a
//! delivery costs one hand-over each way rather than a trip through Tokio's blocking pool,
//! whose threads each warmed their own runtime. A slow or looping script holds only its own
//! tenant's lane (up to the time limit per run), never an async worker nor another tenant.
//! A lane idle for `IDLE` ends, dropping its runtime; the next delivery starts a new one.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use super::error::ScriptError;

/// How long a lane waits for work before it ends.
const IDLE: Duration = Duration::from_secs(60);

type Job = Box<dyn FnOnce() + Send>;

struct Lane {
    sender: Sender<Job>,
    /// Tells this lane from a later one of the same owner.
    generation: u64,
}

#[derive(Default)]
struct Lanes {
    by_owner: Mutex<(u64, HashMap<String, Lane>)>,
}

fn lanes() -> &'static Lanes {
    static LANES: OnceLock<Lanes> = OnceLock::new();
    LANES.get_or_init(Lanes::default)
}

/// Runs `run` on `owner`'s lane and answers its result.
pub async fn on_lane<R: Send + 'static>(
    owner: &str,
    run: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ScriptError> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    lanes().submit(
        owner,
        Box::new(move || {
            let _ = answer.send(run());
        }),
    )?;
    answered
        .await
        .map_err(|_| ScriptError::Engine("the script's thread stopped".to_owned()))
}

impl Lanes {
    fn submit(&'static self, owner: &str, job: Job) -> Result<(), ScriptError> {
        // Sent under the lock: a lane ends only under it too, after finding its queue empty,
        // so no job is left in the channel of a lane that is gone.
        let mut guard = self.by_owner.lock().unwrap_or_else(PoisonError::into_inner);
        let (generations, by_owner) = &mut *guard;
        let job = match by_owner.get(owner) {
            Some(lane) => match lane.sender.send(job) {
                Ok(()) => return Ok(()),
                // Its thread is gone (it cannot be, short of a bug): start another.
                Err(mpsc::SendError(job)) => job,
            },
            None => job,
        };
        *generations += 1;
        let generation = *generations;
        let (sender, receiver) = mpsc::channel();
        let name = format!("script-{owner}");
        let owner = owner.to_owned();
        let owned = owner.clone();
        std::thread::Builder::new()
            .name(name)
            .spawn(move || self.serve(&owned, generation, receiver))
            .map_err(|e| ScriptError::Engine(format!("cannot start a script thread: {e}")))?;
        let _ = sender.send(job);
        by_owner.insert(owner, Lane { sender, generation });
        Ok(())
    }

    fn serve(&self, owner: &str, generation: u64, receiver: Receiver<Job>) {
        loop {
            let job = match receiver.recv_timeout(IDLE) {
                Ok(job) => job,
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {
                    let mut guard = self.by_owner.lock().unwrap_or_else(PoisonError::into_inner);
                    match receiver.try_recv() {
                        Ok(job) => job,
                        Err(_) => {
                            let (_, by_owner) = &mut *guard;
                            if by_owner
                                .get(owner)
                                .is_some_and(|l| l.generation == generation)
                            {
                                by_owner.remove(owner);
                            }
                            return;
                        }
                    }
                }
            };
            // A panic (a bug, not the script's doing) fails that one run, not the lane: its
            // answer is dropped, which the caller reads as an engine failure.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lane_runs_its_owners_jobs_on_one_thread_and_others_elsewhere() {
        let thread = || std::thread::current().id();
        let first = on_lane("lane-test-a", thread).await.ok();
        let again = on_lane("lane-test-a", thread).await.ok();
        let other = on_lane("lane-test-b", thread).await.ok();
        assert!(first.is_some());
        assert_eq!(first, again, "one warm thread per owner");
        assert_ne!(first, other);
        assert_ne!(first, Some(thread()));
    }

    #[tokio::test]
    async fn a_busy_lane_does_not_hold_another_owners() {
        // The slow owner's job waits until the other owner's job has run: on a shared thread
        // it would wait for ever (bounded here).
        let (release, released) = mpsc::channel::<()>();
        let slow = tokio::spawn(on_lane("lane-test-slow", move || {
            released.recv_timeout(Duration::from_secs(5)).is_ok()
        }));
        let fast = tokio::time::timeout(Duration::from_secs(5), on_lane("lane-test-fast", || 1));
        assert_eq!(fast.await.ok().and_then(Result::ok), Some(1));
        let _ = release.send(());
        assert_eq!(slow.await.ok().and_then(Result::ok), Some(true));
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone() {
        let failed = on_lane("lane-test-panic", || -> u8 { panic!("a bug") }).await;
        assert!(matches!(failed, Err(ScriptError::Engine(_))));
        assert_eq!(on_lane("lane-test-panic", || 2).await.ok(), Some(2));
    }
}
