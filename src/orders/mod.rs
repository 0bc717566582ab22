//! The embedded-assessment model, in Liaison's own types: an ATS (Greenhouse Assessment,
//! Teamtailor...) lists the tenant's tests (`catalogue`: suite projects offered), orders an
//! interview of a candidate on one (`place`: answered at once with Liaison's stable order id,
//! stored durably with its `place_order` job), and is told the result once the suite has it
//! (`record_result` + the `report_order` job, retried until the ATS answers 2xx, once per order).
//!
//! Orders the queue gave up on are requeued by `sweep`, under the poller lease.
//!
//! This module alone reads and writes `orders`, `partner_keys` and `partner_reports`.

pub mod catalogue;
pub mod keys;
pub mod reports;
mod store;
pub mod sweep;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{OrderId, TenantId};

pub use store::{
    Placed, find, find_by_invitation, list, mark_ended, mark_failed, mark_invited, mark_reported,
    place, record_result,
};

/// The flow that turns a stored order into a suite candidate and invitation.
pub const PLACE_ORDER: &str = "place_order";
/// The flow that tells the ATS an order's result is ready.
pub const REPORT_ORDER: &str = "report_order";
/// A result is reported until the ATS takes it: the queue's capped backoff spaces these out.
pub const REPORT_MAX_ATTEMPTS: u32 = 200;

/// The person an order is for, as the ATS sent them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCandidate {
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
}

/// Where the order's subject lives at the ATS (what it told us of it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtsRef {
    pub application_id: Option<String>,
    pub candidate_id: Option<String>,
    pub profile_url: Option<String>,
    pub sent_by: Option<String>,
}

/// An order as an adapter hands it over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// The ATS's own key of the order (Greenhouse: its `url`): the same key twice is one order.
    pub ats_order_key: String,
    /// The test ordered: a suite project id.
    pub test_id: String,
    pub candidate: OrderCandidate,
    pub ats_ref: AtsRef,
    /// Where the result is reported (Greenhouse: the `url` to PATCH).
    pub callback_url: Option<String>,
}

/// Where an order stands; stored as its `as_str`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Stored; the invitation is on its way.
    Received,
    /// The suite invited the candidate.
    Invited,
    /// The interview is complete and reviewed: the result waits for the ATS to take it.
    Completed,
    /// The ATS took the result.
    Reported,
    /// The order cannot be carried out (an unknown test...): see `last_error`.
    Failed,
    /// The invitation expired before the interview was taken.
    Expired,
    /// The invitation was cancelled at the suite.
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        Self::Received,
        Self::Invited,
        Self::Completed,
        Self::Reported,
        Self::Failed,
        Self::Expired,
        Self::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Invited => "invited",
            Self::Completed => "completed",
            Self::Reported => "reported",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == stored)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order's result, in Liaison's terms; each ATS adapter words it its own way.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderResult {
    /// Average review score, 0-100.
    pub score: Option<f64>,
    /// Where a reviewer sees the interview (the suite's review page).
    pub profile_url: Option<String>,
    /// Flat facts worth showing at the ATS (`Reviews`, `Recommendation`, `Completed At`).
    pub details: BTreeMap<String, serde_json::Value>,
}

/// A stored order.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub id: OrderId,
    pub tenant: TenantId,
    pub ats_order_key: String,
    pub test_id: String,
    pub candidate: OrderCandidate,
    pub ats_ref: AtsRef,
    pub callback_url: Option<String>,
    pub status: OrderStatus,
    pub invitation_id: Option<String>,
    pub result: Option<OrderResult>,
    pub reported_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}
