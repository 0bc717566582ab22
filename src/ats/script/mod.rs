//! `script`: an ATS no adapter was written for, connected by the tenant's own JavaScript
//! (`crate::script`). Webhooks go through the script's `catch` (`reception`, the kind's
//! `OwnReception`), which may answer several events and its own HTTP answer; this adapter also
//! holds the built-in verifier of `ats.verifier`, the console's "try it" preview, `pull` under
//! the poller lease (`poll`), `writeBack`, and the replay of a failed `catch` (`replay`).

mod poll;
mod reception;
pub mod replay;

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::capabilities::{
    Delivery, OwnReception, PreviewError, PreviewFuture, PreviewGuide, ReceptionFuture,
    SamplePreview,
};
use super::error::{AdapterError, ParseError};
use super::{
    AdapterFuture, ApplicationRef, AtsAdapter, PollContext, PollReport, WriteBack, unsupported,
};
use crate::events::{AtsApplication, AtsJob, InboundEvent};
use crate::script::runs::{RunRecord, run_log};
use crate::script::{self, CatchError, HttpBridge, ScriptError};
use crate::signature::hmac_sha256::{self, SIGNATURE_HEADER, SignedHeaders, TIMESTAMP_HEADER};
use crate::signature::standard_webhooks::{self, WebhookSecret};
use crate::signature::{Unverified, Verified, VerifyError, shared_token};
use crate::tenant::{AtsKind, ScriptVerifier, Tenant};

pub use poll::{STATE_SOURCE, failure_event, failure_payload};

/// Whether the tenant's ATS is a script.
pub fn is_script(config: &crate::tenant::TenantConfig) -> bool {
    config.ats.kind == AtsKind::Script
}

pub struct ScriptAdapter {
    http: reqwest::Client,
    /// Whether each script version (by SHA-256) exports `writeBack`: loaded once, not per result.
    writes_back: Mutex<HashMap<String, bool>>,
}

impl ScriptAdapter {
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            writes_back: Mutex::default(),
        }
    }
}

impl AtsAdapter for ScriptAdapter {
    fn kind(&self) -> AtsKind {
        AtsKind::Script
    }

    fn delivery(&self) -> Delivery {
        Delivery::ConfiguredAtTheAts
    }

    /// Deliveries are read by the script's `catch` (`reception`), not by `parse`.
    fn own_reception(&self) -> Option<&dyn OwnReception> {
        Some(self)
    }

    /// The built-in check of `ats.verifier`; without one, every delivery passes here and the
    /// script's own `verify` decides (a script without one refuses all: `script::run_catch`).
    fn verify(
        &self,
        tenant: &Tenant,
        delivery: &Unverified,
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let ats = &tenant.config.ats;
        let Some(verifier) = ats.verifier else {
            return Ok(());
        };
        let secret = ats
            .webhook_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned())
            .unwrap_or_default();
        match verifier {
            ScriptVerifier::Token => shared_token::verify(
                secret.as_bytes(),
                delivery.header(shared_token::TOKEN_HEADER),
            ),
            ScriptVerifier::HmacSha256 => hmac_sha256::verify_delivery(
                secret.as_bytes(),
                SignedHeaders {
                    signature: delivery.header(SIGNATURE_HEADER),
                    timestamp: delivery.header(TIMESTAMP_HEADER),
                    delivery: None,
                },
                delivery.body(),
                now,
            )
            .map(|_| ()),
            ScriptVerifier::StandardWebhooks => {
                let secret = WebhookSecret::parse(&secret)?;
                let header = |name| delivery.header(name).ok_or(VerifyError::MissingSignature);
                standard_webhooks::verify(
                    &secret,
                    header("webhook-id")?,
                    header("webhook-timestamp")?,
                    header("webhook-signature")?,
                    delivery.body(),
                    now.timestamp(),
                )
                .map_err(VerifyError::from)
            }
        }
    }

    /// Deliveries of script tenants are read by their `catch` (`reception`), not here.
    fn parse(&self, _: &Tenant, _: &Verified, _: &Value) -> Result<InboundEvent, ParseError> {
        Err(ParseError::new(
            "a script tenant's deliveries are read by its catch",
        ))
    }

    fn preview_guide(&self) -> PreviewGuide {
        PreviewGuide {
            heading: "Try the script",
            help: "Paste a request ({\"headers\": {...}, \"query\": {...}, \"body\": {...}}) or \
                   just a body. The script's catch runs on it in the sandbox (its verify is \
                   skipped); its events and logs are shown; nothing is stored or sent.",
        }
    }

    /// The console's "try it": `catch` on a pasted request (or body), nothing stored. The
    /// script's `verify` is skipped (a pasted sample carries no signature).
    fn preview<'a>(&'a self, tenant: &'a Tenant, sample: &'a str) -> PreviewFuture<'a> {
        Box::pin(async move {
            let sample: Value =
                serde_json::from_str(sample).map_err(|e| PreviewError::NotJson(e.to_string()))?;
            let (events, logs) = try_catch(tenant, &sample)
                .await
                .map_err(PreviewError::Refused)?;
            Ok(SamplePreview {
                events,
                problems: logs.into_iter().map(|l| format!("console: {l}")).collect(),
            })
        })
    }

    fn fetch_job<'a>(&'a self, _: &'a Tenant, _: &'a str) -> AdapterFuture<'a, AtsJob> {
        unsupported(AtsKind::Script, "fetch a job")
    }

    fn fetch_application<'a>(
        &'a self,
        _: &'a Tenant,
        _: &'a ApplicationRef,
    ) -> AdapterFuture<'a, AtsApplication> {
        unsupported(AtsKind::Script, "fetch an application")
    }

    fn writes_back_for(&self, tenant: &Tenant) -> bool {
        let Ok(program) = script::program_of(tenant) else {
            return false;
        };
        let hash = script::source_hash(&program.source);
        if let Some(known) = self
            .writes_back
            .lock()
            .ok()
            .and_then(|m| m.get(&hash).copied())
        {
            return known;
        }
        let exports = script::load::check(&program).unwrap_or_default();
        let writes = exports.contains(&script::Entry::WriteBack);
        if let Ok(mut known) = self.writes_back.lock() {
            known.insert(hash, writes);
        }
        writes
    }

    /// `writeBack(result, settings, http)`, `result` being `{ats_job_id, ats_application_id,
    /// tag}` or `{..., comment}`. A timeout may have left calls made: it is `Unanswered`.
    fn write_back<'a>(
        &'a self,
        tenant: &'a Tenant,
        application: &'a ApplicationRef,
        result: &'a WriteBack,
    ) -> AdapterFuture<'a, ()> {
        Box::pin(write_back(&self.http, tenant, application, result))
    }

    fn poll<'a>(&'a self, context: &'a PollContext<'a>) -> AdapterFuture<'a, PollReport> {
        Box::pin(poll::pull(&self.http, context))
    }
}

