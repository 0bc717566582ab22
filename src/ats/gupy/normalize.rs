//! Gupy deliveries and REST objects in Liaison's terms. Pure functions.

use serde::Deserialize;
use serde_json::Value;

use super::payload::{
    Application, ApplicationStatus, Candidate, DeliveryApplication, Job, JobStatus, WebhookAction,
    WebhookDelivery,
};
use crate::ats::error::ParseError;
use crate::events::{AtsApplication, AtsCandidate, AtsJob, EventBody, InboundEvent, Source};

/// The fields every delivery has, read first so an unknown action is still recognised.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    event: String,
    date: String,
}

/// A verified Gupy delivery as Liaison's event. Unknown actions are `Ignored` (accepted, so Gupy
/// stops retrying); a known action whose data does not match the contract is malformed.
pub fn parse_delivery(payload: &Value) -> Result<InboundEvent, ParseError> {
    let envelope = Envelope::deserialize(payload)
        .map_err(|e| ParseError::new(format!("not a Gupy delivery: {e}")))?;
    if envelope.id.trim().is_empty() || envelope.id.len() > 200 {
        return Err(ParseError::new("`id` must be a non-empty string"));
    }
    let occurred_at = crate::time::parse_rfc3339(&envelope.date)
        .ok_or_else(|| ParseError::new("`date` is not an ISO 8601 time"))?;
    let event = |body| InboundEvent {
        source: Source::Ats,
        delivery_id: envelope.id.clone(),
        partner_type: envelope.event.clone(),
        occurred_at: Some(occurred_at),
        body,
    };
    let action = WebhookAction::deserialize(Value::String(envelope.event.clone()))
        .unwrap_or(WebhookAction::Unknown);
    if action == WebhookAction::Unknown {
        return Ok(event(EventBody::Ignored));
    }
    let delivery = WebhookDelivery::deserialize(payload)
        .map_err(|e| ParseError::new(format!("`{}` delivery: {e}", envelope.event)))?;
    Ok(event(body_of(&delivery)?))
}

fn body_of(delivery: &WebhookDelivery) -> Result<EventBody, ParseError> {
    let job = &delivery.data.job;
    Ok(match delivery.event {
        WebhookAction::ApplicationCreated
        | WebhookAction::ApplicationMoved
        | WebhookAction::ApplicationCompleted
        | WebhookAction::CandidateHired => {
            let application = delivery.data.application.as_ref().ok_or_else(|| {
                ParseError::new(format!(
                    "`{}` without data.application",
                    delivery.event.as_str()
                ))
            })?;
            EventBody::ApplicationChanged(delivered_application(
                job.id,
                &job.name,
                application,
                delivery.data.candidate.as_ref(),
            ))
        }
        WebhookAction::JobPublished => EventBody::JobUpserted(thin_job(job.id, &job.name)),
        WebhookAction::JobStatusChanged => match job.status {
            Some(JobStatus::Closed | JobStatus::Canceled) => EventBody::JobClosed {
                ats_job_id: job.id.to_string(),
            },
            // Published, or a status the delivery leaves out: the flow reads the job.
            Some(JobStatus::Published) | None => {
                EventBody::JobUpserted(thin_job(job.id, &job.name))
            }
            // Draft, waiting approval, approved: nothing to show candidates yet.
            Some(_) => EventBody::Ignored,
        },
        WebhookAction::Unknown => EventBody::Ignored,
    })
}

/// A job known by id and name only: the flow fetches the rest (`complete = false`).
fn thin_job(id: i64, name: &str) -> AtsJob {
    AtsJob {
        ats_job_id: id.to_string(),
        title: Some(name.to_owned()).filter(|n| !n.is_empty()),
        complete: false,
        ..Default::default()
    }
}

fn delivered_application(
    job_id: i64,
    job_name: &str,
    application: &DeliveryApplication,
    candidate: Option<&Candidate>,
) -> AtsApplication {
    AtsApplication {
        ats_application_id: application.id.to_string(),
        ats_job_id: job_id.to_string(),
        job_title: Some(job_name.to_owned()).filter(|n| !n.is_empty()),
        step: application.current_step.as_ref().map(|s| s.name.clone()),
        status: status_text(application.status),
        candidate: candidate.map(candidate_of).unwrap_or_default(),
    }
}

/// A job read from the API.
pub fn job_of(job: &Job) -> AtsJob {
    let location = [&job.address_city, &job.address_state, &job.address_country]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    AtsJob {
        ats_job_id: job.id.to_string(),
        title: Some(job.name.clone()),
        description: job.description.clone(),
        location: Some(location).filter(|l| !l.is_empty()),
        complete: true,
        ..Default::default()
    }
}

