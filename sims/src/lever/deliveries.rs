//! Firing webhooks: one task per delivery, retried on Lever's schedule while the receiver
//! answers anything but 2xx (3xx included), every attempt recorded. The `duplicate_rate` fault
//! sends a delivery twice (same `id` and `token`), `shuffle` delays each by a random time.

use rand::Rng;
use serde_json::{Value, json};

use super::faults::happens;
use super::state::{SimState, lock};
use super::webhook::WebhookBody;

impl SimState {
    /// Fires `event` about `data` to the configured webhook URL (nothing when none is set),
    /// signed with the configured signature token.
    pub fn fire(&self, event: &str, data: Value) {
        let Some(url) = lock(&self.0.webhook_url).clone() else {
            return;
        };
        let now = chrono::Utc::now().timestamp_millis();
        let body = WebhookBody::new(event, data, now, self.0.config.signature_token.as_deref());
        let faults = self.faults();
        let copies = if happens(faults.duplicate_rate) { 2 } else { 1 };
        for _ in 0..copies {
            let delay = if faults.shuffle {
                let window = self.0.config.shuffle_window.as_millis().max(1);
                let millis = rand::rng().random_range(0..window);
                std::time::Duration::from_millis(u64::try_from(millis).unwrap_or(0))
            } else {
                std::time::Duration::ZERO
            };
            let (state, url, body) = (self.clone(), url.clone(), body.clone());
            self.0.tasks.spawn(async move {
                tokio::time::sleep(delay).await;
                state.deliver(&url, &body).await;
            });
        }
    }

    async fn deliver(&self, url: &str, body: &WebhookBody) {
        let bytes = body.to_bytes();
        let mut attempts = Vec::new();
        let mut schedule = self.0.config.retry_schedule.clone().into_iter();
        loop {
            let sent = self
                .0
                .http
                .post(url)
                .header("content-type", "application/json")
                .body(bytes.clone())
                .send()
                .await;
            let status = sent.as_ref().ok().map(|r| r.status().as_u16());
            attempts.push(json!(status));
            let delivered = status.is_some_and(|s| (200..300).contains(&s));
            if delivered {
                break;
            }
            let Some(delay) = schedule.next() else { break };
            tokio::select! {
                () = self.0.cancel.cancelled() => break,
                () = tokio::time::sleep(delay) => {}
            }
        }
        lock(&self.0.deliveries).push(json!({
            "id": body.id,
            "event": body.event,
            "token": body.token,
            "attempts": attempts,
        }));
    }
}
