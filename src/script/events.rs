//! What scripts return, validated against Liaison's event schema (pure). A script writes
//! events in Liaison's own terms (`crate::events`): an object with a `type` (`job_upserted`,
//! `job_closed`, `application_changed`, `ignored`), its fields, and optionally `id` (the
//! delivery id that recognises a duplicate), `occurred_at` (RFC 3339 or ms since the epoch)
//! and `partner_type`. Unknown or missing fields are refused, naming the field.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::events::{AtsApplication, AtsCandidate, AtsJob, EventBody, InboundEvent, Source};

/// Events one run may return.
pub const MAX_EVENTS: usize = 1_000;
/// Longest delivery id (as for the built-in kinds).
const MAX_ID_CHARS: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobIn {
    ats_job_id: String,
    title: Option<String>,
    description: Option<String>,
    location: Option<String>,
    language: Option<String>,
    starts_on: Option<String>,
    ends_on: Option<String>,
    url: Option<String>,
    #[serde(default = "yes")]
    complete: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobClosedIn {
    ats_job_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationIn {
    ats_application_id: String,
    ats_job_id: String,
    job_title: Option<String>,
    step: Option<String>,
    status: Option<String>,
    #[serde(default)]
    candidate: CandidateIn,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidateIn {
    ats_candidate_id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoredIn {}

/// Reads a function's `events` as Liaison events from `source`. An event without its own `id`
/// gets `{base_id}:{index}` (`base_id` = the delivery's id), or, when `base_id` is `None`, the
/// SHA-256 of its content, so that the same change found twice is stored once.
pub fn read_events(
    events: &Value,
    source: Source,
    base_id: Option<&str>,
    default_language: Option<&str>,
) -> Result<Vec<InboundEvent>, String> {
    let Value::Array(items) = events else {
        return Err("`events` must be an array".to_owned());
    };
    if items.len() > MAX_EVENTS {
        return Err(format!("more than {MAX_EVENTS} events"));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            read_event(item, source, base_id, index, default_language)
                .map_err(|reason| format!("events[{index}]: {reason}"))
        })
        .collect()
}

fn read_event(
    item: &Value,
    source: Source,
    base_id: Option<&str>,
    index: usize,
    default_language: Option<&str>,
) -> Result<InboundEvent, String> {
    let Value::Object(fields) = item else {
        return Err("must be an object".to_owned());
    };
    let mut fields: Map<String, Value> = fields.clone();
    let kind = match fields.remove("type") {
        Some(Value::String(kind)) => kind,
        Some(_) => return Err("`type` must be a string".to_owned()),
        None => return Err("missing field `type`".to_owned()),
    };
    let id = optional_text(fields.remove("id"), "id")?;
    let partner_type = optional_text(fields.remove("partner_type"), "partner_type")?;
    let occurred_at = match fields.remove("occurred_at") {
        None | Some(Value::Null) => None,
        Some(Value::Number(ms)) => Some(
            ms.as_i64()
                .ok_or("`occurred_at` must be whole milliseconds")?,
        ),
        Some(Value::String(at)) => {
            Some(crate::time::parse_rfc3339(&at).ok_or("`occurred_at` must be RFC 3339")?)
        }
        Some(_) => return Err("`occurred_at` must be a string or a number".to_owned()),
    };
    let rest = Value::Object(fields);
    let body = match kind.as_str() {
        "job_upserted" => EventBody::JobUpserted(job(from(rest)?, default_language)?),
        "job_closed" => {
            let closed: JobClosedIn = from(rest)?;
            EventBody::JobClosed {
                ats_job_id: required(closed.ats_job_id, "ats_job_id")?,
            }
        }
        "application_changed" => EventBody::ApplicationChanged(application(from(rest)?)?),
        "ignored" => {
            let _: IgnoredIn = from(rest)?;
            EventBody::Ignored
        }
        other => {
            return Err(format!(
                "unknown `type` `{other}` (job_upserted, job_closed, application_changed, ignored)"
            ));
        }
    };
    let mut event = InboundEvent {
        source,
        delivery_id: String::new(),
        partner_type: partner_type.unwrap_or_else(|| kind.replace('_', ".")),
        occurred_at,
        body,
    };
    event.delivery_id = match (id, base_id) {
        (Some(id), _) => id,
        (None, Some(base)) => format!("{base}:{index}"),
        (None, None) => content_id(&event),
    };
    if event.delivery_id.chars().count() > MAX_ID_CHARS {
        return Err(format!("`id` is longer than {MAX_ID_CHARS} characters"));
    }
    if let Some(field) = event.id_with_control_character() {
        return Err(format!("`{field}` contains a control character"));
    }
    Ok(event)
}

/// The SHA-256 of what the event says (not of its delivery id): a poll that finds the same
/// change again stores nothing new.
fn content_id(event: &InboundEvent) -> String {
    let content = serde_json::json!([event.partner_type, event.occurred_at, event.body]);
    crate::crypto::sha256_hex(content.to_string().as_bytes())
}

fn from<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

fn optional_text(value: Option<Value>, name: &str) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(Some(text)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("`{name}` must be a non-empty string")),
    }
}

fn required(text: String, name: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err(format!("`{name}` must not be empty"))
    } else {
        Ok(text)
    }
}

