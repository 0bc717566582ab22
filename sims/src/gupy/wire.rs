//! What the Gupy simulator puts on the wire, written from `contracts/gupy.md` alone (never from
//! the adapter's types, so a misspelt field is not made identically on both sides).
//!
//! The simulator serialises these; it reads only the requests (subscriptions, tags, comments),
//! where an action it does not know is `Unknown` and answered 422.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The list envelope: `{"results", "totalResults", "page", "totalPages"}` (pages from 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListEnvelope<T> {
    pub results: Vec<T>,
    #[serde(rename = "totalResults")]
    pub total_results: u64,
    pub page: u64,
    #[serde(rename = "totalPages")]
    pub total_pages: u64,
}

/// A delivery `POST`ed to a subscription's `postbackUrl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    #[serde(rename = "companyName")]
    pub company_name: Option<String>,
    pub id: String,
    pub event: WebhookAction,
    #[serde(with = "gupy_time")]
    pub date: DateTime<Utc>,
    pub data: DeliveryData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryData {
    pub job: DeliveryJob,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<DeliveryApplication>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<Candidate>,
}

/// `data.job`: `id`, `name`, `type`, `departmentCode`, `roleCode`, `branchCode`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub id: i64,
    pub name: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<JobStatus>,
    #[serde(
        default,
        rename = "departmentCode",
        skip_serializing_if = "Option::is_none"
    )]
    pub department_code: Option<String>,
    #[serde(default, rename = "roleCode", skip_serializing_if = "Option::is_none")]
    pub role_code: Option<String>,
    #[serde(
        default,
        rename = "branchCode",
        skip_serializing_if = "Option::is_none"
    )]
    pub branch_code: Option<String>,
}

/// `data.application`: `id`, `score`, `status`, `tags`, `currentStep`, `previousStep`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryApplication {
    pub id: i64,
    pub score: Option<f64>,
    pub status: ApplicationStatus,
    pub tags: Vec<Tag>,
    #[serde(rename = "currentStep")]
    pub current_step: Option<Step>,
    #[serde(
        default,
        rename = "previousStep",
        skip_serializing_if = "Option::is_none"
    )]
    pub previous_step: Option<Step>,
}

/// The subscription actions of the contract.
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
    /// An action the contract does not name (refused with 422).
    #[serde(other)]
    Unknown,
}

/// A job's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobStatus {
    #[serde(rename = "draft")]
    Draft,
    #[serde(rename = "waiting_approval")]
    WaitingApproval,
    #[serde(rename = "approved")]
    Approved,
    #[serde(rename = "published")]
    Published,
    #[serde(rename = "closed")]
    Closed,
    #[serde(rename = "canceled")]
    Canceled,
    /// A status the contract does not name (in a filter or a `/_sim` body: matches nothing).
    #[serde(other)]
    Unknown,
}

/// An application's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ApplicationStatus {
    #[serde(rename = "in_process")]
    InProcess,
    #[serde(rename = "give_up")]
    GiveUp,
    #[serde(rename = "reproved")]
    Reproved,
    #[serde(rename = "hired")]
    Hired,
    /// A status the contract does not name (in a filter: matches nothing).
    #[serde(other)]
    Unknown,
}

/// A step's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StepType {
    #[serde(rename = "register")]
    Register,
    #[serde(rename = "online")]
    Online,
    #[serde(rename = "offline")]
    Offline,
    #[serde(rename = "pre_hire")]
    PreHire,
    #[serde(rename = "final")]
    Final,
}

/// A step `{id, name, type}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: StepType,
}

/// A tag, `{"name": "Apto"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tag {
    pub name: String,
}

/// A candidate `{id, name, lastName, email, mobileNumber, phoneNumber}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub name: String,
    #[serde(rename = "lastName")]
    pub last_name: String,
    pub email: String,
    #[serde(
        default,
        rename = "mobileNumber",
        skip_serializing_if = "Option::is_none"
    )]
    pub mobile_number: Option<String>,
    #[serde(
        default,
        rename = "phoneNumber",
        skip_serializing_if = "Option::is_none"
    )]
    pub phone_number: Option<String>,
}

