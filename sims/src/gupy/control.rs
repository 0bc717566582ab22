//! The simulator's own controls (`/_sim`, no auth): create and change data (emitting the
//! matching events), set faults, drop subscriptions, read everything.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::wire::{Application, Job, JobStatus, WebhookAction};

use super::error::SimError;
use super::events::{application_data, job_data};
use super::faults::Faults;
use super::model::{JobChange, NewCandidate, NewJob};
use super::state::{SimState, lock};

/// `POST /_sim/jobs`: emits `job.published` when the job is created published.
pub async fn create_job(
    State(state): State<SimState>,
    Json(new): Json<NewJob>,
) -> Result<(StatusCode, Json<Job>), SimError> {
    let now = Utc::now();
    let mut world = lock(&state.0.world);
    let job = world.create_job(new, now);
    if job.status == JobStatus::Published {
        state.emit(&mut world, WebhookAction::JobPublished, job_data(&job), now);
    }
    Ok((StatusCode::CREATED, Json(job)))
}

/// `PATCH /_sim/jobs/{id}`: a status change emits `job.status_changed`, and also
/// `job.published` when the new status is `published`.
pub async fn change_job(
    State(state): State<SimState>,
    Path(job_id): Path<i64>,
    Json(change): Json<JobChange>,
) -> Result<Json<Job>, SimError> {
    let now = Utc::now();
    let mut world = lock(&state.0.world);
    let (job, before) = world.change_job(job_id, change, now)?;
    if job.status != before {
        state.emit(
            &mut world,
            WebhookAction::JobStatusChanged,
            job_data(&job),
            now,
        );
        if job.status == JobStatus::Published {
            state.emit(&mut world, WebhookAction::JobPublished, job_data(&job), now);
        }
    }
    Ok(Json(job))
}

#[derive(Debug, Deserialize)]
pub struct NewApplication {
    candidate: NewCandidate,
}

/// `POST /_sim/jobs/{id}/applications`: emits `application.created`.
pub async fn create_application(
    State(state): State<SimState>,
    Path(job_id): Path<i64>,
    Json(body): Json<NewApplication>,
) -> Result<(StatusCode, Json<Application>), SimError> {
    let now = Utc::now();
    let mut world = lock(&state.0.world);
    let application = world.create_application(job_id, body.candidate, now)?;
    let job = world.job(job_id)?.job.clone();
    let data = application_data(&job, &application, None);
    state.emit(&mut world, WebhookAction::ApplicationCreated, data, now);
    Ok((StatusCode::CREATED, Json(application)))
}

#[derive(Debug, Deserialize)]
pub struct Move {
    step: String,
}

/// `POST /_sim/applications/{id}/move`: emits `application.moved` with both steps.
pub async fn move_application(
    State(state): State<SimState>,
    Path(application_id): Path<i64>,
    Json(body): Json<Move>,
) -> Result<Json<Application>, SimError> {
    Ok(Json(state.move_application(application_id, &body.step)?))
}

impl SimState {
    /// Moves an application to `step` and emits `application.moved` with both steps: what a
    /// recruiter's click does, for `/_sim` and for drivers in the same process (benchmarks).
    pub fn move_application(
        &self,
        application_id: i64,
        step: &str,
    ) -> Result<Application, SimError> {
        let now = Utc::now();
        let mut world = lock(&self.0.world);
        let (application, previous) = world.move_application(application_id, step, now)?;
        let job = world.job(application.job.id)?.job.clone();
        let data = application_data(&job, &application, previous);
        self.emit(&mut world, WebhookAction::ApplicationMoved, data, now);
        Ok(application)
    }
}

/// `POST /_sim/faults`: replaces the faults (omitted fields: no fault).
pub async fn set_faults(
    State(state): State<SimState>,
    Json(faults): Json<Faults>,
) -> Result<Json<Faults>, SimError> {
    faults.validate()?;
    *lock(&state.0.faults) = faults.clone();
    Ok(Json(faults))
}

#[derive(Debug, Default, Deserialize)]
pub struct Drop {
    id: Option<String>,
}

/// `POST /_sim/webhooks/drop` (`{"id"}` optional): subscriptions vanish without notice, as
/// Gupy does after a week of failures.
pub async fn drop_webhooks(State(state): State<SimState>, body: Option<Json<Drop>>) -> Json<Value> {
    let id = body.and_then(|Json(d)| d.id);
    let dropped = lock(&state.0.world).drop_subscriptions(id.as_deref());
    Json(json!({ "dropped": dropped }))
}

/// `GET /_sim/state`.
pub async fn show_state(State(state): State<SimState>) -> Json<Value> {
    Json(state.snapshot())
}
