//! Teamtailor's bodies to Liaison's order types and back (pure).

use super::payload::{
    Assessment, Candidate, Config, ConfigResponse, Field, FieldOption, ListedResult, Resource,
    ResultAttributes, ResultData, ResultDocument, WebhookRequest,
};
use crate::orders::catalogue::Test;
use crate::orders::{AtsRef, NewOrder, OrderCandidate, OrderResult};

/// The trigger form's field that names the test (its value arrives in `webhook-data`).
pub const TEST_FIELD: &str = "test";

/// The trigger form: one select of the tenant's tests.
pub fn config_of(tests: Vec<Test>) -> ConfigResponse {
    ConfigResponse {
        config: Config {
            fields: vec![Field {
                id: TEST_FIELD.to_owned(),
                label: "Video interview".to_owned(),
                kind: "select".to_owned(),
                options: tests
                    .into_iter()
                    .map(|t| FieldOption {
                        id: t.id,
                        label: t.name,
                    })
                    .collect(),
            }],
        },
    }
}

fn id_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The order a webhook makes; keyed by the partner result (one per trigger run).
pub fn order_of(request: &WebhookRequest) -> Result<NewOrder, String> {
    let event = &request.partner_event;
    order_from(
        &event.partner_result.id,
        &event.partner_result.update_url,
        &event.webhook_data,
        &event.candidate,
    )
}

/// The order of a partner result the recovery listing found: its candidate is the included
/// resource its `candidate` relationship names, its `update-url` its `links.self` (else
/// `{fallback_base}/{id}`).
pub fn order_of_listed(
    listed: &ListedResult,
    included: &[Resource],
    fallback_base: &str,
) -> Result<NewOrder, String> {
    let reference = listed
        .relationships
        .candidate
        .as_ref()
        .and_then(|r| r.data.as_ref())
        .ok_or_else(|| "the partner result names no candidate".to_owned())?;
    let resource = included
        .iter()
        .find(|r| r.kind == reference.kind && r.id == reference.id)
        .ok_or_else(|| format!("candidate {} is not included", reference.id))?;
    let mut fields = resource.attributes.clone();
    fields.insert("id".to_owned(), reference.id.clone().into());
    let candidate: Candidate = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| format!("candidate {}: {e}", reference.id))?;
    let update_url = listed
        .links
        .own
        .clone()
        .unwrap_or_else(|| format!("{}/{}", fallback_base.trim_end_matches('/'), listed.id));
    order_from(
        &listed.id,
        &update_url,
        &listed.attributes.webhook_data,
        &candidate,
    )
}

fn order_from(
    partner_result_id: &str,
    update_url: &str,
    webhook_data: &serde_json::Map<String, serde_json::Value>,
    candidate: &Candidate,
) -> Result<NewOrder, String> {
    let test = webhook_data
        .get(TEST_FIELD)
        .and_then(id_text)
        .ok_or_else(|| format!("`webhook-data.{TEST_FIELD}` names no test"))?;
    if !candidate.email.contains('@') {
        return Err("the candidate has no email".to_owned());
    }
    let url = url::Url::parse(update_url)
        .map_err(|_| "`partner-result.update-url` is not a URL".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("`partner-result.update-url` is not an http(s) URL".to_owned());
    }
    Ok(NewOrder {
        ats_order_key: partner_result_id.to_owned(),
        test_id: test,
        candidate: OrderCandidate {
            first_name: candidate.first_name.clone().unwrap_or_default(),
            last_name: candidate.last_name.clone().unwrap_or_default(),
            preferred_name: None,
            email: candidate.email.trim().to_owned(),
            phone: candidate.phone.clone(),
        },
        ats_ref: AtsRef {
            application_id: candidate.job.as_ref().and_then(|j| id_text(&j.id)),
            candidate_id: id_text(&candidate.id),
            profile_url: None,
            sent_by: None,
        },
        callback_url: Some(update_url.to_owned()),
    })
}

/// The JSON:API document of a result; the score is clamped to 0-100.
pub fn result_document(partner_result_id: &str, result: &OrderResult) -> ResultDocument {
    let score = result.score.map(|s| s.round().clamp(0.0, 100.0) as u8);
    let summary = match score {
        Some(score) => format!("Video interview reviewed: {score}/100"),
        None => "Video interview reviewed".to_owned(),
    };
    ResultDocument {
        data: ResultData {
            kind: "partner-results",
            id: partner_result_id.to_owned(),
            attributes: ResultAttributes {
                status: "completed",
                summary,
                url: result.profile_url.clone(),
                assessment: Assessment { score },
                details: result
                    .details
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_outside_0_to_100_is_never_sent() {
        let result = OrderResult {
            score: Some(100.6),
            ..OrderResult::default()
        };
        let document = result_document("r1", &result);
        assert_eq!(document.data.attributes.assessment.score, Some(100));
        let low = OrderResult {
            score: Some(-3.0),
            ..OrderResult::default()
        };
        assert_eq!(
            result_document("r1", &low).data.attributes.assessment.score,
            Some(0)
        );
    }

    #[test]
    fn a_webhook_becomes_an_order_keyed_by_its_partner_result() {
        let request: WebhookRequest = serde_json::from_value(serde_json::json!({
            "partner-event": {
                "id": "e1",
                "webhook-data": {"test": "prj_1"},
                "partner-result": {"id": "r1", "status": "sending",
                    "update-url": "https://api.teamtailor.com/partner/v1/partner-results/r1"},
                "candidate": {"id": 54321, "first-name": "Ana", "last-name": "Lima",
                    "email": "ana@example.com", "job": {"id": 9}}
            },
            "company": {"uuid": "c"}
        }))
        .expect("a webhook");
        let order = order_of(&request).expect("an order");
        assert_eq!(order.ats_order_key, "r1");
        assert_eq!(order.test_id, "prj_1");
        assert_eq!(order.ats_ref.candidate_id.as_deref(), Some("54321"));
    }

    #[test]
    fn a_listed_partner_result_becomes_the_order_its_webhook_would_have_made() {
        let page: super::super::payload::ResultListResponse =
            serde_json::from_value(serde_json::json!({
                "data": [{"id": "r2", "type": "partner-results",
                    "attributes": {"status": "sending", "webhook-data": {"test": "prj_1"}},
                    "relationships": {"candidate": {"data": {"type": "candidates", "id": "7"}}}}],
                "included": [{"type": "candidates", "id": "7", "attributes":
                    {"first-name": "Ana", "last-name": "Lima", "email": "ana@example.com"}}],
                "meta": {"record-count": 1}
            }))
            .expect("a page");
        let order = order_of_listed(&page.data[0], &page.included, "https://tt/partner-results")
            .expect("an order");
        assert_eq!(order.ats_order_key, "r2");
        assert_eq!(order.test_id, "prj_1");
        assert_eq!(order.candidate.email, "ana@example.com");
        assert_eq!(order.ats_ref.candidate_id.as_deref(), Some("7"));
        assert_eq!(
            order.callback_url.as_deref(),
            Some("https://tt/partner-results/r2")
        );
        let orphan = order_of_listed(&page.data[0], &[], "https://tt/partner-results");
        assert!(orphan.is_err(), "no included candidate");
    }
}
