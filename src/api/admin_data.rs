//! The console's data as JSON: tenant details and a live subscription check, events across
//! tenants with filters and one event in full (masked), queue figures, dead letters, bulk
//! replays, mappings and their preview, and the equivalence search by email.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AdminAuth, TenantPath};
use crate::admin::data::masking::Reveal;
use crate::admin::data::{bulk_replay, equivalences, events, preview, queue, tenants};
use crate::app::AppState;
use crate::error::{ApiError, ApiQuery};
use crate::ids::{BulkReplayId, EventId};
use crate::tenant::{self, Tenant, TenantRef};
use crate::time::to_rfc3339;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tenants/{tenant}", get(show_tenant))
        .route(
            "/tenants/{tenant}/subscriptions/check",
            post(check_subscriptions),
        )
        .route("/tenants/{tenant}/mappings", get(show_mappings))
        .route("/tenants/{tenant}/mappings/preview", post(preview_mapping))
        .route("/tenants/{tenant}/dead-letters", get(list_dead_letters))
        .route(
            "/tenants/{tenant}/equivalences/by-email",
            get(find_equivalences_by_email),
        )
        .route("/events", get(list_all_events))
        .route("/events/{id}", get(show_event))
        .route("/queue", get(show_queue))
        .route("/bulk-replays/{id}", get(show_bulk_replay))
}

async fn open(state: &AppState, tenant: &TenantRef) -> Result<Arc<Tenant>, ApiError> {
    state
        .tenants()?
        .by_slug_now(&tenant.slug)
        .await?
        .ok_or_else(|| ApiError::UnknownTenant(tenant.slug.clone()))
}

async fn show_tenant(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
) -> Result<Json<tenants::TenantOverview>, ApiError> {
    let tenant = open(&state, &tenant).await?;
    Ok(Json(tenants::overview(&state, &tenant).await?))
}

async fn check_subscriptions(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
) -> Result<Json<tenants::SubscriptionCheck>, ApiError> {
    let tenant = open(&state, &tenant).await?;
    Ok(Json(tenants::check_subscriptions(&state, &tenant).await))
}

async fn show_mappings(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let tenant = open(&state, &tenant).await?;
    let config = &tenant.config;
    Ok(Json(json!({
        "ats_kind": config.ats.kind.as_str(),
        "interview_step": config.ats.interview_step,
        "language": config.ats.language,
        "fields": config.ats.fields,
        "writeback": config.writeback,
        "roles": config.roles,
    })))
}

/// The body is the sample itself (JSON, or an XML feed for xml-feed tenants), sent as is.
async fn preview_mapping(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
    body: String,
) -> Result<Json<preview::Preview>, ApiError> {
    let tenant = open(&state, &tenant).await?;
    preview::preview(&tenant, &body)
        .await
        .map(Json)
        .map_err(|error| ApiError::bad_request(error.code(), error.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    limit: Option<u64>,
}

async fn list_dead_letters(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> Result<Json<Value>, ApiError> {
    let data = queue::dead_letters(&state.db, Some(tenant.id), query.limit.unwrap_or(100)).await?;
    Ok(Json(json!({ "data": data })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailQuery {
    email: String,
}

async fn find_equivalences_by_email(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EmailQuery>,
) -> Result<Json<Value>, ApiError> {
    if !query.email.contains('@') {
        return Err(ApiError::bad_request(
            "invalid_email",
            "email must be an address",
        ));
    }
    let rows = equivalences::by_email(&state.db, tenant.id, &query.email).await?;
    let data: Vec<Value> = rows
        .into_iter()
        .map(|row| {
            json!({"kind": row.kind, "ats_id": row.ats_id, "suite_id": row.suite_id,
                   "created_at": to_rfc3339(row.created_at), "synced_at": to_rfc3339(row.synced_at)})
        })
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// Filters of the event lists (`tenant` only on the cross-tenant one).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    pub tenant: Option<String>,
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub source: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

impl EventsQuery {
    /// The filter, `tenant` resolved by the caller; bad times and cursors are 400.
    pub fn filter(
        &self,
        tenant: Option<TenantRef>,
    ) -> Result<(events::EventFilter, Option<i64>), ApiError> {
        let time = |text: &Option<String>, name: &'static str| {
            text.as_deref()
                .map(|t| {
                    crate::time::parse_rfc3339(t).ok_or_else(|| {
                        ApiError::bad_request("invalid_time", format!("`{name}` is not RFC 3339"))
                    })
                })
                .transpose()
        };
        let cursor = self
            .cursor
            .as_deref()
            .map(|c| {
                c.parse::<i64>()
                    .map_err(|_| ApiError::bad_request("invalid_cursor", "cursor is not valid"))
            })
            .transpose()?;
        Ok((
            events::EventFilter {
                tenant: tenant.map(|t| t.id),
                status: self.status.clone(),
                event_type: self.event_type.clone(),
                source: self.source.clone(),
                from: time(&self.from, "from")?,
                to: time(&self.to, "to")?,
            },
            cursor,
        ))
    }
}

async fn list_all_events(
    _: AdminAuth,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<events::EventList>, ApiError> {
    let tenant = match &query.tenant {
        Some(slug) => Some(
            tenant::find_ref(&state.db, slug)
                .await?
                .ok_or_else(|| ApiError::UnknownTenant(slug.clone()))?,
        ),
        None => None,
    };
    let (filter, cursor) = query.filter(tenant)?;
    let page = events::list(&state.db, &filter, query.limit.unwrap_or(100), cursor).await?;
    Ok(Json(page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventQuery {
    unmask: Option<String>,
}

async fn show_event(
    admin: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> Result<Json<events::EventDetail>, ApiError> {
    let event: EventId = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no event `{id}`")))?;
    let reveal = match query.unmask.as_deref() {
        None => Reveal::Nothing,
        Some("personal") => {
            tracing::info!(who = %admin.who, event = %event, "admin revealed personal data of an event");
            Reveal::Personal
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "unmask accepts only `personal` (secrets are never shown)",
            ));
        }
    };
    events::detail(&state.db, event, reveal)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no event `{id}`")))
}

async fn show_queue(
    _: AdminAuth,
    State(state): State<AppState>,
) -> Result<Json<queue::QueueStats>, ApiError> {
    Ok(Json(queue::stats(&state.db).await?))
}

async fn show_bulk_replay(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<bulk_replay::Progress>), ApiError> {
    let replay: BulkReplayId = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no bulk replay `{id}`")))?;
    bulk_replay::progress(&state.db, replay)
        .await?
        .map(|p| (StatusCode::OK, Json(p)))
        .ok_or_else(|| ApiError::NotFound(format!("no bulk replay `{id}`")))
}
