//! Outgoing webhooks: a background worker posts each delivery, signed with Standard Webhooks,
//! retries it on a non-2xx answer, an error or a timeout following the configured schedule, and
//! can duplicate or reorder deliveries when the faults say so. Every attempt is recorded.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::SuiteSim;
use super::model::now;
use super::signing;
use super::state::{DeliveryAttempt, DeliveryStatus, Store};

/// Upper bound of the random hold-back that reorders deliveries under `shuffle`.
const SHUFFLE_MAX_DELAY_MS: u64 = 250;
/// Attempts in flight at once, like a real sender's pool: a burst of thousands of events must not
/// open thousands of connections at the receiver (and run the machine out of ports).
const MAX_IN_FLIGHT: usize = 256;

/// Everything needed to post one delivery.
#[derive(Debug, Clone)]
struct Target {
    url: String,
    secret: String,
    event_id: String,
    body: Vec<u8>,
}

/// The delay before retry number `retry` (1-based), or `None` once the schedule is used up.
pub fn retry_delay(schedule: &[Duration], retry: usize) -> Option<Duration> {
    retry
        .checked_sub(1)
        .and_then(|index| schedule.get(index))
        .copied()
}

pub async fn run_worker(
    sim: SuiteSim,
    mut queue: UnboundedReceiver<String>,
    cancel: CancellationToken,
) {
    let mut builder = reqwest::Client::builder()
        .timeout(sim.config().webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("liaison-suite-sim-webhooks/1");
    if let Some(pem) = &sim.config().trust_pem {
        match reqwest::Certificate::from_pem(pem.as_bytes()) {
            Ok(cert) => builder = builder.add_root_certificate(cert),
            Err(error) => {
                tracing::warn!(%error, "suite simulator: ignoring an unreadable trust_pem")
            }
        }
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "suite simulator cannot build its webhook client");
            return;
        }
    };
    let tasks = TaskTracker::new();
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            next = queue.recv() => match next {
                Some(delivery_id) => {
                    let sender = Sender { client: client.clone(), in_flight: in_flight.clone() };
                    tasks.spawn(deliver(sim.clone(), sender, delivery_id, cancel.clone()));
                }
                None => break,
            },
        }
    }
    tasks.close();
    tasks.wait().await;
}

/// Sleeps unless cancelled; `false` when cancelled.
async fn pause(duration: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        () = cancel.cancelled() => false,
        () = tokio::time::sleep(duration) => true,
    }
}

/// The shared client and the limit on attempts in flight.
struct Sender {
    client: reqwest::Client,
    in_flight: Arc<Semaphore>,
}

impl Sender {
    async fn post(&self, target: &Target) -> DeliveryAttempt {
        let Ok(_permit) = self.in_flight.acquire().await else {
            return attempt(None, Some("the simulator is stopping".to_owned()));
        };
        post(&self.client, target).await
    }
}

async fn deliver(sim: SuiteSim, sender: Sender, delivery_id: String, cancel: CancellationToken) {
    let schedule = sim.config().webhook_retry_schedule.clone();
    let shuffle = sim.store().faults.shuffle;
    if shuffle {
        let hold_back = rand::rng().random_range(0..=SHUFFLE_MAX_DELAY_MS);
        if !pause(Duration::from_millis(hold_back), &cancel).await {
            return;
        }
    }
    for attempt in 0.. {
        if attempt > 0 {
            let Some(delay) = retry_delay(&schedule, attempt) else {
                break;
            };
            if !pause(delay, &cancel).await {
                return;
            }
        }
        let Some(target) = sim.store().delivery_target(&delivery_id) else {
            return;
        };
        let outcome = sender.post(&target).await;
        let delivered = outcome
            .status
            .is_some_and(|status| (200..300).contains(&status));
        sim.store().record_attempt(&delivery_id, outcome);
        if delivered {
            let duplicate_rate = sim.store().faults.duplicate_rate;
            if rand::rng().random::<f64>() < duplicate_rate {
                let _ = sender.post(&target).await;
                sim.store().record_duplicate(&delivery_id);
            }
            return;
        }
    }
    sim.store()
        .finish_delivery(&delivery_id, DeliveryStatus::Failed);
}

async fn post(client: &reqwest::Client, target: &Target) -> DeliveryAttempt {
    let timestamp = chrono::Utc::now().timestamp();
    let signature = match signing::sign(&target.secret, &target.event_id, timestamp, &target.body) {
        Ok(signature) => signature,
        Err(error) => return attempt(None, Some(error.to_string())),
    };
    let sent = client
        .post(&target.url)
        .header("content-type", "application/json")
        .header("webhook-id", &target.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(target.body.clone())
        .send()
        .await;
    match sent {
        Ok(response) => attempt(Some(response.status().as_u16()), None),
        Err(error) => attempt(None, Some(error.to_string())),
    }
}

fn attempt(status: Option<u16>, error: Option<String>) -> DeliveryAttempt {
    DeliveryAttempt {
        at: now(),
        status,
        error,
    }
}

impl Store {
    /// Where and what to post; `None` (and the delivery marked failed) once its subscription
    /// is deleted.
    fn delivery_target(&mut self, delivery_id: &str) -> Option<Target> {
        let delivery = self.deliveries.get(delivery_id)?;
        let Some(subscription) = self.webhooks.get(&delivery.subscription_id) else {
            self.finish_delivery(delivery_id, DeliveryStatus::Failed);
            return None;
        };
        Some(Target {
            url: subscription.url.clone(),
            secret: subscription.secret.clone(),
            event_id: delivery.event_id.clone(),
            body: delivery.body.clone(),
        })
    }

    fn record_attempt(&mut self, delivery_id: &str, attempt: DeliveryAttempt) {
        if let Some(delivery) = self.deliveries.get_mut(delivery_id) {
            if attempt
                .status
                .is_some_and(|status| (200..300).contains(&status))
            {
                delivery.status = DeliveryStatus::Delivered;
            }
            delivery.attempts.push(attempt);
        }
    }

    fn record_duplicate(&mut self, delivery_id: &str) {
        if let Some(delivery) = self.deliveries.get_mut(delivery_id) {
            delivery.duplicates_sent += 1;
        }
    }

    fn finish_delivery(&mut self, delivery_id: &str, status: DeliveryStatus) {
        if let Some(delivery) = self.deliveries.get_mut(delivery_id) {
            delivery.status = status;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let schedule = [Duration::from_millis(100), Duration::from_secs(2)];
        assert_eq!(retry_delay(&schedule, 0), None);
        assert_eq!(retry_delay(&schedule, 1), Some(Duration::from_millis(100)));
        assert_eq!(retry_delay(&schedule, 2), Some(Duration::from_secs(2)));
        assert_eq!(retry_delay(&schedule, 3), None);
    }
}
