//! `signed-json`: an ATS that pushes JSON (or form) bodies signed with HMAC-SHA256 over the raw
//! bytes (`contracts/ats-generic.md`). No API to call back: fetch and write-back are unsupported.

pub mod fields;

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};

use self::fields::Fields;
use super::capabilities::Delivery;
use super::error::ParseError;
use super::{AdapterFuture, ApplicationRef, AtsAdapter, WriteBack, unsupported};
use crate::events::{AtsApplication, AtsCandidate, AtsJob, EventBody, InboundEvent, Source};
use crate::signature::hmac_sha256::{
    self, SIGNATURE_HEADER, Scheme, SignedHeaders, TIMESTAMP_HEADER,
};
use crate::signature::{Unverified, Verified, VerifyError};
use crate::tenant::{AtsKind, Tenant};

/// The sender's delivery id header.
pub const DELIVERY_HEADER: &str = "X-Liaison-Delivery";

pub struct SignedJsonAdapter;

impl AtsAdapter for SignedJsonAdapter {
    fn kind(&self) -> AtsKind {
        AtsKind::SignedJson
    }

    /// The ATS has no subscription API: an operator points it at Liaison's URL.
    fn delivery(&self) -> Delivery {
        Delivery::ConfiguredAtTheAts
    }

    fn verify(
        &self,
        tenant: &Tenant,
        delivery: &Unverified,
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let Some(secret) = tenant.config.ats.webhook_secret.as_ref() else {
            return Err(VerifyError::InvalidSignature);
        };
        hmac_sha256::verify_delivery(
            secret.expose_secret().as_bytes(),
            signed_headers(delivery.header(DELIVERY_HEADER), |name| {
                delivery.header(name)
            }),
            delivery.body(),
            now,
        )
        .map(|_| ())
    }

    fn parse(
        &self,
        tenant: &Tenant,
        delivery: &Verified,
        payload: &Value,
    ) -> Result<InboundEvent, ParseError> {
        let ats = &tenant.config.ats;
        let delivery_id = delivery_id(delivery, payload)?;
        let sent_at = delivery
            .header(TIMESTAMP_HEADER)
            .and_then(|t| t.trim().parse::<i64>().ok())
            .and_then(|s| s.checked_mul(1_000));
        parse_payload(
            payload,
            &ats.fields,
            ats.language.as_deref(),
            delivery_id,
            sent_at,
        )
    }

    fn fetch_job<'a>(&'a self, _: &'a Tenant, _: &'a str) -> AdapterFuture<'a, AtsJob> {
        unsupported(AtsKind::SignedJson, "fetch a job")
    }

    fn fetch_application<'a>(
        &'a self,
        _: &'a Tenant,
        _: &'a ApplicationRef,
    ) -> AdapterFuture<'a, AtsApplication> {
        unsupported(AtsKind::SignedJson, "fetch an application")
    }

    fn write_back<'a>(
        &'a self,
        _: &'a Tenant,
        _: &'a ApplicationRef,
        _: &'a WriteBack,
    ) -> AdapterFuture<'a, ()> {
        unsupported(AtsKind::SignedJson, "write results back")
    }
}

fn signed_headers<'a>(
    delivery: Option<&'a str>,
    header: impl Fn(&str) -> Option<&'a str>,
) -> SignedHeaders<'a> {
    SignedHeaders {
        signature: header(SIGNATURE_HEADER),
        timestamp: header(TIMESTAMP_HEADER),
        delivery,
    }
}

/// The id that recognises a duplicate, always one the MAC covers: `X-Liaison-Delivery` under a
/// `v2` signature (which signs it); else the body's own `id`; else the SHA-256 of the signed
/// content (`"{timestamp}.{body}"`, or the body without a timestamp). Under a plain signature
/// the header is not authenticated, so it is ignored: anyone holding one captured delivery could
/// otherwise replay it as new events under fresh ids, or take a future id and have the real
/// delivery dropped as a duplicate.
fn delivery_id(delivery: &Verified, payload: &Value) -> Result<String, ParseError> {
    let v2 = delivery
        .header(SIGNATURE_HEADER)
        .is_some_and(|s| hmac_sha256::scheme_of(s) == Scheme::V2);
    let header = delivery
        .header(DELIVERY_HEADER)
        .map(str::trim)
        .filter(|h| v2 && !h.is_empty());
    let chosen = match (header, payload.get("id")) {
        (Some(header), _) => header.to_owned(),
        (_, Some(Value::String(id))) if !id.trim().is_empty() => id.trim().to_owned(),
        (_, Some(Value::Number(id))) => id.to_string(),
        _ => match delivery.header(TIMESTAMP_HEADER).map(str::trim) {
            Some(timestamp) => {
                let mut signed = Sha256::new();
                signed.update(timestamp.as_bytes());
                signed.update(b".");
                signed.update(delivery.body());
                hmac_sha256::to_hex(&signed.finalize())
            }
            None => crate::crypto::sha256_hex(delivery.body()),
        },
    };
    if chosen.len() > 200 {
        return Err(ParseError::new(
            "the delivery id is longer than 200 characters",
        ));
    }
    Ok(chosen)
}

