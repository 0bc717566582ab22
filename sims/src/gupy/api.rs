//! Gupy's REST API: jobs, steps, applications, tags and comments (`/api/v1`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;

use super::wire::{
    Application, ApplicationStatus, Comment, CommentRequest, Job, JobStatus, ListEnvelope, Step,
    Tag, TagRequest,
};

use super::error::SimError;
use super::pagination::{PageQuery, paginate};
use super::state::{SimState, lock};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobsQuery {
    // Not `#[serde(flatten)]`: serde_urlencoded cannot read numbers through it.
    page: Option<u64>,
    per_page: Option<u64>,
    status: Option<JobStatus>,
}

pub async fn list_jobs(
    State(state): State<SimState>,
    Query(query): Query<JobsQuery>,
) -> Result<Json<ListEnvelope<Job>>, SimError> {
    let jobs: Vec<Job> = lock(&state.0.world)
        .jobs
        .values()
        .filter(|r| query.status.is_none_or(|s| r.job.status == s))
        .map(|r| r.job.clone())
        .collect();
    Ok(Json(paginate(
        jobs,
        PageQuery {
            page: query.page,
            per_page: query.per_page,
        },
    )?))
}

pub async fn get_job(
    State(state): State<SimState>,
    Path(job_id): Path<i64>,
) -> Result<Json<Job>, SimError> {
    Ok(Json(lock(&state.0.world).job(job_id)?.job.clone()))
}

pub async fn list_steps(
    State(state): State<SimState>,
    Path(job_id): Path<i64>,
    Query(page): Query<PageQuery>,
) -> Result<Json<ListEnvelope<Step>>, SimError> {
    let steps = lock(&state.0.world).job(job_id)?.steps.clone();
    Ok(Json(paginate(steps, page)?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationsQuery {
    // Not `#[serde(flatten)]`: serde_urlencoded cannot read numbers through it.
    page: Option<u64>,
    per_page: Option<u64>,
    status: Option<ApplicationStatus>,
    current_step_name: Option<String>,
    order: Option<String>,
}

pub async fn list_applications(
    State(state): State<SimState>,
    Path(job_id): Path<i64>,
    Query(query): Query<ApplicationsQuery>,
) -> Result<Json<ListEnvelope<Application>>, SimError> {
    let descending = match query.order.as_deref().map(str::trim) {
        None | Some("id asc") => false,
        Some("id desc") => true,
        Some(other) => return Err(SimError::BadRequest(format!("unsupported order {other:?}"))),
    };
    let world = lock(&state.0.world);
    world.job(job_id)?;
    let mut applications: Vec<Application> = world
        .applications
        .values()
        .map(|r| &r.application)
        .filter(|a| a.job.id == job_id)
        .filter(|a| query.status.is_none_or(|s| a.status == s))
        .filter(|a| {
            query.current_step_name.as_deref().is_none_or(|name| {
                a.current_step
                    .as_ref()
                    .is_some_and(|step| step.name == name)
            })
        })
        .cloned()
        .collect();
    drop(world);
    if descending {
        applications.reverse();
    }
    Ok(Json(paginate(
        applications,
        PageQuery {
            page: query.page,
            per_page: query.per_page,
        },
    )?))
}

pub async fn put_tag(
    State(state): State<SimState>,
    Path((job_id, application_id)): Path<(i64, i64)>,
    Json(body): Json<TagRequest>,
) -> Result<Json<Tag>, SimError> {
    let name = body.name.trim().to_owned();
    if name.is_empty() {
        return Err(SimError::BadRequest("a tag needs a name".into()));
    }
    let tag = lock(&state.0.world).set_tag(job_id, application_id, name, Utc::now())?;
    Ok(Json(tag))
}

pub async fn post_comment(
    State(state): State<SimState>,
    Path((job_id, application_id)): Path<(i64, i64)>,
    Json(body): Json<CommentRequest>,
) -> Result<(StatusCode, Json<Comment>), SimError> {
    if body.text.trim().is_empty() {
        return Err(SimError::BadRequest("a comment needs a text".into()));
    }
    let comment =
        lock(&state.0.world).add_comment(job_id, application_id, body.text, Utc::now())?;
    Ok((StatusCode::CREATED, Json(comment)))
}
