//! `GET /embed/{tenant}/applications/{ats_application_id}`: the candidate's invitation status and
//! dates, each review, the average score and overall recommendation, and a link to the recording.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use std::future::Future;

use super::embed::{EmbedPage, Shell, show_embed_page};
use super::{PageState, format_time};
use crate::app::AppState;
use crate::equivalence::EntityKind;
use crate::web::WebState;
use crate::web::access::AccessQuery;
use crate::web::cache::PageCache;
use crate::web::error::{PageError, PageQuery, render};
use crate::web::i18n::Strings;
use crate::web::port::{
    InvitationStatus, InvitationView, PageSource, Recommendation, ResultView, ReviewView,
    SourceError,
};

/// Everything the application page shows, as one cached value.
#[derive(Debug)]
pub struct ApplicationData {
    pub invitation: InvitationView,
    pub reviews: Vec<ReviewView>,
    pub result: ResultView,
}

pub async fn fetch_application(
    source: &dyn PageSource,
    invitation_id: &str,
) -> Result<ApplicationData, SourceError> {
    let (invitation, reviews, result) = tokio::try_join!(
        source.invitation(invitation_id),
        source.reviews(invitation_id),
        source.result(invitation_id),
    )?;
    Ok(ApplicationData {
        invitation,
        reviews,
        result,
    })
}

pub fn recommendation_label(t: &'static Strings, value: Recommendation) -> &'static str {
    match value {
        Recommendation::Advance => t.advance,
        Recommendation::Hold => t.hold,
        Recommendation::Reject => t.reject,
    }
}

pub struct ReviewRow<'a> {
    pub reviewer: &'a str,
    pub score: u8,
    pub recommendation: &'static str,
    pub comment: &'a str,
}

pub struct ApplicationReady<'a> {
    pub status_key: &'static str,
    pub status_label: &'static str,
    pub invited: String,
    pub invited_iso: String,
    pub expires: String,
    pub completed: Option<String>,
    pub average_score: Option<String>,
    pub recommendation: Option<&'static str>,
    pub reviews: Vec<ReviewRow<'a>>,
    /// The candidate completed the interview, so the suite holds a recording to watch.
    pub has_recording: bool,
}

pub enum ApplicationView<'a> {
    NotSynced,
    Missing,
    Ready(ApplicationReady<'a>),
}

/// One invitation's status, as the application page says it.
fn status_label(t: &'static Strings, status: InvitationStatus) -> &'static str {
    match status {
        InvitationStatus::Sent => t.status_sent,
        InvitationStatus::Started => t.status_started,
        InvitationStatus::Completed => t.status_completed,
        InvitationStatus::Expired => t.status_expired,
        InvitationStatus::Cancelled => t.status_cancelled,
    }
}

fn application_view<'a>(t: &'static Strings, data: &'a ApplicationData) -> ApplicationReady<'a> {
    let invitation = &data.invitation;
    ApplicationReady {
        status_key: invitation.status.as_str(),
        status_label: status_label(t, invitation.status),
        invited: format_time(invitation.created_at),
        invited_iso: invitation.created_at.to_rfc3339(),
        expires: format_time(invitation.expires_at),
        completed: invitation.completed_at.map(format_time),
        average_score: data.result.average_score.map(|score| format!("{score:.1}")),
        recommendation: data
            .result
            .recommendation
            .map(|value| recommendation_label(t, value)),
        reviews: data
            .reviews
            .iter()
            .map(|review| ReviewRow {
                reviewer: &review.reviewer,
                score: review.score,
                recommendation: recommendation_label(t, review.recommendation),
                comment: &review.comment,
            })
            .collect(),
        has_recording: invitation.status == InvitationStatus::Completed,
    }
}

#[derive(Template)]
#[template(path = "pages/application.html")]
pub struct ApplicationPage<'a> {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub view: ApplicationView<'a>,
    pub stale_minutes: Option<i64>,
    pub open_url: String,
    pub tenant: &'a str,
    pub session: &'a str,
    pub csrf: String,
}

impl EmbedPage for ApplicationData {
    const PATH: &'static str = "applications";
    const KIND: EntityKind = EntityKind::Application;

    fn cache(web: &WebState) -> &PageCache<Self> {
        web.applications()
    }

    fn fetch<'a>(
        source: &'a dyn PageSource,
        invitation_id: &'a str,
    ) -> impl Future<Output = Result<Self, SourceError>> + Send + 'a {
        fetch_application(source, invitation_id)
    }

    fn render(shell: Shell<'_>, state: &PageState<Self>) -> String {
        let t = shell.t;
        let (view, stale_minutes) = state.view(
            ApplicationView::NotSynced,
            ApplicationView::Missing,
            |data| ApplicationView::Ready(application_view(t, data)),
        );
        render(&ApplicationPage {
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
pub async fn show_application_page(
    State(state): State<AppState>,
    Path((slug, ats_application_id)): Path<(String, String)>,
    PageQuery(query): PageQuery<AccessQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    show_embed_page::<ApplicationData>(&state, &slug, &ats_application_id, &query, &headers).await
}
