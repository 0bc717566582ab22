//! `GET /_sim/requisitions/{job_id}`: the simulated ATS's job page, embedding Liaison the way an
//! ATS does: the job's iframe, one iframe per application, and an "Open in suite" button that
//! opens Liaison's popup route in a window. Every load signs fresh launch links, so the page
//! never goes stale (the links themselves live 10 minutes).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use secrecy::ExposeSecret as _;

use super::config::EmbedTarget;
use super::error::SimError;
use super::launch::{self, LaunchSubject};
use super::state::{SimState, lock};

/// The recruiter the simulated ATS signs launch links for.
pub const RECRUITER: LaunchSubject<'static> = LaunchSubject {
    sub: "recruiter-1",
    email: "recruiter@demo.example",
    role: Some("recruiter"),
};

/// How long the page's launch links live (the most Liaison accepts).
const LINK_LIFETIME_S: i64 = launch::MAX_LIFETIME_S;

#[derive(Template)]
#[template(path = "sim/requisition.html")]
struct RequisitionPage {
    company: String,
    job_id: i64,
    job_name: String,
    job_status: String,
    steps: Vec<String>,
    job_frame: String,
    open_url: String,
    applications: Vec<ApplicationRow>,
}

struct ApplicationRow {
    id: i64,
    candidate: String,
    email: String,
    step: String,
    tags: Vec<String>,
    frame: String,
}

/// A Liaison URL for `path` carrying a fresh launch token.
fn launch_url(target: &EmbedTarget, path: &str, now: i64) -> String {
    let token = launch::sign(
        target.launch_secret.expose_secret().as_bytes(),
        &target.tenant,
        &RECRUITER,
        now,
        LINK_LIFETIME_S,
    );
    format!(
        "{}{path}?launch={token}",
        target.liaison_url.trim_end_matches('/')
    )
}

pub async fn show_requisition(
    State(state): State<SimState>,
    Path(job_id): Path<i64>,
) -> Result<Response, SimError> {
    let Some(target) = state.0.config.embed.clone() else {
        return Err(SimError::NotConfigured);
    };
    let now = chrono::Utc::now().timestamp();
    let tenant = &target.tenant;
    let page = {
        let world = lock(&state.0.world);
        let record = world.job(job_id)?;
        let applications = world
            .applications
            .values()
            .filter(|a| a.application.job.id == job_id)
            .map(|a| {
                let application = &a.application;
                ApplicationRow {
                    id: application.id,
                    candidate: format!(
                        "{} {}",
                        application.candidate.name, application.candidate.last_name
                    ),
                    email: application.candidate.email.clone(),
                    step: application
                        .current_step
                        .as_ref()
                        .map(|s| s.name.clone())
                        .unwrap_or_default(),
                    tags: application.tags.iter().map(|t| t.name.clone()).collect(),
                    frame: launch_url(
                        &target,
                        &format!("/embed/{tenant}/applications/{}", application.id),
                        now,
                    ),
                }
            })
            .collect();
        RequisitionPage {
            company: world.company_name.clone(),
            job_id,
            job_name: record.job.name.clone(),
            job_status: format!("{:?}", record.job.status).to_lowercase(),
            steps: record.steps.iter().map(|s| s.name.clone()).collect(),
            job_frame: launch_url(&target, &format!("/embed/{tenant}/jobs/{job_id}"), now),
            open_url: launch_url(&target, &format!("/open/{tenant}/jobs/{job_id}"), now),
            applications,
        }
    };
    let html = page
        .render()
        .map_err(|e| SimError::Internal(format!("cannot render the page: {e}")))?;
    Ok(Html(html).into_response())
}