/// A job of `GET /api/v1/jobs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: i64,
    pub name: String,
    pub status: JobStatus,
    pub description: Option<String>,
    #[serde(rename = "addressCity")]
    pub address_city: Option<String>,
    #[serde(rename = "addressState")]
    pub address_state: Option<String>,
    #[serde(rename = "addressCountry")]
    pub address_country: Option<String>,
    #[serde(rename = "createdAt", with = "gupy_time")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "updatedAt", with = "gupy_time")]
    pub updated_at: DateTime<Utc>,
}

/// An application's `job {id, name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRef {
    pub id: i64,
    pub name: String,
}

/// An application of `GET /api/v1/jobs/{jobId}/applications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: i64,
    pub status: ApplicationStatus,
    pub tags: Vec<Tag>,
    #[serde(rename = "currentStep")]
    pub current_step: Option<Step>,
    #[serde(rename = "createdAt", with = "gupy_time")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "updatedAt", with = "gupy_time")]
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

/// A comment as the simulator answers it (*assumed* shape: the object with its `id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub id: i64,
    pub text: String,
    #[serde(rename = "createdAt", with = "gupy_time")]
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/webhooks` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookSubscriptionRequest {
    pub action: WebhookAction,
    #[serde(default = "active")]
    pub status: String,
    #[serde(rename = "postbackUrl")]
    pub postback_url: String,
    #[serde(default, rename = "techOwnerName")]
    pub tech_owner_name: Option<String>,
    #[serde(default, rename = "techOwnerEmail")]
    pub tech_owner_email: Option<String>,
    /// Sent verbatim, and alone, with every delivery.
    #[serde(default, rename = "clientHeaders")]
    pub client_headers: BTreeMap<String, String>,
}

fn active() -> String {
    "active".to_owned()
}

/// A subscription as answered: `{"id", "action", "postbackUrl", "status"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookSubscription {
    pub id: String,
    pub action: WebhookAction,
    #[serde(rename = "postbackUrl")]
    pub postback_url: String,
    pub status: String,
}

/// Times: ISO 8601 UTC with milliseconds and a `Z` (`2019-06-19T23:48:46.952Z`).
pub mod gupy_time {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|time| time.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_has_the_contract_spelling() -> Result<(), serde_json::Error> {
        let time = DateTime::parse_from_rfc3339("2026-11-20T13:05:41.118Z")
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)?;
        let delivery = WebhookDelivery {
            company_name: Some("ACME".into()),
            id: "e-1".into(),
            event: WebhookAction::ApplicationMoved,
            date: time,
            data: DeliveryData {
                job: DeliveryJob {
                    id: 19139,
                    name: "Data Scientist".into(),
                    kind: Some("vacancy_type_effective".into()),
                    status: None,
                    department_code: Some("D-100".into()),
                    role_code: None,
                    branch_code: None,
                },
                application: Some(DeliveryApplication {
                    id: 2937132,
                    score: None,
                    status: ApplicationStatus::InProcess,
                    tags: vec![],
                    current_step: Some(Step {
                        id: 1,
                        name: "Video interview".into(),
                        kind: StepType::PreHire,
                    }),
                    previous_step: None,
                }),
                candidate: Some(Candidate {
                    id: Some(1999450),
                    name: "Maria".into(),
                    last_name: "Silva".into(),
                    email: "maria@example.com".into(),
                    mobile_number: Some("+5511999990000".into()),
                    phone_number: None,
                }),
            },
        };
        let json = serde_json::to_value(&delivery)?;
        assert_eq!(json["companyName"], "ACME");
        assert_eq!(json["event"], "application.moved");
        assert_eq!(json["date"], "2026-11-20T13:05:41.118Z");
        assert_eq!(json["data"]["job"]["type"], "vacancy_type_effective");
        assert_eq!(json["data"]["job"]["departmentCode"], "D-100");
        let application = &json["data"]["application"];
        assert_eq!(application["status"], "in_process");
        assert_eq!(application["currentStep"]["type"], "pre_hire");
        let candidate = &json["data"]["candidate"];
        assert_eq!(candidate["lastName"], "Silva");
        assert_eq!(candidate["mobileNumber"], "+5511999990000");
        Ok(())
    }
}
