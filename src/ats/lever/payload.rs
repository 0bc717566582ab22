//! Lever's wire formats (`contracts/ats-partners.md` §2): webhook deliveries, opportunities,
//! postings, list envelopes and the write-back requests. Only the fields Liaison reads.

use serde::{Deserialize, Serialize};

/// A webhook delivery. Only `token` and `triggeredAt` are signed; the rest is read as a hint.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    /// The event's uid; absent in the settings page's test request.
    #[serde(default)]
    pub id: Option<String>,
    pub event: String,
    pub triggered_at: i64,
    pub token: String,
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

/// `data` of the opportunity events Liaison acts upon.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpportunityEventData {
    #[serde(default)]
    pub opportunity_id: Option<String>,
    /// `candidateDeleted` may name the candidate only (Lever's candidate and opportunity ids
    /// were one and the same in its older API).
    #[serde(default)]
    pub candidate_id: Option<String>,
}

/// `{"data": ...}`: how Lever answers a single object.
#[derive(Debug, Deserialize)]
pub struct One<T> {
    pub data: T,
}

/// `{"data": [...], "next": "<offset>", "hasNext": true}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEnvelope<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub has_next: bool,
}

/// An opportunity, read with `expand=stage&expand=applications`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The person's id, shared by their opportunities.
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub phones: Vec<Phone>,
    #[serde(default)]
    pub stage: Option<StageRef>,
    /// `null` while the opportunity is active.
    #[serde(default)]
    pub archived: Option<serde_json::Value>,
    #[serde(default)]
    pub applications: Vec<ApplicationRef>,
    #[serde(default)]
    pub updated_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct Phone {
    #[serde(default)]
    pub value: Option<String>,
}

/// A stage: its id, or the stage itself when expanded.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StageRef {
    Expanded { id: String, text: String },
    Id(String),
}

/// An application of the opportunity: its id, or the application when expanded.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ApplicationRef {
    Expanded {
        id: String,
        #[serde(default)]
        posting: Option<String>,
    },
    Id(String),
}

/// A job posting.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Posting {
    pub id: String,
    pub text: String,
    /// `published`, `internal`, `closed`, `draft`, `pending`, `rejected`.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub categories: Option<PostingCategories>,
    #[serde(default)]
    pub content: Option<PostingContent>,
    #[serde(default)]
    pub urls: Option<PostingUrls>,
}

#[derive(Debug, Deserialize)]
pub struct PostingCategories {
    #[serde(default)]
    pub location: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PostingContent {
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PostingUrls {
    #[serde(default)]
    pub show: Option<String>,
}

/// `POST /opportunities/:id/notes`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteRequest<'a> {
    pub value: &'a str,
    pub secret: bool,
    pub notify_followers: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
}

/// `POST /opportunities/:id/addTags` and `.../removeTags`.
#[derive(Debug, Serialize)]
pub struct TagsRequest<'a> {
    pub tags: [&'a str; 1],
}
