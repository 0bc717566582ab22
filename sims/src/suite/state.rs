//! The simulator's in-memory state: every object, the event log, webhook deliveries and the
//! counters tests assert on. Resource modules add their operations in `impl Store` blocks.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::Serialize;
use serde_json::{Value, json};

use super::faults::Faults;
use super::grants::AuthStore;
use super::idempotency::IdempotencyStore;
use super::model::{
    Candidate, Invitation, Project, Question, Review, Timestamp, User, WebhookSubscription, now,
};

/// Everything the simulator knows. Serializing it gives `GET /_sim/state`; credentials and
/// bookkeeping are skipped.
#[derive(Debug, Default, Serialize)]
pub struct Store {
    #[serde(skip)]
    seq: u64,
    pub projects: BTreeMap<String, Project>,
    /// Questions by project id, in position order.
    pub questions: BTreeMap<String, Vec<Question>>,
    pub candidates: BTreeMap<String, Candidate>,
    pub invitations: BTreeMap<String, Invitation>,
    pub reviews: BTreeMap<String, Review>,
    pub users: BTreeMap<String, User>,
    pub webhooks: BTreeMap<String, WebhookSubscription>,
    /// One-time login links minted by `POST /v1/sessions`, by token.
    pub sessions: BTreeMap<String, LoginLink>,
    /// Who landed where through a login link, in order.
    pub logins: Vec<Landing>,
    pub events: Vec<EventRecord>,
    pub deliveries: BTreeMap<String, Delivery>,
    pub counters: Counters,
    pub faults: Faults,
    #[serde(skip)]
    pub auth: AuthStore,
    #[serde(skip)]
    pub idempotency: IdempotencyStore,
    /// Deliveries created since the delivery worker was last handed work.
    #[serde(skip)]
    pending_deliveries: Vec<String>,
    /// No live invitation expires before this (None: unknown). Spares `expire_due_invitations`
    /// a scan of every invitation on every call; whatever sets an `expires_at` lowers or clears
    /// it (`create_invitation`, `POST /_sim/invitations/{id}/expire`).
    #[serde(skip)]
    pub expiry_horizon: Option<super::model::Timestamp>,
    /// What the API looks up on every create, kept by the methods that change the maps above.
    #[serde(skip)]
    pub(super) indexes: Indexes,
}

/// Lookups that would otherwise scan every candidate, invitation or review: a benchmark run
/// holds tens of thousands of each.
#[derive(Debug, Default)]
pub(super) struct Indexes {
    /// Candidate ids by lower-cased email.
    pub candidates_by_email: HashMap<String, BTreeSet<String>>,
    /// Invitation ids by project and candidate, oldest first (invitations are never removed).
    pub invitations_by_pair: HashMap<(String, String), Vec<String>>,
    /// Review ids by invitation, oldest first (reviews are never removed).
    pub reviews_by_invitation: HashMap<String, Vec<String>>,
}

impl Indexes {
    pub fn add_candidate(&mut self, email: &str, id: &str) {
        self.candidates_by_email
            .entry(email.to_lowercase())
            .or_default()
            .insert(id.to_owned());
    }

