//! Teamtailor's partner bodies, written from the contract (kebab-case keys, JSON:API results).

use serde::{Deserialize, Serialize};

/// `PUT /partner/v1/partner-results/{id}`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ResultDocument {
    pub data: ResultData,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ResultData {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub attributes: ResultAttributes,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ResultAttributes {
    pub status: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub assessment: Option<Assessment>,
    #[serde(default)]
    pub details: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Assessment {
    #[serde(default)]
    pub score: Option<serde_json::Value>,
}

/// The statuses a partner result may take.
pub const STATUSES: [&str; 5] = ["sending", "sent", "pending", "completed", "failed"];
