//! The suite API's objects (`XxxResponse`) and bodies (`XxxRequest`), with the contract's field
//! names. Request bodies carry no clock or random value of their own, so that the same operation
//! sends the same bytes on every retry and replay (the `Idempotency-Key` depends on it).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// One page of a list: `{"data": [...], "next_cursor": "..." | null}`.
#[derive(Clone, Debug, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Which page to ask for: `limit` 1..=100 (the suite's default is 20) and the cursor of the
/// previous page.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PageRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// What a create call ended in: a new object, or the one that already held the unique value
/// (a 409 with `existing_id`: `external_ref_taken`, `email_taken`, `already_invited`).
#[derive(Clone, Debug, PartialEq)]
pub enum Created<T> {
    New(T),
    Existing { existing_id: String },
}

impl<T: HasSuiteId> Created<T> {
    /// The suite id either way.
    pub fn id(&self) -> &str {
        match self {
            Created::New(object) => object.suite_id(),
            Created::Existing { existing_id } => existing_id,
        }
    }
}

/// Objects that carry a suite id.
pub trait HasSuiteId {
    fn suite_id(&self) -> &str;
}

macro_rules! has_suite_id {
    ($($ty:ty),*) => {$(
        impl HasSuiteId for $ty {
            fn suite_id(&self) -> &str {
                &self.id
            }
        }
    )*};
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    Open,
    Archived,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ProjectResponse {
    pub id: String,
    pub external_ref: Option<String>,
    pub title: String,
    pub description: String,
    pub location: String,
    pub language: String,
    pub status: ProjectStatus,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CreateProjectRequest {
    pub external_ref: Option<String>,
    pub title: String,
    pub description: String,
    pub location: String,
    pub language: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

/// `PATCH /v1/projects/{id}`: only the fields set are sent. For the nullable ones,
/// `Some(None)` clears the value.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UpdateProjectRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_on: Option<Option<NaiveDate>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<Option<NaiveDate>>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ProjectFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ProjectStatus>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct QuestionResponse {
    pub id: String,
    pub position: u32,
    pub text: String,
    pub thinking_seconds: u32,
    pub answer_seconds: u32,
    pub retakes: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuestionRequest {
    pub text: String,
    pub thinking_seconds: u32,
    pub answer_seconds: u32,
    pub retakes: u32,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct CandidateResponse {
    pub id: String,
    pub external_ref: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub locale: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CreateCandidateRequest {
    pub external_ref: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub locale: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UpdateCandidateRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CandidateFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Sent,
    Started,
    Completed,
    Expired,
    Cancelled,
}

/// The suite's wire status as Liaison's own, and back: the one place they are mapped.
impl From<InvitationStatus> for crate::domain::InvitationStatus {
    fn from(status: InvitationStatus) -> Self {
        match status {
            InvitationStatus::Sent => Self::Sent,
            InvitationStatus::Started => Self::Started,
            InvitationStatus::Completed => Self::Completed,
            InvitationStatus::Expired => Self::Expired,
            InvitationStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<crate::domain::InvitationStatus> for InvitationStatus {
    fn from(status: crate::domain::InvitationStatus) -> Self {
        use crate::domain::InvitationStatus as Domain;
        match status {
            Domain::Sent => Self::Sent,
            Domain::Started => Self::Started,
            Domain::Completed => Self::Completed,
            Domain::Expired => Self::Expired,
            Domain::Cancelled => Self::Cancelled,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct InvitationResponse {
    pub id: String,
    pub project_id: String,
    pub candidate_id: String,
    pub status: InvitationStatus,
    pub interview_url: String,
    pub expires_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `expires_at` left out means the suite's default (7 days). When set, derive it from the
/// business event (not from "now"), so a retried invitation sends the same body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreateInvitationRequest {
    pub candidate_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct InvitationFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<InvitationStatus>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    Advance,
    Hold,
    Reject,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ReviewResponse {
    pub id: String,
    pub invitation_id: String,
    pub reviewer_id: String,
    pub score: u8,
    pub recommendation: Recommendation,
    pub comment: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct InvitationResultResponse {
    pub invitation_id: String,
    pub status: InvitationStatus,
    pub average_score: Option<f64>,
    pub recommendation: Option<Recommendation>,
    pub review_count: u32,
    pub review_url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Reviewer,
}

/// The suite's wire role as Liaison's own, and back: the one place they are mapped.
impl From<Role> for crate::domain::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => Self::Admin,
            Role::Manager => Self::Manager,
            Role::Reviewer => Self::Reviewer,
        }
    }
}

impl From<crate::domain::Role> for Role {
    fn from(role: crate::domain::Role) -> Self {
        use crate::domain::Role as Domain;
        match role {
            Domain::Admin => Self::Admin,
            Domain::Manager => Self::Manager,
            Domain::Reviewer => Self::Reviewer,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct UserResponse {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreateUserRequest {
    pub email: String,
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UpdateUserRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreateSessionRequest {
    pub user_id: String,
    pub redirect_path: String,
}

/// A one-time login link, valid 60 s. The URL logs a person in: treat it as a secret.
#[derive(Clone, Deserialize)]
pub struct SessionResponse {
    pub login_url: SecretString,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for SessionResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionResponse")
            .field("login_url", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreateWebhookRequest {
    pub url: String,
    pub events: Vec<String>,
}

/// A webhook subscription. `secret` (`whsec_...`) is only in the creation answer; it is the
/// signing key of the deliveries, so it stays wrapped.
#[derive(Clone, Debug, Deserialize)]
pub struct WebhookResponse {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    #[serde(default)]
    pub secret: Option<SecretString>,
}

has_suite_id!(
    ProjectResponse,
    QuestionResponse,
    CandidateResponse,
    InvitationResponse,
    ReviewResponse,
    UserResponse,
    WebhookResponse
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_send_only_what_is_set_and_can_clear_nullable_fields() {
        let patch = UpdateProjectRequest {
            title: Some("Staff engineer".into()),
            ends_on: Some(None),
            ..UpdateProjectRequest::default()
        };
        let json = serde_json::to_value(&patch).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({"title": "Staff engineer", "ends_on": null})
        );
    }

    #[test]
    fn a_session_answer_never_prints_its_login_url() {
        let session: SessionResponse = serde_json::from_value(serde_json::json!({
            "login_url": "https://suite.example/login/SECRET-TOKEN",
            "expires_at": "2026-11-22T10:00:00Z"
        }))
        .expect("parses");
        assert!(!format!("{session:?}").contains("SECRET-TOKEN"));
    }
}
