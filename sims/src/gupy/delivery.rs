//! The delivery dispatcher: first attempts leave in queue order (unless shuffled), at most
//! `delivery_concurrency` at a time; a failed delivery (non-2xx, timeout, no connection) is
//! retried on the configured schedule in its own task, and every attempt is recorded.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Semaphore;

use super::events::{Attempt, DeliveryStatus, DeliveryTask};
use super::state::{SimState, lock};
use super::transport;

impl SimState {
    /// Starts the dispatcher on first use (inside the runtime that serves the requests).
    pub(crate) fn ensure_dispatcher(&self) {
        if !self.0.dispatcher_started.swap(true, Ordering::SeqCst) {
            let state = self.clone();
            self.0.tasks.spawn(async move { state.dispatch().await });
        }
    }

    async fn dispatch(self) {
        let in_flight = Arc::new(Semaphore::new(self.0.config.delivery_concurrency.max(1)));
        loop {
            tokio::select! {
                () = self.0.cancel.cancelled() => return,
                () = self.0.outbox_ready.notified() => {}
            }
            while let Some(task) = self.next_task() {
                if let Some(delay) = task.delay {
                    let state = self.clone();
                    self.0.tasks.spawn(async move {
                        if state.pause(delay).await {
                            state.deliver(task).await;
                        }
                    });
                } else {
                    // Taken here, in queue order, so first attempts start in that order.
                    let Ok(permit) = in_flight.clone().acquire_owned().await else {
                        return;
                    };
                    let state = self.clone();
                    self.0.tasks.spawn(async move {
                        let delivered = state.attempt(&task).await;
                        drop(permit);
                        if !delivered {
                            state.retry(task).await;
                        }
                    });
                }
            }
        }
    }

    fn next_task(&self) -> Option<DeliveryTask> {
        lock(&self.0.deliveries).outbox.pop_front()
    }

    /// All attempts of one delivery.
    async fn deliver(self, task: DeliveryTask) {
        if !self.attempt(&task).await {
            self.retry(task).await;
        }
    }

    async fn retry(self, task: DeliveryTask) {
        for delay in self.0.config.retry_schedule.clone() {
            if !self.pause(delay).await {
                return;
            }
            if self.attempt(&task).await {
                return;
            }
        }
        self.set_status(task.record, DeliveryStatus::Failed);
    }

    /// Waits, unless the simulator stops first (then `false`).
    async fn pause(&self, delay: Duration) -> bool {
        tokio::select! {
            () = self.0.cancel.cancelled() => false,
            () = tokio::time::sleep(delay) => true,
        }
    }

    /// One attempt; `true` when the receiver answered 2xx.
    async fn attempt(&self, task: &DeliveryTask) -> bool {
        let at = Utc::now();
        let started = Instant::now();
        let outcome = transport::post(
            &self.0.http,
            &self.0.idle,
            &task.url,
            &task.headers,
            task.body.clone(),
            self.0.config.delivery_timeout,
        )
        .await;
        let attempt = Attempt {
            at,
            status: outcome.as_ref().ok().copied(),
            error: outcome.as_ref().err().cloned(),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        let delivered = attempt.status.is_some_and(|s| (200..300).contains(&s));
        let mut deliveries = lock(&self.0.deliveries);
        if let Some(record) = deliveries.records.get_mut(task.record) {
            record.attempts.push(attempt);
            if delivered {
                record.status = DeliveryStatus::Delivered;
            }
        }
        delivered
    }

    fn set_status(&self, record: usize, status: DeliveryStatus) {
        if let Some(record) = lock(&self.0.deliveries).records.get_mut(record) {
            record.status = status;
        }
    }
}
