//! The `/v1` API: opportunities (one, and listed by `updated_at_start` with `next` offsets),
//! postings, stages, notes and tags. Writes require `perform_as` naming a user of the account.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::error;
use super::model::{Note, World};
use super::state::{SimState, lock};

/// Query parameters, repeated ones (`expand`) kept in order.
fn params(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default()
}

fn all(params: &[(String, String)], name: &str) -> Vec<String> {
    params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

fn first(params: &[(String, String)], name: &str) -> Option<String> {
    all(params, name).into_iter().next()
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("{what} not found"),
    )
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "BadRequestError", message)
}

pub async fn get_opportunity(
    State(state): State<SimState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let expand = all(&params(query.as_deref()), "expand");
    let world = lock(&state.0.world);
    match world.opportunities.get(&id) {
        Some(o) => Json(json!({"data": world.opportunity_json(o, &expand)})).into_response(),
        None => not_found("opportunity"),
    }
}

/// Ordered by `updatedAt` then id; `offset` is the index to start from, handed out as `next`.
pub async fn list_opportunities(
    State(state): State<SimState>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = params(query.as_deref());
    let expand = all(&params, "expand");
    let since: i64 = match first(&params, "updated_at_start").map(|s| s.parse()) {
        None => 0,
        Some(Ok(since)) => since,
        Some(Err(_)) => return bad_request("updated_at_start must be a timestamp in ms"),
    };
    let limit: usize = match first(&params, "limit").map(|s| s.parse::<usize>()) {
        None => 100,
        Some(Ok(limit)) if (1..=100).contains(&limit) => limit,
        Some(_) => return bad_request("limit must be between 1 and 100"),
    };
    let start: usize = match first(&params, "offset") {
        None => 0,
        Some(offset) => match offset.strip_prefix("sim-").and_then(|n| n.parse().ok()) {
            Some(start) => start,
            None => return bad_request("invalid offset"),
        },
    };
    let world = lock(&state.0.world);
    let mut matching: Vec<_> = world
        .opportunities
        .values()
        .filter(|o| o.updated_at >= since)
        .collect();
    matching.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(limit)
        .map(|o| world.opportunity_json(o, &expand))
        .collect();
    let end = start + page.len();
    let has_next = end < matching.len();
    let mut body = json!({"data": page, "hasNext": has_next});
    if has_next {
        body["next"] = json!(format!("sim-{end}"));
    }
    Json(body).into_response()
}

pub async fn get_posting(State(state): State<SimState>, Path(id): Path<String>) -> Response {
    match lock(&state.0.world).postings.get(&id) {
        Some(p) => Json(json!({"data": World::posting_json(p)})).into_response(),
        None => not_found("posting"),
    }
}

pub async fn list_stages(State(state): State<SimState>) -> Response {
    let world = lock(&state.0.world);
    Json(json!({"data": world.stages, "hasNext": false})).into_response()
}

/// The `perform_as` user of a write, when it names a user of the account.
fn performer(state: &SimState, query: Option<&str>) -> Result<String, &'static str> {
    let user = first(&params(query), "perform_as").ok_or("perform_as is required")?;
    if state.config().users.contains(&user) {
        Ok(user)
    } else {
        Err("perform_as is not a user of this account")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteIn {
    value: Option<String>,
    #[serde(default)]
    score: Option<u8>,
}

pub async fn add_note(
    State(state): State<SimState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: Option<Json<NoteIn>>,
) -> Response {
    let user = match performer(&state, query.as_deref()) {
        Ok(user) => user,
        Err(refused) => return bad_request(refused),
    };
    let Some(Json(note)) = body else {
        return bad_request("the body must be JSON");
    };
    let Some(value) = note.value.filter(|v| !v.trim().is_empty()) else {
        return bad_request("value is required");
    };
    if note.score.is_some_and(|s| !(1..=4).contains(&s)) {
        return bad_request("score must be between 1 and 4");
    }
    let mut world = lock(&state.0.world);
    let now = world.tick();
    let Some(opportunity) = world.opportunities.get_mut(&id) else {
        return not_found("opportunity");
    };
    let note = Note {
        id: uuid::Uuid::new_v4().to_string(),
        value,
        score: note.score,
        perform_as: user,
        created_at: now,
    };
    let note_id = note.id.clone();
    opportunity.notes.push(note);
    opportunity.updated_at = now;
    (
        StatusCode::CREATED,
        Json(json!({"data": {"noteId": note_id}})),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct TagsIn {
    tags: Vec<String>,
}

pub async fn add_tags(
    state: State<SimState>,
    path: Path<String>,
    query: RawQuery,
    body: Option<Json<TagsIn>>,
) -> Response {
    change_tags(state, path, query, body, true)
}

pub async fn remove_tags(
    state: State<SimState>,
    path: Path<String>,
    query: RawQuery,
    body: Option<Json<TagsIn>>,
) -> Response {
    change_tags(state, path, query, body, false)
}

fn change_tags(
    State(state): State<SimState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: Option<Json<TagsIn>>,
    add: bool,
) -> Response {
    if let Err(refused) = performer(&state, query.as_deref()) {
        return bad_request(refused);
    }
    let Some(Json(tags)) = body else {
        return bad_request("the body must be JSON {\"tags\": [...]}");
    };
    let mut world = lock(&state.0.world);
    let now = world.tick();
    let Some(opportunity) = world.opportunities.get_mut(&id) else {
        return not_found("opportunity");
    };
    for tag in tags.tags {
        if add && !opportunity.tags.contains(&tag) {
            opportunity.tags.push(tag);
        } else if !add {
            opportunity.tags.retain(|t| *t != tag);
        }
    }
    opportunity.updated_at = now;
    let opportunity = opportunity.clone();
    let body = world.opportunity_json(&opportunity, &[]);
    Json(json!({"data": body})).into_response()
}
