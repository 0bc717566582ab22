//! `POST /webhooks/{tenant}/ats` for a script tenant (the kind's `OwnReception`: a delivery
//! may become several events, and the script may choose the answer): the built-in verifier of
//! `ats.verifier`,
//! then the script's `verify` and `catch` in the sandbox (on the tenant's lane, with its
//! program and settings prepared once per tenant version), then every
//! event it answered stored in one transaction. Its `{status, body, headers}` answer, when it
//! gives one, is the HTTP answer. A failing script is answered 422 with its message and line,
//! and leaves a dead letter in the event log.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::ats::adapter_for;
use crate::error::error_response;
use crate::events::{EventBody, InboundEvent, Source};
use crate::inbound::body::{BodyFormat, read_limited, to_json_text};
use crate::inbound::{InboundError, InboundState};
use crate::inbox::{EventStatus, NewEvent, Stored};
use crate::script::prepared::PrepareError;
use crate::script::runs::{RunRecord, run_log};
use crate::script::{self, Answer, CatchError, ScriptError};
use crate::signature::{Unverified, VerifyError};
use crate::telemetry::InboundLabels;
use crate::tenant::Tenant;

/// Why a script tenant's delivery was refused.
enum Refusal {
    Inbound(InboundError),
    Script(ScriptError),
}

impl From<InboundError> for Refusal {
    fn from(error: InboundError) -> Self {
        Self::Inbound(error)
    }
}

pub(super) async fn receive(
    state: &InboundState,
    tenant: Arc<Tenant>,
    request: Request,
) -> Response {
    let outcome = accept(state, &tenant, request).await;
    let label = match &outcome {
        Ok((stored, _)) if stored.iter().all(|s| matches!(s, Stored::Duplicate(_))) => "duplicate",
        Ok(_) => "accepted",
        Err(Refusal::Inbound(error)) => error.status_and_code().1,
        Err(Refusal::Script(error)) => error.code(),
    };
    state
        .metrics
        .inbound_events
        .get_or_create(&InboundLabels {
            tenant: tenant.slug().to_owned(),
            source: "ats",
            outcome: label,
        })
        .inc();
    match outcome {
        Ok((stored, Some(answer))) => answer_response(answer, &stored),
        Ok((stored, None)) => default_response(&stored),
        Err(Refusal::Inbound(error)) => {
            if let InboundError::Verify(reason) = &error {
                tracing::warn!(code = reason.code(), "webhook authentication failed");
            }
            error.into_response()
        }
        Err(Refusal::Script(error)) => {
            tracing::warn!(code = error.code(), line = ?error.line(), "the script failed on a delivery");
            error_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                error.code(),
                &error.to_string(),
            )
        }
    }
}

