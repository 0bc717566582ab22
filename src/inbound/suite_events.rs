//! Suite webhooks (`contracts/suite-api.md`): Standard Webhooks verification and the mapping of
//! `{"type", "timestamp", "data"}` to Liaison's events. Pure functions.

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::ats::ParseError;
use crate::events::{EventBody, InboundEvent, Source};
use crate::signature::standard_webhooks::{self, WebhookSecret};
use crate::signature::{Unverified, Verified, VerifyError};
use crate::tenant::Tenant;

pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// Checks the Standard Webhooks headers against the tenant's `suite.webhook_secret`.
pub fn verify(
    tenant: &Tenant,
    delivery: &Unverified,
    now: DateTime<Utc>,
) -> Result<(), VerifyError> {
    let (Some(id), Some(timestamp), Some(signature)) = (
        delivery.header(ID_HEADER),
        delivery.header(TIMESTAMP_HEADER),
        delivery.header(SIGNATURE_HEADER),
    ) else {
        return Err(VerifyError::MissingSignature);
    };
    let Some(secret) = tenant.config.suite.webhook_secret.as_ref() else {
        return Err(VerifyError::InvalidSignature);
    };
    let secret = WebhookSecret::parse(secret.expose_secret())?;
    standard_webhooks::verify(
        &secret,
        id,
        timestamp,
        signature,
        delivery.body(),
        now.timestamp(),
    )
    .map_err(VerifyError::from)
}

/// A verified suite delivery as Liaison's event; unknown types are `Ignored`.
pub fn parse(delivery: &Verified, payload: &Value) -> Result<InboundEvent, ParseError> {
    let delivery_id = delivery
        .header(ID_HEADER)
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 200)
        .ok_or_else(|| ParseError::new("webhook-id must be 1 to 200 characters"))?
        .to_owned();
    let kind = payload
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| ParseError::new("`type` must be a string"))?
        .to_owned();
    let occurred_at = match payload.get("timestamp") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(
            crate::time::parse_rfc3339(text)
                .ok_or_else(|| ParseError::new("`timestamp` must be RFC 3339"))?,
        ),
        Some(_) => return Err(ParseError::new("`timestamp` must be a string")),
    };
    let data = payload.get("data").unwrap_or(&Value::Null);
    Ok(InboundEvent {
        source: Source::Suite,
        delivery_id,
        partner_type: kind.clone(),
        occurred_at,
        body: body_of(&kind, data)?,
    })
}

fn body_of(kind: &str, data: &Value) -> Result<EventBody, ParseError> {
    let text = |field: &str| -> Result<Option<String>, ParseError> {
        match data.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ParseError::new(format!("`data.{field}` must be a string"))),
        }
    };
    let required = |field: &str| {
        text(field)?.ok_or_else(|| ParseError::new(format!("`data.{field}` is required")))
    };
    if !data.is_object() && kind_is_known(kind) {
        return Err(ParseError::new("`data` must be an object"));
    }
    Ok(match kind {
        "project.updated" | "project.archived" => EventBody::ProjectChanged {
            project_id: required("id")?,
            status: text("status")?,
        },
        "project.deleted" => EventBody::ProjectDeleted {
            project_id: required("id")?,
        },
        "candidate.updated" => EventBody::CandidateUpdated {
            candidate_id: required("id")?,
            email: text("email")?,
        },
        "candidate.deleted" => EventBody::CandidateDeleted {
            candidate_id: required("id")?,
        },
        "invitation.started"
        | "invitation.completed"
        | "invitation.expired"
        | "invitation.cancelled" => EventBody::InvitationChanged {
            invitation_id: required("id")?,
            project_id: text("project_id")?,
            candidate_id: text("candidate_id")?,
            status: text("status")?
                .unwrap_or_else(|| kind.trim_start_matches("invitation.").to_owned())
                .into(),
        },
        "review.created" | "review.updated" => EventBody::ReviewChanged {
            review_id: required("id")?,
            invitation_id: required("invitation_id")?,
        },
        "user.updated" => EventBody::UserUpdated {
            user_id: required("id")?,
            email: text("email")?,
        },
        _ => EventBody::Ignored,
    })
}

fn kind_is_known(kind: &str) -> bool {
    matches!(
        kind.split_once('.').map(|(k, _)| k),
        Some("project" | "candidate" | "invitation" | "review" | "user")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};
    use bytes::Bytes;
    use serde_json::json;

    use crate::domain::InvitationStatus;
    use crate::events::InvitationEventStatus;

    fn delivered(id: &str) -> Verified {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(id) {
            headers.insert(ID_HEADER, value);
        }
        Verified::trusted(headers, Bytes::new())
    }

    #[test]
    fn invitations_and_reviews_are_mapped() -> Result<(), ParseError> {
        let event = parse(
            &delivered("msg_1"),
            &json!({"type": "invitation.completed", "timestamp": "2026-11-20T13:05:41Z",
                    "data": {"id": "inv_1", "project_id": "prj_1", "candidate_id": "can_1",
                             "status": "completed"}}),
        )?;
        assert_eq!(event.delivery_id, "msg_1");
        assert_eq!(event.source, Source::Suite);
        assert!(
            matches!(event.body, EventBody::InvitationChanged { ref status, .. }
                if *status == InvitationEventStatus::Known(InvitationStatus::Completed))
        );
        let review = parse(
            &delivered("msg_2"),
            &json!({"type": "review.created", "data": {"id": "rev_1", "invitation_id": "inv_1"}}),
        )?;
        assert_eq!(review.subject().as_deref(), Some("suite:invitation:inv_1"));
        Ok(())
    }

    #[test]
    fn unknown_types_are_ignored_and_wrong_types_refused() {
        let unknown = parse(
            &delivered("m"),
            &json!({"type": "planet.exploded", "data": 3}),
        );
        assert_eq!(unknown.map(|e| e.body), Ok(EventBody::Ignored));
        assert!(parse(&delivered("m"), &json!({"type": 4})).is_err());
        assert!(
            parse(
                &delivered("m"),
                &json!({"type": "project.deleted", "data": {"id": 4}})
            )
            .is_err()
        );
        assert!(
            parse(
                &delivered(""),
                &json!({"type": "project.deleted", "data": {"id": "p"}})
            )
            .is_err()
        );
    }
}
