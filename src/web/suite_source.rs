//! `PageSource` on the suite API client. Every read is bounded in time: a page waits at most
//! `READ_TIMEOUT` for the suite (the client's own retries included) and then shows what it has.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret as _;

use super::port::{
    InvitationStatus, InvitationView, PageSource, ProjectView, QuestionView, Recommendation,
    ResultView, ReviewView, SourceError, SourceFuture,
};
use crate::suite::{self, OperationKey, SuiteClient, SuiteError};

/// How long a page waits for the suite before it falls back to the last known data.
pub const READ_TIMEOUT: Duration = Duration::from_secs(3);

pub struct SuiteSource {
    client: Arc<SuiteClient>,
}

impl SuiteSource {
    pub fn new(client: Arc<SuiteClient>) -> Self {
        Self { client }
    }
}

fn source_error(error: SuiteError) -> SourceError {
    match error {
        SuiteError::NotFound { .. } => SourceError::NotFound,
        error if error.is_transient() => SourceError::Unreachable(error.code().to_owned()),
        SuiteError::Auth { .. } | SuiteError::InvalidResponse(_) => {
            SourceError::Unreachable(error.code().to_owned())
        }
        error => SourceError::Failed(error.to_string()),
    }
}

async fn bounded<T>(call: impl Future<Output = Result<T, SuiteError>>) -> Result<T, SourceError> {
    match tokio::time::timeout(READ_TIMEOUT, call).await {
        Ok(result) => result.map_err(source_error),
        Err(_) => Err(SourceError::Unreachable("timed out".to_owned())),
    }
}

fn recommendation(value: suite::Recommendation) -> Recommendation {
    match value {
        suite::Recommendation::Advance => Recommendation::Advance,
        suite::Recommendation::Hold => Recommendation::Hold,
        suite::Recommendation::Reject => Recommendation::Reject,
    }
}

fn invitation_view(invitation: suite::InvitationResponse) -> InvitationView {
    InvitationView {
        id: invitation.id,
        project_id: invitation.project_id,
        status: invitation.status.into(),
        created_at: invitation.created_at,
        expires_at: invitation.expires_at,
        completed_at: invitation.completed_at,
    }
}

impl PageSource for SuiteSource {
    fn project(&self, id: &str) -> SourceFuture<'_, ProjectView> {
        let id = id.to_owned();
        Box::pin(async move {
            let project = bounded(self.client.get_project(&id)).await?;
            Ok(ProjectView {
                id: project.id,
                title: project.title,
                archived: project.status == suite::ProjectStatus::Archived,
            })
        })
    }

    fn questions(&self, project_id: &str) -> SourceFuture<'_, Vec<QuestionView>> {
        let project_id = project_id.to_owned();
        Box::pin(async move {
            let mut questions = bounded(self.client.list_questions(&project_id)).await?;
            questions.sort_by_key(|question| question.position);
            Ok(questions
                .into_iter()
                .map(|question| QuestionView {
                    position: question.position,
                    text: question.text,
                    thinking_seconds: question.thinking_seconds,
                    answer_seconds: question.answer_seconds,
                    retakes: question.retakes,
                })
                .collect())
        })
    }

    fn invitations(
        &self,
        project_id: &str,
        status: Option<InvitationStatus>,
    ) -> SourceFuture<'_, Vec<InvitationView>> {
        let project_id = project_id.to_owned();
        Box::pin(async move {
            let filter = suite::InvitationFilter {
                status: status.map(Into::into),
            };
            let invitations =
                bounded(self.client.list_all_invitations(&project_id, &filter)).await?;
            Ok(invitations.into_iter().map(invitation_view).collect())
        })
    }

    fn invitation(&self, id: &str) -> SourceFuture<'_, InvitationView> {
        let id = id.to_owned();
        Box::pin(async move {
            bounded(self.client.get_invitation(&id))
                .await
                .map(invitation_view)
        })
    }

    fn reviews(&self, invitation_id: &str) -> SourceFuture<'_, Vec<ReviewView>> {
        let invitation_id = invitation_id.to_owned();
        Box::pin(async move {
            let reviews = bounded(self.client.list_reviews(&invitation_id)).await?;
            // Reviewer names make the page readable; without them the ids still identify.
            let names = if reviews.is_empty() {
                Vec::new()
            } else {
                bounded(self.client.list_all_users())
                    .await
                    .unwrap_or_default()
            };
            Ok(reviews
                .into_iter()
                .map(|review| ReviewView {
                    reviewer: names
                        .iter()
                        .find(|user| user.id == review.reviewer_id)
                        .map_or(review.reviewer_id.clone(), |user| user.name.clone()),
                    score: review.score,
                    recommendation: recommendation(review.recommendation),
                    comment: review.comment,
                })
                .collect())
        })
    }

    fn result(&self, invitation_id: &str) -> SourceFuture<'_, ResultView> {
        let invitation_id = invitation_id.to_owned();
        Box::pin(async move {
            let result = bounded(self.client.get_result(&invitation_id)).await?;
            Ok(ResultView {
                average_score: result.average_score,
                recommendation: result.recommendation.map(recommendation),
                review_count: result.review_count,
                review_url: result.review_url,
            })
        })
    }

    fn login_url(
        &self,
        attempt_key: &str,
        user_id: &str,
        redirect_path: &str,
    ) -> SourceFuture<'_, String> {
        let key = OperationKey::new(self.client.tenant(), "login", attempt_key);
        let request = suite::CreateSessionRequest {
            user_id: user_id.to_owned(),
            redirect_path: redirect_path.to_owned(),
        };
        Box::pin(async move {
            let session = bounded(self.client.create_session(&key, &request)).await?;
            Ok(session.login_url.expose_secret().to_owned())
        })
    }
}
