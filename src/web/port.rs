//! What the pages read from the suite, in the pages' own terms: exactly the reads they need, and
//! one write (a one-time login link for the popup). `suite_source` implements it on the suite
//! client; the cache sits in front of it.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub type SourceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SourceError>> + Send + 'a>>;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The suite did not answer usefully (down, slow, rate limiting): show the last known data.
    #[error("the suite is unreachable: {0}")]
    Unreachable(String),
    /// The object is gone at the suite.
    #[error("not found at the suite")]
    NotFound,
    /// Anything else (configuration, a refused request): an error page.
    #[error("{0}")]
    Failed(String),
}

pub use crate::domain::InvitationStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    Advance,
    Hold,
    Reject,
}

impl Recommendation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Advance => "advance",
            Self::Hold => "hold",
            Self::Reject => "reject",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectView {
    pub id: String,
    pub title: String,
    pub archived: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionView {
    pub position: u32,
    pub text: String,
    pub thinking_seconds: u32,
    pub answer_seconds: u32,
    pub retakes: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationView {
    pub id: String,
    pub project_id: String,
    pub status: InvitationStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewView {
    /// The reviewer's name when the suite knows it, else their id.
    pub reviewer: String,
    pub score: u8,
    pub recommendation: Recommendation,
    pub comment: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ResultView {
    pub average_score: Option<f64>,
    pub recommendation: Option<Recommendation>,
    pub review_count: u32,
    /// Where the recording and its reviews are, in the suite's web app.
    pub review_url: String,
}

/// The suite, as the pages see it, for one tenant.
pub trait PageSource: Send + Sync {
    fn project(&self, id: &str) -> SourceFuture<'_, ProjectView>;
    /// In interview order.
    fn questions(&self, project_id: &str) -> SourceFuture<'_, Vec<QuestionView>>;
    /// The project's invitations, all of them or those in `status`.
    fn invitations(
        &self,
        project_id: &str,
        status: Option<InvitationStatus>,
    ) -> SourceFuture<'_, Vec<InvitationView>>;
    fn invitation(&self, id: &str) -> SourceFuture<'_, InvitationView>;
    fn reviews(&self, invitation_id: &str) -> SourceFuture<'_, Vec<ReviewView>>;
    fn result(&self, invitation_id: &str) -> SourceFuture<'_, ResultView>;
    /// A one-time URL that signs `user_id` into the suite and lands on `redirect_path`.
    /// `attempt_key` names this one login attempt (a replay must not reuse a spent link).
    fn login_url(
        &self,
        attempt_key: &str,
        user_id: &str,
        redirect_path: &str,
    ) -> SourceFuture<'_, String>;
}
