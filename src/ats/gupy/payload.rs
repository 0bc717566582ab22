//! Gupy's wire types: the webhook delivery and the REST objects of `contracts/gupy.md`.
//!
//! Shared by the simulator (which serialises them) and the adapter (which reads them), so every
//! type ignores unknown fields, optional fields default to `None`, and enums keep an `Unknown`
//! catch-all: a new value on Gupy's side must not make a delivery unreadable.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Gupy's list envelope: `{"results", "totalResults", "page", "totalPages"}` (pages from 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEnvelope<T> {
    pub results: Vec<T>,
    pub total_results: u64,
    pub page: u64,
    pub total_pages: u64,
}

/// A webhook delivery, `POST`ed to the subscription's `postbackUrl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    #[serde(default)]
    pub company_name: Option<String>,
    /// Identifies the event; the same id can arrive more than once.
    pub id: String,
    pub event: WebhookAction,
    /// When the event happened (ordering is by this, never by arrival).
    #[serde(with = "gupy_time")]
    pub date: DateTime<Utc>,
    pub data: DeliveryData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryData {
    pub job: DeliveryJob,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<DeliveryApplication>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<Candidate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryJob {
    pub id: i64,
    pub name: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<JobStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryApplication {
    pub id: i64,
    #[serde(default)]
    pub score: Option<f64>,
    pub status: ApplicationStatus,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub current_step: Option<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_step: Option<Step>,
}

/// The actions a webhook subscription can listen to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WebhookAction {
    #[serde(rename = "application.created")]
    ApplicationCreated,
    #[serde(rename = "application.moved")]
    ApplicationMoved,
    #[serde(rename = "application.completed")]
    ApplicationCompleted,
    #[serde(rename = "candidate.hired")]
    CandidateHired,
    #[serde(rename = "job.published")]
    JobPublished,
    #[serde(rename = "job.status_changed")]
    JobStatusChanged,
    #[serde(other)]
    Unknown,
}

impl WebhookAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApplicationCreated => "application.created",
            Self::ApplicationMoved => "application.moved",
            Self::ApplicationCompleted => "application.completed",
            Self::CandidateHired => "candidate.hired",
            Self::JobPublished => "job.published",
            Self::JobStatusChanged => "job.status_changed",
            Self::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Draft,
    WaitingApproval,
    Approved,
    Published,
    Closed,
    Canceled,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    InProcess,
    GiveUp,
    Reproved,
    Hired,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepType {
    Register,
    Online,
    Offline,
    PreHire,
    Final,
    #[serde(other)]
    Unknown,
}

/// A step of a job's hiring process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: StepType,
}

/// A tag on an application. Accepts `{"name": "Apto"}` or a bare `"Apto"`, since the public
/// documentation only shows an empty list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "TagRepr")]
pub struct Tag {
    pub name: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TagRepr {
    Bare(String),
    Object { name: String },
}

impl From<TagRepr> for Tag {
    fn from(repr: TagRepr) -> Self {
        match repr {
            TagRepr::Bare(name) | TagRepr::Object { name } => Tag { name },
        }
    }
}

/// A candidate. Gupy may omit `id`: the adapter then falls back to the email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

/// A job as `GET /api/v1/jobs` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: i64,
    pub name: String,
    pub status: JobStatus,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub address_city: Option<String>,
    #[serde(default)]
    pub address_state: Option<String>,
    #[serde(default)]
    pub address_country: Option<String>,
    #[serde(with = "gupy_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "gupy_time")]
    pub updated_at: DateTime<Utc>,
}

/// The job an application belongs to, as embedded in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRef {
    pub id: i64,
    #[serde(default)]
    pub name: String,
}

/// An application as `GET /api/v1/jobs/{jobId}/applications` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: i64,
    pub status: ApplicationStatus,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub current_step: Option<Step>,
    #[serde(with = "gupy_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "gupy_time")]
    pub updated_at: DateTime<Utc>,
    pub candidate: Candidate,
    pub job: JobRef,
}

/// `PUT .../tags` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRequest {
    pub name: String,
}

/// `POST .../comments` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentRequest {
    pub text: String,
}

