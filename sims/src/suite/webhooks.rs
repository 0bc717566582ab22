//! Webhook subscriptions: `POST/GET /v1/webhooks`, `DELETE /v1/webhooks/{id}`.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use serde::Deserialize;

use super::SuiteSim;
use super::error::{ApiError, ApiJson, ApiQuery};
use super::model::{EVENT_TYPES, WebhookSubscription, now};
use super::pagination::{Page, PageQuery, paginate};
use super::signing;
use super::state::Store;

pub fn routes() -> Router<SuiteSim> {
    Router::new()
        .route("/v1/webhooks", post(create_webhook).get(list_webhooks))
        .route("/v1/webhooks/{id}", delete(delete_webhook))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookIn {
    pub url: String,
    pub events: Vec<String>,
}

impl Store {
    pub fn create_webhook(&mut self, input: WebhookIn) -> Result<WebhookSubscription, ApiError> {
        let url = url::Url::parse(&input.url)
            .map_err(|_| ApiError::invalid_request("url must be an absolute http(s) URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ApiError::invalid_request(
                "url must be an absolute http(s) URL",
            ));
        }
        if input.events.is_empty() {
            return Err(ApiError::invalid_request(
                "events must list event types or \"*\"",
            ));
        }
        if let Some(unknown) = input
            .events
            .iter()
            .find(|e| *e != "*" && !EVENT_TYPES.contains(&e.as_str()))
        {
            return Err(ApiError::unprocessable(
                "unknown_event_type",
                format!("unknown event type {unknown}"),
            ));
        }
        let subscription = WebhookSubscription {
            id: self.next_id("wh"),
            url: input.url,
            events: input.events,
            secret: signing::generate_secret(),
            created_at: now(),
        };
        self.webhooks
            .insert(subscription.id.clone(), subscription.clone());
        Ok(subscription)
    }

    pub fn delete_webhook(&mut self, id: &str) -> Result<(), ApiError> {
        self.webhooks
            .remove(id)
            .map(drop)
            .ok_or_else(|| ApiError::not_found("webhook", id))
    }
}

async fn create_webhook(
    State(sim): State<SuiteSim>,
    ApiJson(input): ApiJson<WebhookIn>,
) -> Result<(StatusCode, Json<WebhookSubscription>), ApiError> {
    let subscription = sim.mutate(|store| store.create_webhook(input))?;
    Ok((StatusCode::CREATED, Json(subscription)))
}

async fn list_webhooks(
    State(sim): State<SuiteSim>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<WebhookSubscription>>, ApiError> {
    let subscriptions = sim.mutate(|store| Ok(store.webhooks.values().cloned().collect()))?;
    Ok(Json(paginate(subscriptions, &page)?))
}

async fn delete_webhook(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    sim.mutate(|store| store.delete_webhook(&id))?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_get_a_whsec_secret_of_24_bytes() {
        let mut store = Store::default();
        let input = WebhookIn {
            url: "http://127.0.0.1:9/hook".into(),
            events: vec!["*".into()],
        };
        let subscription = store.create_webhook(input).expect("created");
        assert!(subscription.secret.starts_with("whsec_"));
        let key = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            subscription.secret.trim_start_matches("whsec_"),
        )
        .expect("valid secret");
        assert_eq!(key.len(), 24);
        assert!(signing::sign(&subscription.secret, "msg", 1, b"{}").is_ok());
    }

    #[test]
    fn unknown_event_types_and_bad_urls_are_refused() {
        let mut store = Store::default();
        let bad_event = WebhookIn {
            url: "http://127.0.0.1:9/hook".into(),
            events: vec!["project.exploded".into()],
        };
        let bad_url = WebhookIn {
            url: "ftp://x".into(),
            events: vec!["*".into()],
        };
        assert_eq!(
            store.create_webhook(bad_event).expect_err("refused").code,
            "unknown_event_type"
        );
        assert_eq!(
            store.create_webhook(bad_url).expect_err("refused").code,
            "invalid_request"
        );
    }
}
