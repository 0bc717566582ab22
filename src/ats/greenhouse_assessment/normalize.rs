//! Greenhouse's bodies to Liaison's order types and back (pure). Greenhouse sends no application
//! id: it is read from `greenhouse_profile_url` (`.../people/{candidate_id}?application_id={id}`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::payload::{SendTestRequest, TestStatusResponse};
use crate::orders::{AtsRef, NewOrder, Order, OrderCandidate, OrderStatus};

/// What in a `send_test` body Liaison refuses (400).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendTestError {
    #[error("`{0}` must not be empty")]
    Empty(&'static str),
    #[error("`url` must be an http(s) URL")]
    BadUrl,
}

/// The order a `send_test` body makes.
pub fn order_of(request: &SendTestRequest) -> Result<NewOrder, SendTestError> {
    let required = [
        ("partner_test_id", &request.partner_test_id),
        ("url", &request.url),
        ("candidate.email", &request.candidate.email),
        (
            "candidate.greenhouse_profile_url",
            &request.candidate.greenhouse_profile_url,
        ),
    ];
    if let Some((name, _)) = required.iter().find(|(_, value)| value.trim().is_empty()) {
        return Err(SendTestError::Empty(name));
    }
    let url = url::Url::parse(&request.url).map_err(|_| SendTestError::BadUrl)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SendTestError::BadUrl);
    }
    let candidate = &request.candidate;
    let (candidate_id, application_id) = ids_of_profile(&candidate.greenhouse_profile_url);
    Ok(NewOrder {
        ats_order_key: request.url.clone(),
        test_id: request.partner_test_id.clone(),
        candidate: OrderCandidate {
            first_name: candidate.first_name.clone(),
            last_name: candidate.last_name.clone(),
            preferred_name: candidate.preferred_name.clone(),
            email: candidate.email.trim().to_owned(),
            phone: candidate.phone_number.clone(),
        },
        ats_ref: AtsRef {
            application_id,
            candidate_id,
            profile_url: Some(candidate.greenhouse_profile_url.clone()),
            sent_by: request.sent_by.clone(),
        },
        callback_url: Some(request.url.clone()),
    })
}

/// The candidate id and application id of a Greenhouse profile URL, when it has them.
pub fn ids_of_profile(profile_url: &str) -> (Option<String>, Option<String>) {
    let Ok(url) = url::Url::parse(profile_url) else {
        return (None, None);
    };
    let candidate = url
        .path_segments()
        .and_then(|segments| {
            let segments: Vec<&str> = segments.collect();
            segments
                .iter()
                .position(|s| *s == "people")
                .and_then(|at| segments.get(at + 1).copied())
        })
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    let application = url
        .query_pairs()
        .find(|(name, _)| name == "application_id")
        .map(|(_, value)| value.into_owned())
        .filter(|id| !id.is_empty());
    (candidate, application)
}

/// `test_status`' answer for an order: `complete` (with the profile URL, score and flat
/// metadata) once its result is in, else where it stands.
pub fn status_of(order: &Order) -> TestStatusResponse {
    match (&order.result, order.status) {
        (Some(result), OrderStatus::Completed | OrderStatus::Reported) => TestStatusResponse {
            partner_status: "complete".to_owned(),
            partner_profile_url: result.profile_url.clone(),
            partner_score: result.score,
            metadata: flat(&result.details),
        },
        (_, status) => TestStatusResponse {
            partner_status: match status {
                OrderStatus::Received => "pending",
                OrderStatus::Failed => "failed",
                OrderStatus::Expired => "expired",
                OrderStatus::Cancelled => "cancelled",
                _ => "sent",
            }
            .to_owned(),
            partner_profile_url: None,
            partner_score: None,
            metadata: BTreeMap::new(),
        },
    }
}

/// Only JS primitives: anything nested is shown as its JSON text.
fn flat(details: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    details
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Value::Array(_) | Value::Object(_) => Value::String(value.to_string()),
                primitive => primitive.clone(),
            };
            (key.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OrderId, TenantId};
    use crate::orders::OrderResult;

    #[test]
    fn ids_come_from_the_profile_url() {
        let (candidate, application) =
            ids_of_profile("https://app.greenhouse.io/people/12345?application_id=67890&src=x");
        assert_eq!(candidate.as_deref(), Some("12345"));
        assert_eq!(application.as_deref(), Some("67890"));
        assert_eq!(ids_of_profile("not a url"), (None, None));
        assert_eq!(
            ids_of_profile("https://app.greenhouse.io/jobs/1"),
            (None, None)
        );
    }

    fn request(url: &str) -> SendTestRequest {
        serde_json::from_value(serde_json::json!({
            "partner_test_id": "prj_1",
            "candidate": {"first_name": "Ana", "last_name": "Lima", "preferred_name": null,
                "email": "ana@example.com", "resume_url": null, "phone_number": null,
                "greenhouse_profile_url": "https://app.greenhouse.io/people/7?application_id=9"},
            "sent_by": "hr@example.org",
            "url": url,
            "new_field_greenhouse_added": true
        }))
        .expect("a send_test body")
    }

    #[test]
    fn a_send_test_body_becomes_an_order_keyed_by_its_url() {
        let order = order_of(&request("https://app.greenhouse.io/t/1")).expect("order");
        assert_eq!(order.ats_order_key, "https://app.greenhouse.io/t/1");
        assert_eq!(order.ats_ref.application_id.as_deref(), Some("9"));
        assert_eq!(order.candidate.email, "ana@example.com");
        assert_eq!(order_of(&request("ftp://x/1")), Err(SendTestError::BadUrl));
        assert_eq!(order_of(&request(" ")), Err(SendTestError::Empty("url")));
    }

    #[test]
    fn status_is_complete_only_with_a_result() {
        let mut order = Order {
            id: OrderId(1),
            tenant: TenantId(1),
            ats_order_key: "k".into(),
            test_id: "t".into(),
            candidate: OrderCandidate::default(),
            ats_ref: AtsRef::default(),
            callback_url: None,
            status: OrderStatus::Invited,
            invitation_id: None,
            result: None,
            reported_at: None,
            last_error: None,
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(status_of(&order).partner_status, "sent");
        order.status = OrderStatus::Expired;
        assert_eq!(status_of(&order).partner_status, "expired");
        order.status = OrderStatus::Cancelled;
        assert_eq!(status_of(&order).partner_status, "cancelled");
        let mut details = BTreeMap::new();
        details.insert("Reviews".to_owned(), Value::from(2));
        details.insert("Nested".to_owned(), serde_json::json!({"a": 1}));
        order.result = Some(OrderResult {
            score: Some(81.5),
            profile_url: Some("https://suite/review/1".into()),
            details,
        });
        order.status = OrderStatus::Completed;
        let status = status_of(&order);
        assert_eq!(status.partner_status, "complete");
        assert_eq!(status.partner_score, Some(81.5));
        assert_eq!(status.metadata["Nested"], Value::from("{\"a\":1}"));
    }
}