/// The body as Liaison's event (pure; `sent_at` is the signed timestamp, in ms, when sent).
pub fn parse_payload(
    payload: &Value,
    overrides: &std::collections::BTreeMap<String, String>,
    default_language: Option<&str>,
    delivery_id: String,
    sent_at: Option<i64>,
) -> Result<InboundEvent, ParseError> {
    if !payload.is_object() {
        return Err(ParseError::new("the body must be a JSON object"));
    }
    let fields = Fields::new(payload, overrides);
    let kind = fields.text("type")?;
    let implicit_update = kind.is_none()
        && fields.text("job_reference")?.is_some()
        && fields.text("job_name")?.is_some();
    let partner_type = kind.clone().unwrap_or_else(|| {
        if implicit_update {
            "job.updated"
        } else {
            "unknown"
        }
        .to_owned()
    });
    let mut occurred_at = sent_at;
    let body = match partner_type.as_str() {
        "job.created" | "job.updated" => EventBody::JobUpserted(job(&fields, default_language)?),
        "job.closed" => EventBody::JobClosed {
            ats_job_id: fields.required("job_reference")?,
        },
        "application.moved" => {
            if let Some(at) = fields.text("occurred_at")? {
                occurred_at = Some(
                    crate::time::parse_rfc3339(&at)
                        .ok_or_else(|| ParseError::new("`occurred_at` must be RFC 3339"))?,
                );
            }
            EventBody::ApplicationChanged(application(&fields)?)
        }
        _ => EventBody::Ignored,
    };
    Ok(InboundEvent {
        source: Source::Ats,
        delivery_id,
        partner_type,
        occurred_at,
        body,
    })
}

fn job(fields: &Fields<'_>, default_language: Option<&str>) -> Result<AtsJob, ParseError> {
    // Checked for their types even though the suite project does not carry them.
    for number in [
        "job_latitude",
        "job_longitude",
        "job_salary_min",
        "job_salary_max",
    ] {
        fields.number(number)?;
    }
    Ok(AtsJob {
        ats_job_id: fields.required("job_reference")?,
        title: Some(fields.required("job_name")?),
        description: fields.text("job_summary")?,
        location: fields.text("job_address")?,
        language: fields
            .text("job_language")?
            .or_else(|| default_language.map(str::to_owned)),
        starts_on: fields.date("job_start")?,
        ends_on: fields.date("job_end")?,
        url: fields.text("job_url")?,
        complete: true,
    })
}

fn application(fields: &Fields<'_>) -> Result<AtsApplication, ParseError> {
    Ok(AtsApplication {
        ats_application_id: fields.required("application_reference")?,
        ats_job_id: fields.required("job_reference")?,
        job_title: fields.text("job_name")?,
        step: fields.text("step")?,
        status: None,
        candidate: AtsCandidate {
            ats_candidate_id: fields.text("candidate_reference")?,
            first_name: fields.text("candidate_first_name")?,
            last_name: fields.text("candidate_last_name")?,
            email: fields.text("candidate_email")?.map(|e| e.to_lowercase()),
            phone: fields.text("candidate_phone")?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn parse(payload: Value) -> Result<InboundEvent, ParseError> {
        parse_payload(&payload, &BTreeMap::new(), Some("en"), "d1".into(), None)
    }

    #[test]
    fn a_job_without_type_is_an_update() -> Result<(), ParseError> {
        let event = parse(
            json!({"job_reference": "af42dd", "job_name": "Data scientist",
            "job_start": "2021-11-12T14:46:56.816369", "job_salary_min": "4000"}),
        )?;
        assert_eq!(event.partner_type, "job.updated");
        let EventBody::JobUpserted(job) = event.body else {
            panic!("expected a job");
        };
        assert_eq!(job.ats_job_id, "af42dd");
        assert_eq!(job.starts_on.as_deref(), Some("2021-11-12"));
        assert_eq!(job.language.as_deref(), Some("en"));
        Ok(())
    }

    #[test]
    fn application_moves_carry_the_candidate_and_the_senders_time() -> Result<(), ParseError> {
        let event = parse(
            json!({"type": "application.moved", "application_reference": "a1",
            "job_reference": "j1", "step": "Video interview", "occurred_at": "2026-11-20T13:05:41Z",
            "candidate": {"reference": "c1", "first_name": "Maria", "email": "M@X.io"}}),
        )?;
        assert_eq!(event.occurred_at, Some(1_795_179_941_000));
        let EventBody::ApplicationChanged(app) = event.body else {
            panic!("expected an application");
        };
        assert_eq!(app.candidate.email.as_deref(), Some("m@x.io"));
        assert_eq!(app.step.as_deref(), Some("Video interview"));
        Ok(())
    }

    #[test]
    fn unknown_types_are_ignored_and_bad_shapes_refused() {
        assert_eq!(
            parse(json!({"type": "job.teleported"})).map(|e| e.body),
            Ok(EventBody::Ignored)
        );
        assert!(parse(json!({"type": "job.created", "job_reference": "x"})).is_err());
        assert!(parse(json!({"type": "job.closed", "job_reference": [1]})).is_err());
        assert!(parse(json!([1])).is_err());
    }
}
