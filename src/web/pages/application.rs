//! `GET /embed/{tenant}/applications/{ats_application_id}`: the candidate's invitation status and
//! dates, each review, the average score and overall recommendation, and a link to the recording.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::job::status_label;
use super::{PageState, format_time, respond, state_now};
use crate::app::AppState;
use crate::equivalence::{self, EntityKind};
use crate::web::access::{AccessQuery, require_session, resolve_tenant};
use crate::web::error::{PageError, PageQuery, render};
use crate::web::i18n::Strings;
use crate::web::port::{
    InvitationView, PageSource, Recommendation, ResultView, ReviewView, SourceError,
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
}

pub enum ApplicationView<'a> {
    NotSynced,
    Missing,
    Ready(ApplicationReady<'a>),
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

#[tracing::instrument(skip_all, fields(tenant = %slug))]
pub async fn show_application_page(
    State(state): State<AppState>,
    Path((slug, ats_application_id)): Path<(String, String)>,
    PageQuery(query): PageQuery<AccessQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let tenant = resolve_tenant(&state, &slug).await?;
    let segment = super::path_segment(&ats_application_id);
    let here = format!("/embed/{slug}/applications/{segment}");
    let access = require_session(&state, tenant, &query, &headers, &here)?;
    let tenant = &access.tenant;
    let link = equivalence::lookup_by_ats(
        &state.db,
        tenant.id,
        EntityKind::Application,
        &ats_application_id,
    )
    .await?;
    let read = match &link {
        Some(link) => {
            let source = state.web.source(&state.suite_clients, tenant)?;
            let invitation_id = link.suite_id.as_str();
            Some(
                state
                    .web
                    .applications()
                    .get(tenant.slug(), invitation_id, || {
                        fetch_application(source.as_ref(), invitation_id)
                    })
                    .await,
            )
        }
        None => None,
    };
    let context = access.context.clone();
    let page_state = state_now(link.is_some(), read, || PageError::Unavailable { context })?;
    let t = access.locale().strings();
    let (view, stale_minutes) = match &page_state {
        PageState::NotSynced => (ApplicationView::NotSynced, None),
        PageState::Missing => (ApplicationView::Missing, None),
        PageState::Ready {
            data,
            stale_minutes,
        } => (
            ApplicationView::Ready(application_view(t, data)),
            *stale_minutes,
        ),
    };
    let page = ApplicationPage {
        t,
        lang: access.locale().tag(),
        view,
        stale_minutes,
        open_url: format!("/open/{slug}/applications/{segment}?s={}", access.token),
        tenant: tenant.slug(),
        session: &access.token,
        csrf: state.web.keys().csrf_token(&access.session),
    };
    Ok(respond(&access, render(&page)))
}