/// A timeline comment (the answer to `POST .../comments`; *assumed* shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: i64,
    pub text: String,
    #[serde(with = "gupy_time")]
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/webhooks` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSubscriptionRequest {
    pub action: WebhookAction,
    #[serde(default = "active")]
    pub status: String,
    pub postback_url: String,
    #[serde(default)]
    pub tech_owner_name: Option<String>,
    #[serde(default)]
    pub tech_owner_email: Option<String>,
    /// Sent verbatim, and alone, with every delivery.
    #[serde(default)]
    pub client_headers: BTreeMap<String, String>,
}

fn active() -> String {
    "active".to_owned()
}

/// A webhook subscription as Gupy answers it (creation and list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSubscription {
    pub id: String,
    pub action: WebhookAction,
    pub postback_url: String,
    pub status: String,
}

/// Gupy's timestamps: ISO 8601 UTC with milliseconds (`2019-06-19T23:48:46.952Z`) on output;
/// any RFC 3339 time on input.
pub mod gupy_time {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(time: &DateTime<Utc>) -> String {
        time.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    pub fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "companyName": "ACME",
      "id": "24e99765-8583-4be5-87ae-489c86642964",
      "event": "application.moved",
      "date": "2026-11-20T13:05:41.118Z",
      "data": {
        "job": {"id": 19139, "name": "Data Scientist", "type": "vacancy_type_effective",
                "departmentCode": "D-100", "roleCode": "R-200", "branchCode": "B-300"},
        "application": {"id": 2937132, "score": 71.5, "status": "in_process", "tags": [],
                        "currentStep": {"id": 86547, "name": "Video interview", "type": "online"},
                        "previousStep": {"id": 86546, "name": "Screening", "type": "register"}},
        "candidate": {"id": 1999450, "name": "Maria", "lastName": "Silva",
                      "email": "maria@example.com", "mobileNumber": "+5511999990000"}
      }
    }"#;

    #[test]
    fn the_contract_sample_parses() -> Result<(), serde_json::Error> {
        let delivery: WebhookDelivery = serde_json::from_str(SAMPLE)?;
        assert_eq!(delivery.event, WebhookAction::ApplicationMoved);
        assert_eq!(delivery.data.job.id, 19139);
        let app = delivery.data.application.as_ref();
        assert_eq!(app.map(|a| a.status), Some(ApplicationStatus::InProcess));
        assert_eq!(
            app.and_then(|a| a.current_step.as_ref()).map(|s| s.kind),
            Some(StepType::Online)
        );
        assert_eq!(delivery.data.candidate.and_then(|c| c.id), Some(1999450));
        assert_eq!(
            gupy_time::format(&delivery.date),
            "2026-11-20T13:05:41.118Z"
        );
        Ok(())
    }

    #[test]
    fn extra_fields_unknown_values_and_a_missing_candidate_id_are_tolerated()
    -> Result<(), serde_json::Error> {
        let body = SAMPLE
            .replace(r#""id": 1999450, "#, r#""cpf": "x", "#)
            .replace(r#""type": "online""#, r#""type": "brand_new_type""#)
            .replace(r#""companyName""#, r#""extra": {"a": 1}, "companyName""#);
        let delivery: WebhookDelivery = serde_json::from_str(&body)?;
        let candidate = delivery.data.candidate.as_ref();
        assert_eq!(candidate.and_then(|c| c.id), None);
        assert_eq!(
            candidate.map(|c| c.email.as_str()),
            Some("maria@example.com")
        );
        let step = delivery.data.application.and_then(|a| a.current_step);
        assert_eq!(step.map(|s| s.kind), Some(StepType::Unknown));
        Ok(())
    }

    #[test]
    fn dates_serialise_with_milliseconds_and_a_z() -> Result<(), serde_json::Error> {
        let delivery: WebhookDelivery = serde_json::from_str(&SAMPLE.replace(".118Z", "+00:00"))?;
        let json = serde_json::to_value(&delivery)?;
        assert_eq!(json["date"], "2026-11-20T13:05:41.000Z");
        Ok(())
    }

    #[test]
    fn tags_accept_objects_and_bare_names() -> Result<(), serde_json::Error> {
        let tags: Vec<Tag> = serde_json::from_str(r#"[{"name": "Apto", "id": 3}, "Inapto"]"#)?;
        assert_eq!(
            tags,
            vec![
                Tag {
                    name: "Apto".into()
                },
                Tag {
                    name: "Inapto".into()
                }
            ]
        );
        assert_eq!(serde_json::to_string(&tags[0])?, r#"{"name":"Apto"}"#);
        Ok(())
    }

    #[test]
    fn the_list_envelope_round_trips() -> Result<(), serde_json::Error> {
        let list: ListEnvelope<JobRef> = serde_json::from_str(
            r#"{"results": [{"id": 1, "name": "A"}], "totalResults": 1, "page": 1, "totalPages": 1}"#,
        )?;
        assert_eq!(list.results[0].id, 1);
        assert_eq!(serde_json::to_value(&list)?["totalResults"], 1);
        Ok(())
    }
}
