//! Greenhouse Assessment Partner API bodies, written from `contracts/ats-partners.md` §1.1 (not
//! from Liaison's adapter): what Greenhouse sends the partner, and what it accepts back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One test of `GET {list_tests}`: both fields strings, required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerTest {
    pub partner_test_id: String,
    pub partner_test_name: String,
}

/// `POST {send_test}`'s body, as Greenhouse sends it (absent values are `null`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendTest {
    pub partner_test_id: String,
    pub candidate: Candidate,
    pub sent_by: Option<String>,
    pub url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: Option<String>,
    pub resume_url: Option<String>,
    pub phone_number: Option<String>,
    pub email: String,
    pub greenhouse_profile_url: String,
}

/// `send_test`'s answer: must be exactly a string `partner_interview_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentTest {
    pub partner_interview_id: String,
}

/// `GET {test_status}`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestStatus {
    pub partner_status: String,
    #[serde(default)]
    pub partner_profile_url: Option<String>,
    #[serde(default)]
    pub partner_score: Option<f64>,
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, serde_json::Value>>,
}

impl TestStatus {
    /// What Greenhouse would report to the partner through `response_error`, if anything.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.partner_status == "complete" && self.partner_profile_url.is_none() {
            problems.push("partner_status is 'complete' but partner_profile url is missing".into());
        }
        if let Some(metadata) = &self.metadata
            && metadata.values().any(|v| v.is_object() || v.is_array())
        {
            problems.push("metadata must be a flat object of primitives".into());
        }
        problems
    }
}

/// `POST {response_error}`: Greenhouse telling the partner an answer was malformed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseError {
    pub api_call: String,
    pub errors: Vec<String>,
    pub partner_test_id: Option<String>,
    pub partner_test_name: Option<String>,
    pub partner_interview_id: Option<String>,
    pub candidate_email: Option<String>,
}
