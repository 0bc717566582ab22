//! `GET /embed/{tenant}/jobs/{ats_job_id}`: the linked project's title and status, its questions
//! in order, invitation counts by status, and "Open in suite".

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use std::future::Future;

use super::PageState;
use super::embed::{EmbedPage, Shell, show_embed_page};
use crate::app::AppState;
use crate::equivalence::EntityKind;
use crate::web::WebState;
use crate::web::access::AccessQuery;
use crate::web::cache::PageCache;
use crate::web::error::{PageError, PageQuery, render};
use crate::web::i18n::Strings;
use crate::web::port::{InvitationStatus, PageSource, ProjectView, QuestionView, SourceError};

/// Everything the job page shows, as one cached value.
#[derive(Debug)]
pub struct JobData {
    pub project: ProjectView,
    pub questions: Vec<QuestionView>,
    /// Invitations per status, in `InvitationStatus::ALL` order.
    pub counts: [usize; 5],
}

pub async fn fetch_job(source: &dyn PageSource, project_id: &str) -> Result<JobData, SourceError> {
    let (project, questions, invitations) = tokio::try_join!(
        source.project(project_id),
        source.questions(project_id),
        source.invitations(project_id, None),
    )?;
    let mut counts = [0; 5];
    for invitation in &invitations {
        if let Some(slot) = InvitationStatus::ALL
            .iter()
            .position(|status| *status == invitation.status)
        {
            counts[slot] += 1;
        }
    }
    Ok(JobData {
        project,
        questions,
        counts,
    })
}

pub struct CountRow {
    pub key: &'static str,
    pub label: &'static str,
    pub value: usize,
}

pub struct JobReady<'a> {
    pub title: &'a str,
    pub status_key: &'static str,
    pub status_label: &'static str,
    pub archived: bool,
    pub counts: Vec<CountRow>,
    pub questions: &'a [QuestionView],
}

pub enum JobView<'a> {
    NotSynced,
    Missing,
    Ready(JobReady<'a>),
}

/// The label of the invitations counted in `status` (a plural where the language has one).
pub fn status_label(t: &'static Strings, status: InvitationStatus) -> &'static str {
    match status {
        InvitationStatus::Sent => t.invitation_sent,
        InvitationStatus::Started => t.invitation_started,
        InvitationStatus::Completed => t.invitation_completed,
        InvitationStatus::Expired => t.invitation_expired,
        InvitationStatus::Cancelled => t.invitation_cancelled,
    }
}

fn job_view<'a>(t: &'static Strings, data: &'a JobData) -> JobReady<'a> {
    let archived = data.project.archived;
    JobReady {
        title: &data.project.title,
        status_key: if archived { "archived" } else { "open" },
        status_label: if archived {
            t.status_archived
        } else {
            t.status_open
        },
        archived,
        counts: InvitationStatus::ALL
            .iter()
            .zip(data.counts)
            .map(|(status, value)| CountRow {
                key: status.as_str(),
                label: status_label(t, *status),
                value,
            })
            .collect(),
        questions: &data.questions,
    }
}

#[derive(Template)]
#[template(path = "pages/job.html")]
pub struct JobPage<'a> {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub view: JobView<'a>,
    pub stale_minutes: Option<i64>,
    pub open_url: String,
    pub tenant: &'a str,
    pub session: &'a str,
    pub csrf: String,
}

impl EmbedPage for JobData {
    const PATH: &'static str = "jobs";
    const KIND: EntityKind = EntityKind::Job;

    fn cache(web: &WebState) -> &PageCache<Self> {
        web.jobs()
    }

    fn fetch<'a>(
        source: &'a dyn PageSource,
        project_id: &'a str,
    ) -> impl Future<Output = Result<Self, SourceError>> + Send + 'a {
        fetch_job(source, project_id)
    }

    fn render(shell: Shell<'_>, state: &PageState<Self>) -> String {
        let t = shell.t;
        let (view, stale_minutes) = state.view(JobView::NotSynced, JobView::Missing, |data| {
            JobView::Ready(job_view(t, data))
        });
        render(&JobPage {
            t,
            lang: shell.lang,
            view,
            stale_minutes,
            open_url: shell.open_url,
            tenant: shell.tenant,
            session: shell.session,
            csrf: shell.csrf,
        })
    }
}

#[tracing::instrument(skip_all, fields(tenant = %slug))]
pub async fn show_job_page(
    State(state): State<AppState>,
    Path((slug, ats_job_id)): Path<(String, String)>,
    PageQuery(query): PageQuery<AccessQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    show_embed_page::<JobData>(&state, &slug, &ats_job_id, &query, &headers).await
}
