//! Webhook subscriptions in the world: create, delete, silently drop, match an event.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::wire::{WebhookAction, WebhookSubscription, WebhookSubscriptionRequest};

use super::error::SimError;
use super::model::World;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionRecord {
    pub id: String,
    #[serde(flatten)]
    pub request: WebhookSubscriptionRequest,
    #[serde(with = "super::wire::gupy_time")]
    pub created_at: DateTime<Utc>,
}

impl SubscriptionRecord {
    pub fn public(&self) -> WebhookSubscription {
        WebhookSubscription {
            id: self.id.clone(),
            action: self.request.action,
            postback_url: self.request.postback_url.clone(),
            status: self.request.status.clone(),
        }
    }
}

impl World {
    pub fn subscribe(
        &mut self,
        request: WebhookSubscriptionRequest,
        now: DateTime<Utc>,
    ) -> WebhookSubscription {
        let record = SubscriptionRecord {
            id: uuid::Uuid::new_v4().to_string(),
            request,
            created_at: now,
        };
        let public = record.public();
        self.subscriptions.push(record);
        public
    }

    pub fn unsubscribe(&mut self, id: &str) -> Result<(), SimError> {
        let before = self.subscriptions.len();
        self.subscriptions.retain(|s| s.id != id);
        if self.subscriptions.len() == before {
            return Err(SimError::NotFound("webhook"));
        }
        Ok(())
    }

    /// Silently removes subscriptions (all, or the one with `id`); answers how many.
    pub fn drop_subscriptions(&mut self, id: Option<&str>) -> usize {
        let (dropped, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.subscriptions)
            .into_iter()
            .partition(|s| id.is_none_or(|id| s.id == id));
        self.subscriptions = kept;
        let count = dropped.len();
        self.dropped_subscriptions.extend(dropped);
        count
    }

    /// Active subscriptions to `action`.
    pub fn subscribers(&self, action: WebhookAction) -> impl Iterator<Item = &SubscriptionRecord> {
        self.subscriptions
            .iter()
            .filter(move |s| s.request.action == action && s.request.status == "active")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_subscriptions_moves_them_aside() {
        let mut world = World::new("ACME".into(), 0);
        let request = |action| WebhookSubscriptionRequest {
            action,
            status: "active".into(),
            postback_url: "http://127.0.0.1:1/h".into(),
            tech_owner_name: None,
            tech_owner_email: None,
            client_headers: Default::default(),
        };
        let kept = world.subscribe(request(WebhookAction::JobPublished), Utc::now());
        let gone = world.subscribe(request(WebhookAction::ApplicationMoved), Utc::now());
        assert_eq!(world.drop_subscriptions(Some(&gone.id)), 1);
        assert_eq!(
            world.subscribers(WebhookAction::ApplicationMoved).count(),
            0
        );
        assert_eq!(world.subscribers(WebhookAction::JobPublished).count(), 1);
        assert_eq!(world.dropped_subscriptions.len(), 1);
        assert!(world.unsubscribe(&kept.id).is_ok());
        assert!(world.unsubscribe(&kept.id).is_err());
    }
}