    pub fn remove_candidate(&mut self, email: &str, id: &str) {
        let key = email.to_lowercase();
        if let Some(ids) = self.candidates_by_email.get_mut(&key) {
            ids.remove(id);
            if ids.is_empty() {
                self.candidates_by_email.remove(&key);
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LoginLink {
    pub user_id: String,
    pub redirect_path: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Landing {
    pub user_id: String,
    pub path: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    /// The `webhook-id` every delivery of this event carries.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub payload: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub subscription_id: String,
    pub url: String,
    pub status: DeliveryStatus,
    pub attempts: Vec<DeliveryAttempt>,
    /// Extra copies sent on purpose (`duplicate_rate`).
    pub duplicates_sent: u32,
    #[serde(skip)]
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryAttempt {
    pub at: Timestamp,
    /// The receiver's status, or none when the request failed or timed out.
    pub status: Option<u16>,
    pub error: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Counters {
    /// Token requests by `grant_type` (unknown ones included).
    pub token_requests: BTreeMap<String, u64>,
    /// Calls by `"METHOD /path/{template}"`.
    pub calls: BTreeMap<String, u64>,
    /// `/v1` calls seen, which `rate_limit_every` counts.
    pub v1_calls: u64,
    pub faults_injected: u64,
    pub rate_limited: u64,
    pub idempotent_replays: u64,
    /// Grants revoked because an already used refresh token came back.
    pub refresh_reuse_revocations: u64,
    pub grant_revoked_for_refresh_reuse: bool,
}

impl Store {
    /// An empty store whose ids start after `seq`.
    pub fn starting_at(seq: u64) -> Self {
        Self {
            seq,
            ..Self::default()
        }
    }

    /// The next id with a kind prefix; zero-padded so ids sort in creation order.
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}_{:08}", self.seq)
    }

    /// Records an event and queues one delivery per matching subscription.
    pub fn emit(&mut self, event_type: &str, data: Value) {
        let event_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let payload = json!({ "type": event_type, "timestamp": now(), "data": data });
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        let targets: Vec<(String, String)> = self
            .webhooks
            .values()
            .filter(|subscription| subscription.wants(event_type))
            .map(|subscription| (subscription.id.clone(), subscription.url.clone()))
            .collect();
        for (subscription_id, url) in targets {
            let id = self.next_id("dlv");
            self.deliveries.insert(
                id.clone(),
                Delivery {
                    id: id.clone(),
                    event_id: event_id.clone(),
                    event_type: event_type.to_owned(),
                    subscription_id,
                    url,
                    status: DeliveryStatus::Pending,
                    attempts: Vec::new(),
                    duplicates_sent: 0,
                    body: body.clone(),
                },
            );
            self.pending_deliveries.push(id);
        }
        self.events.push(EventRecord {
            id: event_id,
            event_type: event_type.to_owned(),
            payload,
        });
    }

    /// Emits an event whose `data` is `object` as the API shows it.
    pub fn emit_object(&mut self, event_type: &str, object: &impl Serialize) {
        let data = serde_json::to_value(object).unwrap_or(Value::Null);
        self.emit(event_type, data);
    }

    pub fn take_pending_deliveries(&mut self) -> Vec<String> {
        std::mem::take(&mut self.pending_deliveries)
    }

    pub fn count_call(&mut self, route: String) {
        *self.counters.calls.entry(route).or_default() += 1;
    }
}

/// An unguessable token, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_creation_order() {
        let mut store = Store::default();
        let ids: Vec<String> = (0..12).map(|_| store.next_id("prj")).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn events_reach_only_matching_subscriptions() {
        let mut store = Store::default();
        for (id, events) in [
            ("wh_all", vec!["*"]),
            ("wh_projects", vec!["project.updated"]),
        ] {
            store.webhooks.insert(
                id.to_owned(),
                WebhookSubscription {
                    id: id.to_owned(),
                    url: format!("http://127.0.0.1:1/{id}"),
                    events: events.into_iter().map(str::to_owned).collect(),
                    secret: "whsec_AAAA".to_owned(),
                    created_at: now(),
                },
            );
        }
        store.emit("candidate.updated", json!({"id": "cand_1"}));
        store.emit("project.updated", json!({"id": "prj_1"}));
        let targets: Vec<(String, String)> = store
            .deliveries
            .values()
            .map(|d| (d.event_type.clone(), d.subscription_id.clone()))
            .collect();
        assert_eq!(
            targets,
            [
                ("candidate.updated".to_owned(), "wh_all".to_owned()),
                ("project.updated".to_owned(), "wh_all".to_owned()),
                ("project.updated".to_owned(), "wh_projects".to_owned()),
            ]
        );
        assert_eq!(store.take_pending_deliveries().len(), 3);
        assert_eq!(store.events.len(), 2);
    }
}
