//! The event debugger: events with filters, one event with its payloads (masked), jobs and
//! attempts; replay of one event or of all dead letters of a tenant, and the bulk replay's
//! progress.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Admin;
use super::data::bulk_replay::{self, Progress};
use super::data::events::{self as event_data, EventDetail, EventFilter, EventItem};
use super::data::masking::Reveal;
use super::page::{AdminError, Chrome, html};
use super::tenants::CsrfForm;
use crate::app::AppState;
use crate::ids::{BulkReplayId, EventId};
use crate::sync::replay::{self, ReplayOutcome};
use crate::tenant;
use crate::web::error::PageQuery;

/// The list's filters, as the form sends them (empty fields mean "any").
#[derive(Debug, Default, Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    pub tenant: String,
    #[serde(default)]
    pub status: String,
    #[serde(default, rename = "type")]
    pub event_type: String,
    #[serde(default)]
    pub source: String,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` (a browser's datetime-local, read as UTC).
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub cursor: String,
}

/// A time filter: RFC 3339 or a browser's `datetime-local` value, read as UTC.
pub fn parse_time(text: &str) -> Option<i64> {
    crate::time::parse_rfc3339(text).or_else(|| {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
            .ok()
            .map(|t| t.and_utc().timestamp_millis())
    })
}

fn some(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[derive(Template)]
#[template(path = "admin/events.html")]
struct EventsPage {
    chrome: Option<Chrome>,
    q: EventsQuery,
    tenants: Vec<String>,
    events: Vec<EventItem>,
    next_url: Option<String>,
}

/// `GET /admin/events?tenant=&status=&type=&source=&from=&to=&cursor=`.
pub async fn show_events_page(
    admin: Admin,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<EventsQuery>,
) -> Result<Response, AdminError> {
    let tenant = match some(&q.tenant) {
        Some(slug) => Some(
            tenant::find_ref(&state.db, &slug)
                .await?
                .ok_or_else(|| AdminError::NotFound(format!("no tenant `{slug}`")))?
                .id,
        ),
        None => None,
    };
    let time = |text: &str, name: &str| match some(text) {
        None => Ok(None),
        Some(t) => parse_time(&t)
            .map(Some)
            .ok_or_else(|| AdminError::BadRequest(format!("`{name}` is not a time: {t}"))),
    };
    let filter = EventFilter {
        tenant,
        status: some(&q.status),
        event_type: some(&q.event_type),
        source: some(&q.source),
        from: time(&q.from, "from")?,
        to: time(&q.to, "to")?,
    };
    let cursor = match some(&q.cursor) {
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| AdminError::BadRequest("the cursor is not valid".to_owned()))?,
        ),
        None => None,
    };
    let page = event_data::list(&state.db, &filter, 50, cursor).await?;
    let next_url = page.next_cursor.map(|c| {
        let pairs = [
            ("tenant", q.tenant.as_str()),
            ("status", &q.status),
            ("type", &q.event_type),
            ("source", &q.source),
            ("from", &q.from),
            ("to", &q.to),
            ("cursor", &c),
        ];
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()))
            .finish();
        format!("/admin/events?{query}")
    });
    let tenants = tenant::list(&state.db)
        .await?
        .into_iter()
        .map(|t| t.slug)
        .collect();
    Ok(html(&EventsPage {
        chrome: Some(admin.chrome("events")),
        q,
        tenants,
        events: page.data,
        next_url,
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct EventQuery {
    /// `personal` shows personal data (logged); secrets stay masked whatever is asked.
    #[serde(default)]
    unmask: String,
    /// What the last replay did, to say so on the page.
    #[serde(default)]
    replay: String,
}

#[derive(Template)]
#[template(path = "admin/event.html")]
struct EventPage {
    chrome: Option<Chrome>,
    e: EventDetail,
    payload: String,
    normalized: String,
    replay: String,
}

fn parse_event_id(id: &str) -> Result<EventId, AdminError> {
    id.parse()
        .map_err(|_| AdminError::NotFound(format!("no event `{id}`")))
}

/// `GET /admin/events/{id}[?unmask=personal]`.
pub async fn show_event_page(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageQuery(query): PageQuery<EventQuery>,
) -> Result<Response, AdminError> {
    let event = parse_event_id(&id)?;
    let reveal = if query.unmask == "personal" {
        tracing::info!(who = %admin.who, event = %event, "admin revealed personal data of an event");
        Reveal::Personal
    } else {
        Reveal::Nothing
    };
    let e = event_data::detail(&state.db, event, reveal)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no event `{id}`")))?;
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    Ok(html(&EventPage {
        chrome: Some(admin.chrome("events")),
        payload: pretty(&e.payload),
        normalized: pretty(&e.normalized),
        e,
        replay: query.replay,
    }))
}

/// `POST /admin/events/{id}/replay`: idempotent (jobs already queued are left alone).
#[tracing::instrument(skip_all, fields(event = %id))]
pub async fn replay_event(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AdminError> {
    admin.check_csrf(&form.csrf)?;
    let event = parse_event_id(&id)?;
    let outcome = replay::replay_event(
        &state.db,
        state.tenants.as_ref(),
        state.settings.queue.max_attempts,
        event,
    )
    .await?;
    let said = match outcome {
        ReplayOutcome::NotFound => return Err(AdminError::NotFound(format!("no event `{id}`"))),
        ReplayOutcome::Requeued(_) => {
            state.wake.notify_one();
            "requeued"
        }
        ReplayOutcome::Recaught { .. } => {
            state.wake.notify_one();
            "recaught"
        }
        ReplayOutcome::AlreadyQueued => "already_queued",
        ReplayOutcome::RecatchFailed(reason) => {
            tracing::warn!(reason, "a failed catch failed again on replay");
            "recatch_failed"
        }
    };
    tracing::info!(who = %admin.who, outcome = said, "admin replayed an event");
    Ok(Redirect::to(&format!("/admin/events/{event}?replay={said}")).into_response())
}

/// `POST /admin/tenants/{tenant}/dead-letters/replay`: to the replay's progress page.
#[tracing::instrument(skip_all, fields(tenant = %slug))]
pub async fn replay_dead_letters(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AdminError> {
    admin.check_csrf(&form.csrf)?;
    let tenant = tenant::find_ref(&state.db, &slug)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no tenant `{slug}`")))?;
    match bulk_replay::start(&state.db, tenant.id, &admin.who).await? {
        Some((id, jobs)) => {
            state.wake.notify_waiters();
            state.wake.notify_one();
            tracing::info!(who = %admin.who, replay = %id, jobs, "admin replayed dead letters");
            Ok(Redirect::to(&format!("/admin/replays/{id}")).into_response())
        }
        None => {
            Ok(Redirect::to(&format!("/admin/queue?tenant={slug}&replay=nothing")).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "admin/replay.html")]
struct ReplayPage {
    chrome: Option<Chrome>,
    p: Progress,
    percent: i64,
}

/// `GET /admin/replays/{id}`: refreshes itself until the replay is finished.
pub async fn show_replay_page(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    let replay: BulkReplayId = id
        .parse()
        .map_err(|_| AdminError::NotFound(format!("no replay `{id}`")))?;
    let p = bulk_replay::progress(&state.db, replay)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no replay `{id}`")))?;
    let settled = p.done + p.dead;
    let percent = (settled * 100).checked_div(p.jobs).unwrap_or(100);
    Ok(html(&ReplayPage {
        chrome: Some(admin.chrome("queue")),
        p,
        percent,
    }))
}
