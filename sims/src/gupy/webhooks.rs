//! Webhook subscriptions: `POST/GET /api/v1/webhooks`, `DELETE /api/v1/webhooks/{id}`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;

use super::wire::{ListEnvelope, WebhookAction, WebhookSubscription, WebhookSubscriptionRequest};

use super::error::SimError;
use super::pagination::{PageQuery, paginate};
use super::state::{SimState, lock};

pub async fn create_webhook(
    State(state): State<SimState>,
    Json(request): Json<WebhookSubscriptionRequest>,
) -> Result<(StatusCode, Json<WebhookSubscription>), SimError> {
    if request.action == WebhookAction::Unknown {
        return Err(SimError::BadRequest("unknown action".into()));
    }
    let url = url::Url::parse(&request.postback_url)
        .map_err(|e| SimError::BadRequest(format!("postbackUrl: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SimError::BadRequest("postbackUrl must be http(s)".into()));
    }
    let subscription = lock(&state.0.world).subscribe(request, Utc::now());
    Ok((StatusCode::CREATED, Json(subscription)))
}

pub async fn list_webhooks(
    State(state): State<SimState>,
    Query(page): Query<PageQuery>,
) -> Result<Json<ListEnvelope<WebhookSubscription>>, SimError> {
    let all: Vec<WebhookSubscription> = lock(&state.0.world)
        .subscriptions
        .iter()
        .map(|s| s.public())
        .collect();
    Ok(Json(paginate(all, page)?))
}

pub async fn delete_webhook(
    State(state): State<SimState>,
    Path(id): Path<String>,
) -> Result<StatusCode, SimError> {
    lock(&state.0.world).unsubscribe(&id)?;
    Ok(StatusCode::NO_CONTENT)
}
