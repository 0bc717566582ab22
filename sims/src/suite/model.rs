//! The suite's objects as the API shows them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Times go out as RFC 3339 UTC to the second (`2026-11-22T10:00:00Z`).
pub type Timestamp = DateTime<Utc>;

/// Now, truncated to whole seconds so serialized times carry no fraction.
pub fn now() -> Timestamp {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// Objects whose ids order them by creation, which is what pagination walks.
pub trait HasId {
    fn id(&self) -> &str;
}

macro_rules! has_id {
    ($($ty:ty),*) => {$(
        impl HasId for $ty {
            fn id(&self) -> &str {
                &self.id
            }
        }
    )*};
}
has_id!(
    Project,
    Question,
    Candidate,
    Invitation,
    Review,
    User,
    WebhookSubscription
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    Open,
    Archived,
}

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: String,
    pub external_ref: Option<String>,
    pub title: String,
    pub description: String,
    pub location: String,
    pub language: String,
    pub status: ProjectStatus,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub id: String,
    pub position: u32,
    pub text: String,
    pub thinking_seconds: u32,
    pub answer_seconds: u32,
    pub retakes: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub id: String,
    pub external_ref: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub locale: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Sent,
    Started,
    Completed,
    Expired,
    Cancelled,
}

impl InvitationStatus {
    /// Sent or started: the candidate can still take the interview.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Sent | Self::Started)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub id: String,
    pub project_id: String,
    pub candidate_id: String,
    pub status: InvitationStatus,
    pub interview_url: String,
    pub expires_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    Advance,
    Hold,
    Reject,
}

#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub id: String,
    pub invitation_id: String,
    pub reviewer_id: String,
    pub score: u8,
    pub recommendation: Recommendation,
    pub comment: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Reviewer,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

/// A webhook subscription. The secret is shown to the API client that owns it, never in Debug.
#[derive(Clone, Serialize)]
pub struct WebhookSubscription {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for WebhookSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSubscription")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl WebhookSubscription {
    pub fn wants(&self, event_type: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == event_type)
    }
}

/// Every event type the suite emits.
pub const EVENT_TYPES: &[&str] = &[
    "project.updated",
    "project.archived",
    "project.deleted",
    "candidate.updated",
    "candidate.deleted",
    "invitation.started",
    "invitation.completed",
    "invitation.expired",
    "invitation.cancelled",
    "review.created",
    "review.updated",
    "user.updated",
];
