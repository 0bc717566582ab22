//! What the sync engine needs from its partners, in Liaison's terms. The suite client and each ATS
//! adapter implement these (see `partners.rs`); the flows know nothing else of them.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::domain::{InvitationStatus, Role};
use crate::events::{AtsApplication, AtsJob};

pub type PortFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, PartnerError>> + Send + 'a>>;

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum PartnerError {
    /// Worth retrying: outage, timeout, rate limit (with the partner's `Retry-After`).
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The request was sent but no answer came (timeout, connection lost): it may have taken
    /// effect. Retried like `Transient`, except by callers whose call is not idempotent.
    #[error("{0}")]
    Unanswered(String),
    /// The object does not exist (any more).
    #[error("not found: {0}")]
    NotFound(String),
    /// Retrying cannot help.
    #[error("{0}")]
    Permanent(String),
}

impl From<PartnerError> for super::JobError {
    fn from(error: PartnerError) -> Self {
        match error {
            PartnerError::Transient {
                message,
                retry_after,
            } => super::JobError::Transient {
                message,
                retry_after,
            },
            PartnerError::Unanswered(message) => super::JobError::transient(message),
            other => super::JobError::permanent(other.to_string()),
        }
    }
}

/// A project as Liaison wants it in the suite.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectSpec {
    pub external_ref: String,
    pub title: String,
    pub description: String,
    pub location: String,
    pub language: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectState {
    pub id: String,
    pub archived: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CandidateSpec {
    pub external_ref: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub locale: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationState {
    pub id: String,
    pub project_id: String,
    pub candidate_id: String,
    pub status: InvitationStatus,
    pub interview_url: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl InvitationState {
    /// Whether the invitation can still be taken (so a new one would be a duplicate).
    pub fn is_live(&self) -> bool {
        self.status.is_live()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ResultState {
    pub invitation_id: String,
    pub status: String,
    pub average_score: Option<f64>,
    pub recommendation: Option<String>,
    pub review_count: u32,
    pub review_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserState {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
}

/// What creating a suite user gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreatedUser {
    /// This operation key created the user (now, or in an earlier attempt the suite replays).
    New(UserState),
    /// Another user already has the email (409 `email_taken`).
    Existing { id: String },
}

/// The suite, for one tenant. Every creating call takes an operation key (stable for the business
/// operation, e.g. `invite:<application>`): the client turns it into the `Idempotency-Key`, and
/// a 409 with `existing_id` answers the existing object's id instead of an error.
pub trait SuitePort: Send + Sync {
    fn find_project(&self, external_ref: &str) -> PortFuture<'_, Option<ProjectState>>;
    fn create_project(&self, op_key: &str, spec: &ProjectSpec) -> PortFuture<'_, String>;
    fn update_project(&self, id: &str, spec: &ProjectSpec) -> PortFuture<'_, ()>;
    fn archive_project(&self, id: &str) -> PortFuture<'_, ()>;
    /// Creates the candidate, or answers the id of the one that already has its email (409
    /// `email_taken` with `existing_id`).
    fn create_candidate(&self, op_key: &str, spec: &CandidateSpec) -> PortFuture<'_, String>;
    fn invite(
        &self,
        op_key: &str,
        project_id: &str,
        candidate_id: &str,
    ) -> PortFuture<'_, InvitationState>;
    fn invitation(&self, id: &str) -> PortFuture<'_, InvitationState>;
    fn cancel_invitation(&self, id: &str) -> PortFuture<'_, ()>;
    fn result(&self, invitation_id: &str) -> PortFuture<'_, ResultState>;
    /// The suite user `id` (`NotFound` when the suite has none).
    fn user(&self, id: &str) -> PortFuture<'_, UserState>;
    /// Creates a suite user; a user who already has the email (in any case) is answered as
    /// `Existing` with its id, never taken as this creation's result.
    fn create_user(
        &self,
        op_key: &str,
        email: &str,
        name: &str,
        role: Role,
    ) -> PortFuture<'_, CreatedUser>;
    fn set_user_role(&self, id: &str, role: Role) -> PortFuture<'_, UserState>;
}

/// The ATS, for one tenant.
pub trait AtsPort: Send + Sync {
    /// The whole job, for events that carried only part of it.
    fn fetch_job(&self, ats_job_id: &str) -> PortFuture<'_, AtsJob>;
    /// The application as the ATS has it now, by its id alone (for kinds that address
    /// applications without their job, such as Lever's opportunities).
    fn fetch_application(&self, ats_application_id: &str) -> PortFuture<'_, AtsApplication>;
    /// Idempotent: setting a tag the application already has changes nothing.
    fn add_tag(&self, ats_job_id: &str, ats_application_id: &str, tag: &str) -> PortFuture<'_, ()>;
    /// Not idempotent: answers the new comment's id when the ATS gives one. `Unanswered` when
    /// the comment may have been made although the call failed.
    fn add_comment(
        &self,
        ats_job_id: &str,
        ats_application_id: &str,
        text: &str,
        score: Option<u8>,
    ) -> PortFuture<'_, Option<String>>;
    /// Whether the ATS can write results back at all (a job feed cannot).
    fn can_write_back(&self) -> bool {
        true
    }
}
