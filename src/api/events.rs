//! The event log: list a tenant's events, replay one event or all dead letters of a tenant.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::admin_data::EventsQuery;
use super::{AdminAuth, TenantPath};
use crate::admin::data::{bulk_replay, events};
use crate::app::AppState;
use crate::error::{ApiError, ApiQuery};
use crate::ids::EventId;
use crate::sync::replay;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tenants/{tenant}/events", get(list_events))
        .route(
            "/tenants/{tenant}/dead-letters/replay",
            post(replay_dead_letters),
        )
        .route("/events/{id}/replay", post(replay_event))
}

/// `status`, `type`, `source`, `from`, `to` (RFC 3339), `limit`, `cursor`.
async fn list_events(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<Value>, ApiError> {
    if query.tenant.is_some() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "the tenant is in the path here",
        ));
    }
    let (filter, cursor) = query.filter(Some(tenant))?;
    let page = events::list(&state.db, &filter, query.limit.unwrap_or(100), cursor).await?;
    let data: Vec<_> = page.data.into_iter().map(|item| item.event).collect();
    Ok(Json(json!({"data": data, "next_cursor": page.next_cursor})))
}

async fn replay_event(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let event: EventId = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no event `{id}`")))?;
    let outcome = replay::replay_event(
        &state.db,
        state.tenants.as_ref(),
        state.settings.queue.max_attempts,
        event,
    )
    .await?;
    let answer = match outcome {
        replay::ReplayOutcome::NotFound => {
            return Err(ApiError::NotFound(format!("no event `{id}`")));
        }
        replay::ReplayOutcome::Requeued(jobs) => {
            state.wake.notify_one();
            (
                StatusCode::ACCEPTED,
                json!({"status": "requeued", "event_id": event.to_string(), "jobs": jobs}),
            )
        }
        replay::ReplayOutcome::Recaught { events, new } => {
            state.wake.notify_one();
            (
                StatusCode::ACCEPTED,
                json!({"status": "recaught", "event_id": event.to_string(), "events": events, "new": new}),
            )
        }
        replay::ReplayOutcome::RecatchFailed(reason) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": {"code": "recatch_failed", "message": reason}}),
        ),
        replay::ReplayOutcome::AlreadyQueued => (
            StatusCode::OK,
            json!({"status": "already_queued", "event_id": event.to_string(), "jobs": 0}),
        ),
    };
    Ok((answer.0, Json(answer.1)))
}

/// Records a bulk replay (its progress is at `/api/v1/bulk-replays/{id}`).
async fn replay_dead_letters(
    admin: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match bulk_replay::start(&state.db, tenant.id, &admin.who).await? {
        Some((id, jobs)) => {
            state.wake.notify_one();
            tracing::info!(who = %admin.who, replay = %id, jobs, "dead letters replayed");
            Ok((
                StatusCode::ACCEPTED,
                Json(json!({"status": "requeued", "jobs": jobs, "bulk_replay_id": id.to_string()})),
            ))
        }
        None => Ok((
            StatusCode::OK,
            Json(json!({"status": "nothing_to_replay", "jobs": 0, "bulk_replay_id": null})),
        )),
    }
}
