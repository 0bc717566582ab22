//! Greenhouse's Assessment Partner API bodies (`contracts/ats-partners.md` §1.1), as Greenhouse
//! sends and expects them. Greenhouse "may add properties, never remove": unknown fields are
//! ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One entry of `list_tests`' answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TestResponse {
    pub partner_test_id: String,
    pub partner_test_name: String,
}

/// `POST send_test`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SendTestRequest {
    pub partner_test_id: String,
    pub candidate: CandidateRequest,
    #[serde(default)]
    pub sent_by: Option<String>,
    /// The take-home test instance: unique per order, and where the result is PATCHed.
    pub url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CandidateRequest {
    pub first_name: String,
    pub last_name: String,
    /// Required by the contract, but may be `null` ("absent values are null").
    #[serde(default)]
    pub preferred_name: Option<String>,
    #[serde(default)]
    pub resume_url: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    pub email: String,
    pub greenhouse_profile_url: String,
}

/// `send_test`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SendTestResponse {
    pub partner_interview_id: String,
}

/// `test_status`' answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestStatusResponse {
    pub partner_status: String,
    pub partner_profile_url: Option<String>,
    pub partner_score: Option<f64>,
    /// A flat object of JSON primitives.
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// `test_status`' query.
#[derive(Clone, Debug, Deserialize)]
pub struct TestStatusQuery {
    pub partner_interview_id: String,
}

/// `POST response_error`: only `api_call` and `errors` are guaranteed.
#[derive(Clone, Debug, Deserialize)]
pub struct ResponseErrorRequest {
    pub api_call: String,
    pub errors: Vec<String>,
}