impl OwnReception for ScriptAdapter {
    fn receive<'a>(
        &'a self,
        inbound: &'a crate::inbound::InboundState,
        tenant: std::sync::Arc<Tenant>,
        request: axum::extract::Request,
    ) -> ReceptionFuture<'a> {
        Box::pin(reception::receive(inbound, tenant, request))
    }
}

async fn write_back(
    client: &reqwest::Client,
    tenant: &Tenant,
    application: &ApplicationRef,
    result: &WriteBack,
) -> Result<(), AdapterError> {
    let program = script::program_of(tenant).map_err(|e| AdapterError::Config(e.to_string()))?;
    let base_url = tenant
        .config
        .ats
        .base_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .ok_or_else(|| AdapterError::Config("writeBack needs ats.base_url".to_owned()))?;
    let mut value = json!({
        "ats_job_id": application.ats_job_id,
        "ats_application_id": application.ats_application_id,
    });
    match result {
        WriteBack::Tag(tag) => value["tag"] = json!(tag),
        WriteBack::Comment { text, .. } => value["comment"] = json!(text),
    }
    let settings = script::settings_of(tenant, None);
    let bridge = HttpBridge {
        client: client.clone(),
        runtime: tokio::runtime::Handle::current(),
        base_url,
    };
    let started = std::time::Instant::now();
    let (outcome, logs) =
        script::off_thread(move || script::run_write_back(&program, &value, &settings, bridge))
            .await
            .map_err(|e| AdapterError::Permanent(e.to_string()))?;
    run_log().record(
        tenant,
        RunRecord {
            at: crate::time::now_ms(),
            function: "writeBack",
            took: started.elapsed(),
            outcome: outcome.as_ref().map(|()| 0).map_err(ToString::to_string),
            logs,
        },
    );
    outcome.map_err(|error| match error {
        ScriptError::Timeout { .. } => AdapterError::Unanswered(error.to_string()),
        _ => AdapterError::Permanent(error.to_string()),
    })
}

/// Runs `catch` on a sample request as a delivery would (verification skipped): its events
/// and what it logged, or the error as a person reads it.
pub async fn try_catch(
    tenant: &Tenant,
    sample: &Value,
) -> Result<(Vec<InboundEvent>, script::Logs), String> {
    let program = script::program_of(tenant).map_err(|e| e.to_string())?;
    let request = script::request::sample_request(sample);
    let delivery_id =
        crate::crypto::sha256_hex(request["raw_body"].as_str().unwrap_or_default().as_bytes());
    let request = request.to_string();
    let settings = script::settings_of(tenant, None).to_string();
    let language = tenant.config.ats.language.clone();
    let (result, logs) = script::off_thread(move || {
        script::run_catch_unverified(
            &program,
            &request,
            &settings,
            &delivery_id,
            language.as_deref(),
        )
    })
    .await
    .map_err(|e| e.to_string())?;
    match result {
        Ok(caught) => Ok((caught.events, logs)),
        Err(CatchError::Unverified(reason)) => Err(reason.to_owned()),
        Err(CatchError::Script(error) | CatchError::VerifyFailed(error)) => Err(error.to_string()),
    }
}
