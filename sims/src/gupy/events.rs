//! Emitting events: the delivery body of `contracts/gupy.md`, one delivery per matching
//! subscription (plus duplicates when the fault asks), queued in emission order.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Serialize;

use super::wire::{
    Application, DeliveryApplication, DeliveryData, DeliveryJob, Job, Step, WebhookAction,
    WebhookDelivery,
};

use super::faults::Faults;
use super::model::World;
use super::state::{SimState, lock};

/// Delivery records (for `/_sim/state`) and the queue of first attempts.
#[derive(Debug, Default)]
pub struct Deliveries {
    /// Append-only, so a task can refer to its record by index.
    pub records: Vec<DeliveryRecord>,
    pub outbox: VecDeque<DeliveryTask>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

/// One delivery of one event to one subscription, with every attempt.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    pub id: String,
    pub event_id: String,
    pub event: WebhookAction,
    pub subscription_id: String,
    pub postback_url: String,
    /// A copy made by the `duplicate_rate` fault.
    pub duplicate: bool,
    pub status: DeliveryStatus,
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    #[serde(with = "super::wire::gupy_time")]
    pub at: DateTime<Utc>,
    /// The answer's status, when there was an answer.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// What the dispatcher needs to send one delivery.
#[derive(Debug, Clone)]
pub struct DeliveryTask {
    pub record: usize,
    pub url: String,
    /// Exactly the subscription's `clientHeaders`.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Set by the `shuffle` fault: a random wait before the first attempt.
    pub delay: Option<Duration>,
}

pub fn job_data(job: &Job) -> DeliveryData {
    DeliveryData {
        job: DeliveryJob {
            id: job.id,
            name: job.name.clone(),
            kind: Some("vacancy_type_effective".to_owned()),
            status: Some(job.status),
            department_code: None,
            role_code: None,
            branch_code: None,
        },
        application: None,
        candidate: None,
    }
}

pub fn application_data(
    job: &Job,
    application: &Application,
    previous: Option<Step>,
) -> DeliveryData {
    DeliveryData {
        application: Some(DeliveryApplication {
            id: application.id,
            score: None,
            status: application.status,
            tags: application.tags.clone(),
            current_step: application.current_step.clone(),
            previous_step: previous,
        }),
        candidate: Some(application.candidate.clone()),
        ..job_data(job)
    }
}

impl SimState {
    /// Records the event and queues its deliveries. Called with the world locked, so that
    /// queue order is emission order.
    pub(crate) fn emit(
        &self,
        world: &mut World,
        event: WebhookAction,
        mut data: DeliveryData,
        now: DateTime<Utc>,
    ) {
        let faults = self.faults();
        if faults.omit_candidate_id
            && let Some(candidate) = data.candidate.as_mut()
        {
            candidate.id = None;
        }
        let delivery = WebhookDelivery {
            company_name: Some(world.company_name.clone()),
            id: uuid::Uuid::new_v4().to_string(),
            event,
            date: now,
            data,
        };
        let body = match serde_json::to_vec(&delivery) {
            Ok(body) => Bytes::from(body),
            Err(error) => {
                tracing::error!(%error, "cannot serialise a Gupy delivery");
                return;
            }
        };
        let mut deliveries = lock(&self.0.deliveries);
        for subscription in world.subscribers(event) {
            let copies = if Faults::happens(faults.duplicate_rate) {
                2
            } else {
                1
            };
            for copy in 0..copies {
                let record = DeliveryRecord {
                    id: uuid::Uuid::new_v4().to_string(),
                    event_id: delivery.id.clone(),
                    event,
                    subscription_id: subscription.id.clone(),
                    postback_url: subscription.request.postback_url.clone(),
                    duplicate: copy > 0,
                    status: DeliveryStatus::Pending,
                    attempts: Vec::new(),
                };
                deliveries.records.push(record);
                let delay = faults.shuffle.then(|| self.shuffle_delay());
                let task = DeliveryTask {
                    record: deliveries.records.len() - 1,
                    url: subscription.request.postback_url.clone(),
                    headers: subscription
                        .request
                        .client_headers
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    body: body.clone(),
                    delay,
                };
                deliveries.outbox.push_back(task);
            }
        }
        drop(deliveries);
        world.events.push(delivery);
        self.0.outbox_ready.notify_one();
        self.ensure_dispatcher();
    }

    fn shuffle_delay(&self) -> Duration {
        let window = self.0.config.shuffle_window.as_millis() as u64;
        Duration::from_millis(rand::rng().random_range(0..=window))
    }
}