/// Whether a job read from the API is closed for Liaison (its project is archived).
pub fn job_is_closed(job: &Job) -> bool {
    matches!(job.status, JobStatus::Closed | JobStatus::Canceled)
}

/// An application read from the API.
pub fn application_of(application: &Application) -> AtsApplication {
    AtsApplication {
        ats_application_id: application.id.to_string(),
        ats_job_id: application.job.id.to_string(),
        job_title: Some(application.job.name.clone()).filter(|n| !n.is_empty()),
        step: application.current_step.as_ref().map(|s| s.name.clone()),
        status: status_text(application.status),
        candidate: candidate_of(&application.candidate),
    }
}

fn candidate_of(candidate: &Candidate) -> AtsCandidate {
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    AtsCandidate {
        ats_candidate_id: candidate.id.map(|id| id.to_string()),
        first_name: text(&candidate.name),
        last_name: text(&candidate.last_name),
        email: text(&candidate.email).map(|e| e.to_lowercase()),
        phone: candidate
            .mobile_number
            .as_deref()
            .or(candidate.phone_number.as_deref())
            .and_then(text),
    }
}

fn status_text(status: ApplicationStatus) -> Option<String> {
    Some(
        match status {
            ApplicationStatus::InProcess => "in_process",
            ApplicationStatus::GiveUp => "give_up",
            ApplicationStatus::Reproved => "reproved",
            ApplicationStatus::Hired => "hired",
            ApplicationStatus::Unknown => return None,
        }
        .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
          "companyName": "ACME",
          "id": "24e99765-8583-4be5-87ae-489c86642964",
          "event": "application.moved",
          "date": "2026-11-20T13:05:41.118Z",
          "data": {
            "job": {"id": 19139, "name": "Data Scientist"},
            "application": {"id": 2937132, "score": 71.5, "status": "in_process", "tags": [],
                            "currentStep": {"id": 86547, "name": "Video interview", "type": "online"}},
            "candidate": {"name": "Maria", "lastName": "Silva", "email": "Maria@Example.com"}
          }
        })
    }

    #[test]
    fn a_moved_application_becomes_an_application_change() -> Result<(), ParseError> {
        let event = parse_delivery(&sample())?;
        assert_eq!(event.delivery_id, "24e99765-8583-4be5-87ae-489c86642964");
        assert_eq!(event.occurred_at, Some(1_795_179_941_118));
        let EventBody::ApplicationChanged(app) = event.body else {
            panic!("expected an application change");
        };
        assert_eq!(app.ats_application_id, "2937132");
        assert_eq!(app.ats_job_id, "19139");
        assert_eq!(app.step.as_deref(), Some("Video interview"));
        assert_eq!(app.candidate.ats_candidate_id, None);
        assert_eq!(app.candidate.email.as_deref(), Some("maria@example.com"));
        Ok(())
    }

    #[test]
    fn an_unknown_action_is_ignored_and_a_wrong_shape_is_malformed() {
        let mut unknown = sample();
        unknown["event"] = json!("candidate.teleported");
        unknown["data"] = json!("anything");
        assert_eq!(
            parse_delivery(&unknown).map(|e| e.body),
            Ok(EventBody::Ignored)
        );
        let mut wrong = sample();
        wrong["data"]["job"]["id"] = json!("not a number");
        assert!(parse_delivery(&wrong).is_err());
        assert!(parse_delivery(&json!([1, 2])).is_err());
        let mut no_date = sample();
        no_date["date"] = json!("yesterday");
        assert!(parse_delivery(&no_date).is_err());
    }

    #[test]
    fn job_status_changes_close_or_upsert() -> Result<(), ParseError> {
        let mut payload = sample();
        payload["event"] = json!("job.status_changed");
        payload["data"] = json!({"job": {"id": 7, "name": "Dev", "status": "closed"}});
        assert_eq!(
            parse_delivery(&payload)?.body,
            EventBody::JobClosed {
                ats_job_id: "7".into()
            }
        );
        payload["data"]["job"]["status"] = json!("draft");
        assert_eq!(parse_delivery(&payload)?.body, EventBody::Ignored);
        payload["event"] = json!("job.published");
        assert!(matches!(parse_delivery(&payload)?.body, EventBody::JobUpserted(j) if !j.complete));
        Ok(())
    }
}
