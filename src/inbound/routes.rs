//! `POST /webhooks/{tenant}/ats` and `POST /webhooks/{tenant}/suite`: thin handlers over
//! `receive`, which resolves the tenant, reads and verifies the raw body, normalises it and
//! answers once the event is committed.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use tracing::Instrument as _;

use super::body::{BodyFormat, read_limited, to_json};
use super::error::InboundError;
use super::{InboundState, suite_events};
use crate::ats::{AtsAdapter, adapter_for};
use crate::inbox::{NewEvent, Stored};
use crate::signature::Unverified;
use crate::telemetry::InboundLabels;
use crate::tenant::Tenant;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<InboundState>: FromRef<S>,
{
    Router::new()
        .route("/webhooks/{tenant}/ats", post(receive_ats_webhook))
        .route("/webhooks/{tenant}/suite", post(receive_suite_webhook))
}

/// Who is sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sender {
    Ats,
    Suite,
}

impl Sender {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ats => "ats",
            Self::Suite => "suite",
        }
    }
}

async fn receive_ats_webhook(
    State(state): State<Arc<InboundState>>,
    Path(slug): Path<String>,
    request: Request,
) -> Response {
    receive(&state, &slug, Sender::Ats, request).await
}

async fn receive_suite_webhook(
    State(state): State<Arc<InboundState>>,
    Path(slug): Path<String>,
    request: Request,
) -> Response {
    receive(&state, &slug, Sender::Suite, request).await
}

async fn receive(state: &InboundState, slug: &str, sender: Sender, request: Request) -> Response {
    // The request's span (`http::middleware::make_span`) names the tenant and the source: one span
    // per request, not a second one per webhook.
    let span = tracing::Span::current();
    span.record("tenant", slug);
    span.record("source", sender.as_str());
    let outcome = match find_tenant(state, slug).await {
        // A kind that reads its deliveries itself (several events, its own answer).
        Ok(tenant) if sender == Sender::Ats => {
            let adapter = adapter_for(tenant.config.ats.kind);
            if let Some(reception) = adapter.own_reception() {
                return reception.receive(state, tenant, request).await;
            }
            accept(state, tenant, sender, request).await
        }
        Ok(tenant) => accept(state, tenant, sender, request).await,
        Err(error) => Err(error),
    };
    let label = match &outcome {
        Ok(Stored::New(_)) => "accepted",
        Ok(Stored::Duplicate(_)) => "duplicate",
        Err(error) => error.status_and_code().1,
    };
    state
        .metrics
        .inbound_events
        .get_or_create(&InboundLabels {
            // An unknown slug is not a label value: it would let anyone grow the label set.
            tenant: if matches!(outcome, Err(InboundError::UnknownTenant(_))) {
                "unknown".to_owned()
            } else {
                slug.to_owned()
            },
            source: sender.as_str(),
            outcome: label,
        })
        .inc();
    match outcome {
        Ok(Stored::New(id)) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({"status": "accepted", "event_id": id.to_string()})),
        )
            .into_response(),
        Ok(Stored::Duplicate(id)) => (
            StatusCode::OK,
            axum::Json(json!({"status": "duplicate", "event_id": id.to_string()})),
        )
            .into_response(),
        Err(error) => {
            if let InboundError::Verify(reason) = &error {
                // Never the secret nor the received header values: only what failed.
                tracing::warn!(code = reason.code(), "webhook authentication failed");
            }
            error.into_response()
        }
    }
}

async fn accept(
    state: &InboundState,
    tenant: Arc<Tenant>,
    sender: Sender,
    request: Request,
) -> Result<Stored, InboundError> {
    let adapter = adapter_for(tenant.config.ats.kind);
    let (parts, body) = request.into_parts();
    let json_by_default = sender == Sender::Ats && adapter.json_without_content_type();
    let format = BodyFormat::from_headers(&parts.headers, json_by_default)?;
    let bytes = read_limited(&parts.headers, body).await?;
    let now = chrono::Utc::now();
    let unverified = Unverified::new(parts.headers, bytes.clone());
    let verified = match sender {
        Sender::Ats => unverified.verify(|d| adapter.verify(&tenant, d, now))?,
        Sender::Suite => unverified.verify(|d| suite_events::verify(&tenant, d, now))?,
    };
    let payload = to_json(&format, &bytes).await?;
    let event = match sender {
        Sender::Ats => parse_ats(adapter.as_ref(), &tenant, &verified, &payload)?,
        Sender::Suite => suite_events::parse(&verified, &payload)?,
    };
    if let Some(field) = event.id_with_control_character() {
        return Err(InboundError::Malformed(format!(
            "`{field}` contains a control character"
        )));
    }
    // The log keeps what was sent: the raw body when it is text, else its JSON form. A NUL
    // cannot be stored as text (PostgreSQL), so such a body is refused on every back end.
    let raw = match String::from_utf8(bytes.to_vec()) {
        Ok(text) if text.contains('\0') => {
            return Err(InboundError::Malformed(
                "the body contains a NUL character".to_owned(),
            ));
        }
        Ok(text) => text,
        Err(_) => payload.to_string(),
    };
    state
        .inbox
        .store(NewEvent::received(tenant.id, event, raw))
        .instrument(tracing::info_span!("inbox_store"))
        .await
        .map_err(|error| {
            tracing::error!(error = %error, "cannot store a webhook event");
            InboundError::Unavailable
        })
}

fn parse_ats(
    adapter: &dyn AtsAdapter,
    tenant: &Tenant,
    verified: &crate::signature::Verified,
    payload: &serde_json::Value,
) -> Result<crate::events::InboundEvent, InboundError> {
    Ok(adapter.parse(tenant, verified, payload)?)
}

async fn find_tenant(state: &InboundState, slug: &str) -> Result<Arc<Tenant>, InboundError> {
    let Some(tenants) = state.tenants.as_ref() else {
        tracing::error!("no master key: tenants cannot be opened");
        return Err(InboundError::Unavailable);
    };
    tenants
        .by_slug(slug)
        .await
        .map_err(|error| {
            tracing::error!(error = format!("{error:#}"), "cannot read the tenant");
            InboundError::Unavailable
        })?
        .ok_or_else(|| InboundError::UnknownTenant(slug.to_owned()))
}
