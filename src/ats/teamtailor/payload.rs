//! Teamtailor's partner API bodies (`contracts/ats-partners.md` §3.1). Keys are kebab-case;
//! unknown fields are ignored (Teamtailor sends much more than Liaison reads).

use serde::{Deserialize, Serialize};

/// `POST /webhook`: the order.
#[derive(Clone, Debug, Deserialize)]
pub struct WebhookRequest {
    #[serde(rename = "partner-event")]
    pub partner_event: PartnerEvent,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PartnerEvent {
    pub id: String,
    /// The trigger's form values (field ids with `_` turned into `-`).
    #[serde(default)]
    pub webhook_data: serde_json::Map<String, serde_json::Value>,
    pub partner_result: PartnerResult,
    pub candidate: Candidate,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PartnerResult {
    pub id: String,
    pub update_url: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Candidate {
    pub id: serde_json::Value,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub job: Option<Job>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Job {
    pub id: serde_json::Value,
}

/// `GET /config`: the form shown when a trigger is set up.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigResponse {
    pub config: Config,
}

#[derive(Clone, Debug, Serialize)]
pub struct Config {
    pub fields: Vec<Field>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Field {
    pub id: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub options: Vec<FieldOption>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FieldOption {
    pub id: String,
    pub label: String,
}

/// `PUT {update-url}`: the result, in JSON:API.
#[derive(Clone, Debug, Serialize)]
pub struct ResultDocument {
    pub data: ResultData,
}

#[derive(Clone, Debug, Serialize)]
pub struct ResultData {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub attributes: ResultAttributes,
}

#[derive(Clone, Debug, Serialize)]
pub struct ResultAttributes {
    pub status: &'static str,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub assessment: Assessment,
    pub details: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Assessment {
    /// 0-100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
}

/// `GET {pending_results_path}?filter[status]=sending&include=candidate&page[...]`: a JSON:API
/// page of partner results (the recovery listing; its shape beyond JSON:API is unverified).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ResultListResponse {
    #[serde(default)]
    pub data: Vec<ListedResult>,
    #[serde(default)]
    pub included: Vec<Resource>,
    #[serde(default)]
    pub meta: ListMeta,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListMeta {
    #[serde(rename = "record-count", default)]
    pub record_count: Option<u64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ListedResult {
    pub id: String,
    #[serde(default)]
    pub attributes: ListedAttributes,
    #[serde(default)]
    pub relationships: ListedRelationships,
    #[serde(default)]
    pub links: Links,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ListedAttributes {
    #[serde(default)]
    pub status: Option<String>,
    /// The trigger's form values, as the webhook carried them.
    #[serde(default)]
    pub webhook_data: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListedRelationships {
    #[serde(default)]
    pub candidate: Option<Relationship>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Relationship {
    #[serde(default)]
    pub data: Option<ResourceId>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ResourceId {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// An included resource (`candidates`).
#[derive(Clone, Debug, Deserialize)]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Links {
    /// The result's own URL (where its PUT goes), when the API gives it.
    #[serde(rename = "self", default)]
    pub own: Option<String>,
}
