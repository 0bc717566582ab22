//! `/_sim` control endpoints for tests: faults, playing out interviews, arbitrary events,
//! forced token expiry, and the whole state for assertions. No authentication.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::SuiteSim;
use super::error::{ApiError, ApiJson};
use super::faults::Faults;
use super::invitations::ReviewIn;
use super::model::{EVENT_TYPES, Invitation, Question, Recommendation, Review, now};
use super::projects::QuestionIn;

pub fn routes() -> Router<SuiteSim> {
    Router::new()
        .route("/_sim/state", get(show_state))
        .route("/_sim/faults", get(show_faults).post(set_faults))
        .route("/_sim/invitations/{id}/start", post(start_invitation))
        .route("/_sim/invitations/{id}/complete", post(complete_invitation))
        .route("/_sim/invitations/{id}/expire", post(expire_invitation))
        .route("/_sim/reviews/{id}", post(update_review))
        .route("/_sim/projects/{id}", delete(delete_project))
        .route("/_sim/projects/{id}/questions", put(write_questions))
        .route("/_sim/candidates/{id}", delete(delete_candidate))
        .route("/_sim/events", post(emit_event))
        .route("/_sim/tokens/expire", post(expire_tokens))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionIn {
    #[serde(default)]
    pub reviews: Vec<ReviewIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewPatch {
    pub score: Option<u8>,
    pub recommendation: Option<Recommendation>,
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default)]
    pub data: Value,
}

async fn show_state(State(sim): State<SuiteSim>) -> Json<Value> {
    // Through `mutate` so due invitations are expired before the picture is taken.
    let _ = sim.mutate(|_| Ok(()));
    Json(sim.snapshot())
}

async fn show_faults(State(sim): State<SuiteSim>) -> Json<Faults> {
    Json(sim.store().faults.clone())
}

/// Replaces the fault settings; fields left out go back to "no fault".
async fn set_faults(
    State(sim): State<SuiteSim>,
    ApiJson(faults): ApiJson<Faults>,
) -> Result<Json<Faults>, ApiError> {
    faults.validate()?;
    sim.store().faults = faults.clone();
    Ok(Json(faults))
}

async fn start_invitation(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<Json<Invitation>, ApiError> {
    Ok(Json(sim.mutate(|store| store.start_invitation(&id))?))
}

async fn complete_invitation(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CompletionIn>,
) -> Result<Json<Value>, ApiError> {
    let (invitation, reviews) = sim.complete_invitation(&id, input.reviews)?;
    Ok(Json(
        json!({ "invitation": invitation, "reviews": reviews }),
    ))
}

/// Moves `expires_at` to now, so the next look at the state expires the invitation.
async fn expire_invitation(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<Json<Invitation>, ApiError> {
    sim.mutate(|store| {
        let invitation = store
            .invitations
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found("invitation", &id))?;
        if invitation.status.is_live() {
            invitation.expires_at = now();
            store.expiry_horizon = None;
        }
        Ok(())
    })?;
    Ok(Json(sim.mutate(|store| store.invitation(&id).cloned())?))
}

async fn update_review(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<ReviewPatch>,
) -> Result<Json<Review>, ApiError> {
    if patch.score.is_some_and(|score| score > 100) {
        return Err(ApiError::invalid_request("score must be between 0 and 100"));
    }
    let review = sim.mutate(|store| {
        let review = store
            .reviews
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found("review", &id))?;
        if let Some(score) = patch.score {
            review.score = score;
        }
        if let Some(recommendation) = patch.recommendation {
            review.recommendation = recommendation;
        }
        if let Some(comment) = patch.comment {
            review.comment = comment;
        }
        review.updated_at = now();
        let review = review.clone();
        store.emit_object("review.updated", &review);
        Ok(review)
    })?;
    Ok(Json(review))
}

/// A recruiter writing the project's interview questions in the suite's own editor: replaces
/// them all, as `PUT /v1/projects/{id}/questions` does, without an API token.
async fn write_questions(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Vec<QuestionIn>>,
) -> Result<Json<Vec<Question>>, ApiError> {
    Ok(Json(
        sim.mutate(|store| store.replace_questions(&id, input))?,
    ))
}

async fn delete_project(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    sim.mutate(|store| {
        store
            .projects
            .remove(&id)
            .ok_or_else(|| ApiError::not_found("project", &id))?;
        store.questions.remove(&id);
        store.emit("project.deleted", json!({ "id": id }));
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// An erasure request: the candidate is gone and `candidate.deleted` goes out.
async fn delete_candidate(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    sim.mutate(|store| {
        let removed = store
            .candidates
            .remove(&id)
            .ok_or_else(|| ApiError::not_found("candidate", &id))?;
        store.indexes.remove_candidate(&removed.email, &removed.id);
        store.emit("candidate.deleted", json!({ "id": id }));
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Emits any event with any data, for tests of the receiving side.
async fn emit_event(
    State(sim): State<SuiteSim>,
    ApiJson(event): ApiJson<EventIn>,
) -> Result<StatusCode, ApiError> {
    if !EVENT_TYPES.contains(&event.event_type.as_str()) {
        return Err(ApiError::unprocessable(
            "unknown_event_type",
            format!("unknown event type {}", event.event_type),
        ));
    }
    sim.mutate(|store| {
        store.emit(&event.event_type, event.data);
        Ok(())
    })?;
    Ok(StatusCode::ACCEPTED)
}

async fn expire_tokens(State(sim): State<SuiteSim>) -> Json<Value> {
    let expired = sim.store().auth.expire_access_tokens();
    Json(json!({ "expired": expired }))
}
