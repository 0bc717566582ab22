//! The event log: list a tenant's events, replay one event or all dead letters of a tenant.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AdminAuth, TenantPath};
use crate::app::AppState;
use crate::error::{ApiError, ApiQuery};
use crate::ids::EventId;
use crate::sync::{events_log, replay};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tenants/{tenant}/events", get(list_events))
        .route(
            "/tenants/{tenant}/dead-letters/replay",
            post(replay_dead_letters),
        )
        .route("/events/{id}/replay", post(replay_event))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

async fn list_events(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<events_log::EventPage>, ApiError> {
    let cursor = query
        .cursor
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::bad_request("invalid_cursor", "cursor is not valid"))
        })
        .transpose()?;
    let page = events_log::list(
        &state.db,
        tenant.id,
        query.status.as_deref(),
        query.limit.unwrap_or(100),
        cursor,
    )
    .await?;
    Ok(Json(page))
}

async fn replay_event(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let event: EventId = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no event `{id}`")))?;
    let answer = match replay::replay_event(&state.db, event).await? {
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
        replay::ReplayOutcome::AlreadyQueued => (
            StatusCode::OK,
            json!({"status": "already_queued", "event_id": event.to_string(), "jobs": 0}),
        ),
    };
    Ok((answer.0, Json(answer.1)))
}

async fn replay_dead_letters(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let jobs = replay::replay_dead_letters(&state.db, tenant.id).await?;
    if jobs > 0 {
        state.wake.notify_one();
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"status": "requeued", "jobs": jobs})),
    ))
}
