//! Lever deliveries and REST objects in Liaison's terms. Pure functions.
//!
//! Lever's opportunity is Liaison's application (notes and tags live on it); its posting is the
//! job. A delivery is only a hint (its body is not signed): the events it yields ask the flow to
//! read the opportunity from Lever ([`EventBody::ApplicationToRead`]).

use serde::Deserialize;
use serde_json::Value;

use super::payload::{
    ApplicationRef, Opportunity, OpportunityEventData, Posting, StageRef, WebhookDelivery,
};
use crate::ats::error::ParseError;
use crate::events::{AtsApplication, AtsCandidate, AtsJob, EventBody, InboundEvent, Source};

/// The events after which the opportunity's state may call for an invitation or its end.
const OPPORTUNITY_EVENTS: [&str; 5] = [
    "candidateStageChange",
    "candidateArchiveChange",
    "candidateHired",
    "candidateDeleted",
    "applicationCreated",
];

/// A verified Lever delivery as Liaison's event. The delivery id is the signed `token`, so a
/// replay with another `id` is still recognised. The settings page's test request (no `id`,
/// `data: {}`) and events Liaison does not act upon are `Ignored`.
pub fn parse_delivery(payload: &Value) -> Result<InboundEvent, ParseError> {
    let delivery = WebhookDelivery::deserialize(payload)
        .map_err(|e| ParseError::new(format!("not a Lever delivery: {e}")))?;
    if delivery.token.trim().is_empty() || delivery.token.len() > 200 {
        return Err(ParseError::new("`token` must be a non-empty string"));
    }
    let event = |body| InboundEvent {
        source: Source::Ats,
        delivery_id: format!("lever-token:{}", delivery.token),
        partner_type: delivery.event.clone(),
        occurred_at: Some(delivery.triggered_at),
        body,
    };
    let test_request = delivery.id.is_none()
        && delivery
            .data
            .as_ref()
            .is_none_or(|data| data.as_object().is_some_and(|o| o.is_empty()));
    if test_request || !OPPORTUNITY_EVENTS.contains(&delivery.event.as_str()) {
        return Ok(event(EventBody::Ignored));
    }
    let data = delivery
        .data
        .as_ref()
        .map(OpportunityEventData::deserialize)
        .transpose()
        .map_err(|e| ParseError::new(format!("`{}` data: {e}", delivery.event)))?;
    let opportunity = data
        .and_then(|d| d.opportunity_id.or(d.candidate_id))
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| {
            ParseError::new(format!("`{}` without data.opportunityId", delivery.event))
        })?;
    Ok(event(EventBody::ApplicationToRead {
        ats_application_id: opportunity,
    }))
}

/// An opportunity read from the API. `interview_stage` is the tenant's `ats.interview_step`,
/// a stage id or name: when the opportunity is in the stage with that id, its step is reported
/// as that id, so that either spelling matches.
pub fn application_of(
    opportunity: &Opportunity,
    interview_stage: &str,
) -> Result<AtsApplication, ParseError> {
    let posting = opportunity
        .applications
        .iter()
        .find_map(|application| match application {
            ApplicationRef::Expanded {
                posting: Some(posting),
                ..
            } => Some(posting.clone()),
            _ => None,
        })
        .ok_or_else(|| {
            ParseError::new(format!(
                "opportunity {} has no application to a posting",
                opportunity.id
            ))
        })?;
    let step = opportunity.stage.as_ref().map(|stage| match stage {
        StageRef::Expanded { id, .. } if id == interview_stage.trim() => id.clone(),
        StageRef::Expanded { text, .. } => text.clone(),
        StageRef::Id(id) => id.clone(),
    });
    let status = if opportunity.archived.as_ref().is_some_and(|a| !a.is_null()) {
        "archived"
    } else {
        "in_process"
    };
    Ok(AtsApplication {
        ats_application_id: opportunity.id.clone(),
        ats_job_id: posting,
        job_title: None,
        step,
        status: Some(status.to_owned()),
        candidate: candidate_of(opportunity),
    })
}

/// Lever keeps one `name`: its first word is the first name, the rest the last name.
fn candidate_of(opportunity: &Opportunity) -> AtsCandidate {
    let name = opportunity.name.as_deref().unwrap_or("").trim();
    let (first, last) = name.split_once(char::is_whitespace).unwrap_or((name, ""));
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    AtsCandidate {
        ats_candidate_id: opportunity.contact.clone().filter(|c| !c.is_empty()),
        first_name: text(first),
        last_name: text(last),
        email: opportunity
            .emails
            .iter()
            .find_map(|e| text(e))
            .map(|e| e.to_lowercase()),
        phone: opportunity
            .phones
            .iter()
            .find_map(|p| p.value.as_deref().and_then(text)),
    }
}