/// `YYYY-MM-DD`, from a date or a date-time.
fn date(value: Option<String>, name: &str) -> Result<Option<String>, String> {
    let Some(text) = value else { return Ok(None) };
    let day = text.get(..10).unwrap_or("");
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(|d| Some(d.format("%Y-%m-%d").to_string()))
        .map_err(|_| format!("`{name}` must be a date (YYYY-MM-DD) or a date-time"))
}

fn job(job: JobIn, default_language: Option<&str>) -> Result<AtsJob, String> {
    Ok(AtsJob {
        ats_job_id: required(job.ats_job_id, "ats_job_id")?,
        title: job.title,
        description: job.description,
        location: job.location,
        language: job.language.or_else(|| default_language.map(str::to_owned)),
        starts_on: date(job.starts_on, "starts_on")?,
        ends_on: date(job.ends_on, "ends_on")?,
        url: job.url,
        complete: job.complete,
    })
}

fn application(app: ApplicationIn) -> Result<AtsApplication, String> {
    Ok(AtsApplication {
        ats_application_id: required(app.ats_application_id, "ats_application_id")?,
        ats_job_id: required(app.ats_job_id, "ats_job_id")?,
        job_title: app.job_title,
        step: app.step,
        status: app.status,
        candidate: AtsCandidate {
            ats_candidate_id: app.candidate.ats_candidate_id,
            first_name: app.candidate.first_name,
            last_name: app.candidate.last_name,
            email: app.candidate.email.map(|e| e.trim().to_lowercase()),
            phone: app.candidate.phone,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(events: Value) -> Result<Vec<InboundEvent>, String> {
        read_events(&events, Source::Ats, Some("d1"), Some("en"))
    }

    #[test]
    fn jobs_and_applications_become_liaison_events() -> Result<(), String> {
        let events = read(json!([
            {"type": "job_upserted", "ats_job_id": "af42dd", "title": "Data scientist",
             "starts_on": "2021-11-12T14:46:56.816369"},
            {"type": "application_changed", "id": "own-id", "ats_application_id": "a1",
             "ats_job_id": "af42dd", "step": "Video interview", "occurred_at": "2026-11-20T13:05:41Z",
             "candidate": {"email": "M@X.io"}}
        ]))?;
        assert_eq!(events[0].delivery_id, "d1:0");
        assert_eq!(events[0].partner_type, "job.upserted");
        let EventBody::JobUpserted(job) = &events[0].body else {
            panic!("a job")
        };
        assert_eq!(job.starts_on.as_deref(), Some("2021-11-12"));
        assert_eq!(job.language.as_deref(), Some("en"));
        assert!(job.complete);
        assert_eq!(events[1].delivery_id, "own-id");
        assert_eq!(events[1].occurred_at, Some(1_795_179_941_000));
        let EventBody::ApplicationChanged(app) = &events[1].body else {
            panic!("an application")
        };
        assert_eq!(app.candidate.email.as_deref(), Some("m@x.io"));
        Ok(())
    }

    #[test]
    fn invalid_events_are_refused_naming_the_field() {
        let error = |v| read(v).err().unwrap_or_default();
        assert!(error(json!([{"type": "job_upserted"}])).contains("`ats_job_id`"));
        assert!(
            error(json!([{"type": "job_upserted", "ats_job_id": "1", "titel": "x"}]))
                .contains("`titel`")
        );
        assert!(
            error(json!([{}, {"ats_job_id": "1"}])).starts_with("events[0]: missing field `type`")
        );
        assert!(
            error(json!([{"type": "job_closed", "ats_job_id": "1", "occurred_at": "yesterday"}]))
                .contains("`occurred_at`")
        );
        assert!(
            error(json!([{"type": "project_deleted", "project_id": "p"}]))
                .contains("unknown `type`")
        );
        assert!(
            error(json!([{"type": "job_closed", "ats_job_id": "a\u{0}b"}])).contains("ats_job_id")
        );
        assert!(error(json!({"type": "job_closed"})).contains("array"));
    }

    #[test]
    fn polled_events_without_id_are_named_by_their_content() -> Result<(), String> {
        let found = json!([{"type": "job_closed", "ats_job_id": "1"}]);
        let first = read_events(&found, Source::Poll, None, None)?;
        let again = read_events(&found, Source::Poll, None, None)?;
        assert_eq!(first[0].delivery_id, again[0].delivery_id);
        let other = read_events(
            &json!([{"type": "job_closed", "ats_job_id": "2"}]),
            Source::Poll,
            None,
            None,
        )?;
        assert_ne!(first[0].delivery_id, other[0].delivery_id);
        Ok(())
    }
}
