//! `/_sim` controls: the account's postings and opportunities, moves between stages (each
//! firing Lever's webhook), faults, where webhooks go, and the state for assertions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::{Faults, error};
use super::model::{NewOpportunity, World};
use super::state::{SimState, lock};

#[derive(Deserialize)]
pub struct NewPosting {
    text: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    description: String,
}

pub async fn create_posting(
    State(state): State<SimState>,
    Json(new): Json<NewPosting>,
) -> Response {
    let posting = lock(&state.0.world).add_posting(&new.text, &new.location, &new.description);
    (StatusCode::CREATED, Json(World::posting_json(&posting))).into_response()
}

/// Creates an opportunity (an application to a posting), firing `applicationCreated`.
pub async fn create_opportunity(
    State(state): State<SimState>,
    Json(new): Json<NewOpportunity>,
) -> Response {
    let Some(opportunity) = lock(&state.0.world).add_opportunity(&new) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "unknown posting or stage",
        );
    };
    state.fire(
        "applicationCreated",
        event_data(&opportunity.id, &opportunity.contact, None, None),
    );
    (StatusCode::CREATED, Json(json!(opportunity))).into_response()
}

fn event_data(id: &str, contact: &str, from: Option<&str>, to: Option<&str>) -> Value {
    json!({"opportunityId": id, "candidateId": id, "contactId": contact,
           "fromStageId": from, "toStageId": to})
}

#[derive(Deserialize)]
pub struct Move {
    /// A stage id or name.
    stage: String,
}

/// Moves an opportunity to a stage and fires `candidateStageChange`.
pub async fn move_opportunity(
    State(state): State<SimState>,
    Path(id): Path<String>,
    Json(to): Json<Move>,
) -> Response {
    let moved = {
        let mut world = lock(&state.0.world);
        let Some(stage) = world.stage_by_id_or_name(&to.stage).map(|s| s.id.clone()) else {
            return error(StatusCode::BAD_REQUEST, "BadRequestError", "unknown stage");
        };
        let now = world.tick();
        let Some(opportunity) = world.opportunities.get_mut(&id) else {
            return error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                "opportunity not found",
            );
        };
        let from = std::mem::replace(&mut opportunity.stage, stage.clone());
        opportunity.updated_at = now;
        event_data(&id, &opportunity.contact, Some(&from), Some(&stage))
    };
    state.fire("candidateStageChange", moved.clone());
    Json(moved).into_response()
}

/// Archives an opportunity (`{"reason": "..."}`) and fires `candidateArchiveChange`.
pub async fn archive_opportunity(
    State(state): State<SimState>,
    Path(id): Path<String>,
    Json(reason): Json<Value>,
) -> Response {
    let data = {
        let mut world = lock(&state.0.world);
        let now = world.tick();
        let Some(opportunity) = world.opportunities.get_mut(&id) else {
            return error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                "opportunity not found",
            );
        };
        opportunity.archived = Some(json!({"archivedAt": now, "reason": reason["reason"]}));
        opportunity.updated_at = now;
        event_data(&id, &opportunity.contact, None, None)
    };
    state.fire("candidateArchiveChange", data.clone());
    Json(data).into_response()
}

/// Deletes an opportunity and fires `candidateDeleted`.
pub async fn delete_opportunity(State(state): State<SimState>, Path(id): Path<String>) -> Response {
    let Some(opportunity) = lock(&state.0.world).opportunities.remove(&id) else {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            "opportunity not found",
        );
    };
    state.fire(
        "candidateDeleted",
        event_data(&id, &opportunity.contact, None, None),
    );
    StatusCode::NO_CONTENT.into_response()
}

pub async fn set_faults(State(state): State<SimState>, Json(faults): Json<Faults>) -> Response {
    let rates = 0.0..=1.0;
    if !rates.contains(&faults.duplicate_rate) || !rates.contains(&faults.error_rate) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "rates are between 0 and 1",
        );
    }
    state.set_faults(faults.clone());
    Json(json!(faults)).into_response()
}

#[derive(Deserialize)]
pub struct WebhookTarget {
    url: Option<String>,
}

pub async fn set_webhook(
    State(state): State<SimState>,
    Json(target): Json<WebhookTarget>,
) -> Response {
    state.set_webhook_url(target.url.clone());
    Json(json!({"url": target.url})).into_response()
}

pub async fn show_state(State(state): State<SimState>) -> Response {
    Json(state.snapshot()).into_response()
}