/// A posting read from the API.
pub fn job_of(posting: &Posting) -> AtsJob {
    AtsJob {
        ats_job_id: posting.id.clone(),
        title: Some(posting.text.clone()),
        description: posting.content.as_ref().and_then(|c| c.description.clone()),
        location: posting.categories.as_ref().and_then(|c| c.location.clone()),
        url: posting.urls.as_ref().and_then(|u| u.show.clone()),
        complete: true,
        ..Default::default()
    }
}

/// A note's `score` (Lever's scale: 1 strong no, 2 no, 3 yes, 4 strong yes) from Liaison's
/// average score (0-100), in four equal bands: 0-24, 25-49, 50-74, 75-100.
pub fn note_score(average: u8) -> u8 {
    (1 + average.min(100) / 25).min(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scores_fall_into_lever_s_four_bands() {
        let bands: Vec<u8> = [0, 24, 25, 49, 50, 74, 75, 99, 100, 255]
            .into_iter()
            .map(note_score)
            .collect();
        assert_eq!(bands, [1, 1, 2, 2, 3, 3, 4, 4, 4, 4]);
    }

    fn stage_change() -> Value {
        json!({"id": "e1", "event": "candidateStageChange", "triggeredAt": 1_431_454_330_072_i64,
               "token": "tok", "signature": "ab",
               "data": {"opportunityId": "opp-1", "candidateId": "opp-1", "contactId": "c-1",
                        "toStageId": "st-2", "fromStageId": "st-1"}})
    }

    #[test]
    fn a_stage_change_asks_the_flow_to_read_the_opportunity() -> Result<(), ParseError> {
        let event = parse_delivery(&stage_change())?;
        assert_eq!(event.delivery_id, "lever-token:tok");
        assert_eq!(event.occurred_at, Some(1_431_454_330_072));
        assert_eq!(
            event.body,
            EventBody::ApplicationToRead {
                ats_application_id: "opp-1".into()
            }
        );
        Ok(())
    }

    #[test]
    fn the_test_request_and_other_events_are_ignored_and_bad_shapes_malformed() {
        let test = json!({"event": "candidateStageChange", "triggeredAt": 1, "token": "t",
                          "signature": "ab", "data": {}});
        assert_eq!(
            parse_delivery(&test).map(|e| e.body),
            Ok(EventBody::Ignored)
        );
        let mut other = stage_change();
        other["event"] = json!("contactUpdated");
        assert_eq!(
            parse_delivery(&other).map(|e| e.body),
            Ok(EventBody::Ignored)
        );
        let mut no_opportunity = stage_change();
        no_opportunity["data"] = json!({"toStageId": "x"});
        assert!(parse_delivery(&no_opportunity).is_err());
        let mut bad_time = stage_change();
        bad_time["triggeredAt"] = json!("yesterday");
        assert!(parse_delivery(&bad_time).is_err());
        assert!(parse_delivery(&json!([1])).is_err());
    }

    fn opportunity(stage: Value, archived: Value) -> Opportunity {
        serde_json::from_value(json!({
            "id": "opp-1", "name": "Maria da Silva", "contact": "c-1",
            "emails": ["Maria@Example.com"], "phones": [{"type": "mobile", "value": "+55 11"}],
            "stage": stage, "archived": archived,
            "applications": [{"id": "app-1", "posting": "post-1"}]
        }))
        .expect("an opportunity")
    }

    #[test]
    fn the_interview_stage_matches_by_id_or_by_name() -> Result<(), ParseError> {
        let in_stage = opportunity(
            json!({"id": "st-9", "text": "Video interview"}),
            Value::Null,
        );
        let by_id = application_of(&in_stage, "st-9")?;
        assert_eq!(by_id.step.as_deref(), Some("st-9"));
        let by_name = application_of(&in_stage, "Video interview")?;
        assert_eq!(by_name.step.as_deref(), Some("Video interview"));
        assert_eq!(by_name.ats_job_id, "post-1");
        assert_eq!(by_name.status.as_deref(), Some("in_process"));
        assert_eq!(by_name.candidate.first_name.as_deref(), Some("Maria"));
        assert_eq!(by_name.candidate.last_name.as_deref(), Some("da Silva"));
        assert_eq!(
            by_name.candidate.email.as_deref(),
            Some("maria@example.com")
        );
        let archived = opportunity(json!({"id": "st-9", "text": "x"}), json!({"reason": "r"}));
        assert_eq!(
            application_of(&archived, "st-9")?.status.as_deref(),
            Some("archived")
        );
        Ok(())
    }
}