async fn accept(
    state: &InboundState,
    tenant: &Arc<Tenant>,
    request: Request,
) -> Result<(Vec<Stored>, Option<Answer>), Refusal> {
    let adapter = adapter_for(tenant.config.ats.kind);
    let (parts, body) = request.into_parts();
    let format = BodyFormat::from_headers(&parts.headers, false)?;
    let bytes = read_limited(&parts.headers, body).await?;
    let now = chrono::Utc::now();
    let checked = tenant.config.ats.verifier.is_some();
    let verified = Unverified::new(parts.headers, bytes.clone())
        .verify(|d| adapter.verify(tenant, d, now))
        .map_err(InboundError::from)?;
    let body_json = to_json_text(&format, &bytes).await?;
    let raw = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains('\0') => {
            return Err(
                InboundError::Malformed("the body contains a NUL character".to_owned()).into(),
            );
        }
        Ok(text) => text.to_owned(),
        Err(_) => body_json.clone(),
    };
    let request =
        script::request::request_json(verified.headers(), parts.uri.query(), &bytes, &body_json);
    let prepared =
        state
            .scripts
            .get(state.inbox.db(), tenant)
            .await
            .map_err(|error| match error {
                PrepareError::Script(error) => Refusal::Script(error),
                PrepareError::Database(error) => {
                    tracing::error!(error = %error, "cannot read the script's settings");
                    InboundError::Unavailable.into()
                }
            })?;
    let delivery_id = crate::crypto::sha256_hex(&bytes);
    let language = tenant.config.ats.language.clone();
    let base_id = delivery_id.clone();
    let started = std::time::Instant::now();
    let owner = tenant.id.to_string();
    let ((result, logs), request) = script::lanes::on_lane(&owner, move || {
        let ran = script::run_catch(
            &prepared.program,
            &request,
            &prepared.settings,
            checked,
            &base_id,
            language.as_deref(),
        );
        (ran, request)
    })
    .await
    .map_err(Refusal::Script)?;
    run_log().record(
        tenant,
        RunRecord {
            at: crate::time::now_ms(),
            function: "catch",
            took: started.elapsed(),
            outcome: result
                .as_ref()
                .map(|c| c.events.len())
                .map_err(ToString::to_string),
            logs: logs.clone(),
        },
    );
    let caught = match result {
        Ok(caught) => caught,
        Err(CatchError::Unverified(reason)) => {
            tracing::warn!(reason, "the script refused a delivery");
            return Err(InboundError::Verify(VerifyError::InvalidSignature).into());
        }
        Err(CatchError::VerifyFailed(error)) => {
            store_failure(state, tenant, "verify", &error, &logs, &raw, None).await;
            return Err(Refusal::Script(error));
        }
        Err(CatchError::Script(error)) => {
            let kept = script::request::request_to_keep(&request, tenant);
            store_failure(state, tenant, "catch", &error, &logs, &raw, Some(kept)).await;
            return Err(Refusal::Script(error));
        }
    };
    let mut events: Vec<NewEvent> = caught
        .events
        .into_iter()
        .map(|event| NewEvent::received(tenant.id, event, raw.clone()))
        .collect();
    if events.is_empty() {
        // Nothing to do, but the delivery is logged (and its redelivery recognised).
        let nothing = InboundEvent {
            source: Source::Ats,
            delivery_id,
            partner_type: "script.nothing".to_owned(),
            occurred_at: None,
            body: EventBody::Ignored,
        };
        events.push(NewEvent::log_only(tenant.id, nothing, raw.clone()));
    }
    let stored = state.inbox.store_together(events).await.map_err(|error| {
        tracing::error!(error = %error, "cannot store a webhook's events");
        InboundError::Unavailable
    })?;
    Ok((stored, caught.answer))
}

/// A failed run as a dead letter: the error, its line, the logs and the delivery. A failed
/// `catch` also keeps the script's `request` (a verified delivery), which a replay runs
/// `catch` on again (`ats::script::replay`).
async fn store_failure(
    state: &InboundState,
    tenant: &Tenant,
    function: &str,
    error: &ScriptError,
    logs: &[String],
    raw: &str,
    request: Option<Value>,
) {
    let mut payload: Value = serde_json::from_str(&crate::ats::script::failure_payload(
        tenant, function, error, logs,
    ))
    .unwrap_or_default();
    payload["request"] = Value::String(raw.to_owned());
    if let Some(request) = request {
        payload["script_request"] = request;
    }
    let mut event = crate::ats::script::failure_event(function);
    event.source = Source::Ats;
    let record = NewEvent {
        status: EventStatus::Dead,
        ..NewEvent::log_only(tenant.id, event, payload.to_string())
    };
    if let Err(error) = state.inbox.store(record).await {
        tracing::error!(error = %error, "cannot record a script failure");
    }
}

fn ids(stored: &[Stored]) -> Vec<String> {
    stored.iter().map(|s| s.event_id().to_string()).collect()
}

/// Liaison's own answer: as for the built-in kinds, with every event's id.
fn default_response(stored: &[Stored]) -> Response {
    let duplicate = stored.iter().all(|s| matches!(s, Stored::Duplicate(_)));
    let ids = ids(stored);
    let (status, word) = if duplicate {
        (StatusCode::OK, "duplicate")
    } else {
        (StatusCode::ACCEPTED, "accepted")
    };
    (
        status,
        axum::Json(json!({"status": word, "event_id": ids.first(), "event_ids": ids})),
    )
        .into_response()
}

/// The script's own answer (HrFlow's return value). Headers that would change the framing are
/// not the script's to set.
fn answer_response(answer: Answer, stored: &[Stored]) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::ACCEPTED);
    let mut response = match answer.body {
        None => (status, axum::Json(json!({"event_ids": ids(stored)}))).into_response(),
        Some(Value::String(text)) => (status, text).into_response(),
        Some(json) => (status, axum::Json(json)).into_response(),
    };
    for (name, value) in answer.headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value),
        ) else {
            continue;
        };
        if matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection" | "set-cookie"
        ) {
            continue;
        }
        response.headers_mut().insert(name, value);
    }
    response
}
