//! A script's `pull`, run under the poller lease every `poll_interval_s`: what it returns is
//! stored as `Source::Poll` events and its settings persisted (its cursor), in one transaction.
//! A failing run changes nothing and leaves a dead letter with the script's message and line.

use sea_orm::TransactionTrait;
use serde_json::{Map, Value, json};

use crate::ats::poll::{read_cursor, write_cursor};
use crate::ats::{AdapterError, PollContext, PollReport};
use crate::events::{EventBody, InboundEvent, Source};
use crate::inbox::{EventStatus, NewEvent, Stored, insert_events};
use crate::script::runs::{RunRecord, blank_secrets, run_log};
use crate::script::{self, HttpBridge, ScriptError};
use crate::tenant::Tenant;

/// The `poll_cursors` source that holds a script tenant's persisted settings.
pub const STATE_SOURCE: &str = "script";

pub(super) async fn pull(
    client: &reqwest::Client,
    context: &PollContext<'_>,
) -> Result<PollReport, AdapterError> {
    let tenant = context.tenant;
    let program = script::program_of(tenant).map_err(|e| AdapterError::Config(e.to_string()))?;
    let base_url = tenant
        .config
        .ats
        .base_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .ok_or_else(|| AdapterError::Config("a script that pulls needs ats.base_url".to_owned()))?;
    let persisted = read_cursor(context.db, tenant.id, STATE_SOURCE)
        .await?
        .and_then(|text| serde_json::from_str::<Map<String, Value>>(&text).ok());
    let settings = script::settings_of(tenant, persisted.as_ref());
    let bridge = HttpBridge {
        client: client.clone(),
        runtime: tokio::runtime::Handle::current(),
        base_url,
    };
    let language = tenant.config.ats.language.clone();
    let started = std::time::Instant::now();
    let (result, logs) = script::off_thread(move || {
        script::run_pull(&program, &settings, bridge, language.as_deref())
    })
    .await
    .map_err(|e| AdapterError::Permanent(e.to_string()))?;
    run_log().record(
        tenant,
        RunRecord {
            at: crate::time::now_ms(),
            function: "pull",
            took: started.elapsed(),
            outcome: result
                .as_ref()
                .map(|p| p.events.len())
                .map_err(ToString::to_string),
            logs: logs.clone(),
        },
    );
    // Pulls run in workers: stored now, every process's console shows them.
    run_log().flush(context.db).await;
    let pulled = match result {
        Ok(pulled) => pulled,
        Err(error) => {
            dead_letter(context, "pull", &error, &logs).await?;
            return Err(AdapterError::Permanent(error.to_string()));
        }
    };
    let events: Vec<NewEvent> = pulled
        .events
        .into_iter()
        .map(|event| {
            let payload = json!({"pulled": &event.body}).to_string();
            if event.body == EventBody::Ignored {
                NewEvent::log_only(tenant.id, event, payload)
            } else {
                NewEvent::received(tenant.id, event, payload)
            }
        })
        .collect();
    let txn = context.db.begin().await?;
    let stored = insert_events(&txn, &events, context.max_attempts).await?;
    let cursor = pulled.settings.map(|s| Value::Object(s).to_string());
    if let Some(cursor) = &cursor {
        write_cursor(&txn, tenant.id, STATE_SOURCE, cursor).await?;
    }
    txn.commit().await?;
    let new = stored
        .iter()
        .filter(|s| matches!(s, Stored::New(_)))
        .count() as u64;
    Ok(PollReport {
        seen: events.len() as u64,
        new,
        stored: new,
        duplicates: events.len() as u64 - new,
        cursor,
        ..PollReport::default()
    })
}

/// Records a failed run in the event log as a dead letter: what failed, where, and what the
/// script logged before (shown masked, like payloads).
pub async fn dead_letter(
    context: &PollContext<'_>,
    entry: &str,
    error: &ScriptError,
    logs: &[String],
) -> Result<(), AdapterError> {
    let event = NewEvent {
        status: EventStatus::Dead,
        ..NewEvent::log_only(
            context.tenant.id,
            failure_event(entry),
            failure_payload(context.tenant, entry, error, logs),
        )
    };
    insert_events(context.db, &[event], context.max_attempts).await?;
    Ok(())
}

/// The log entry of a failed run (a fresh id each time: every failure is recorded).
pub fn failure_event(entry: &str) -> InboundEvent {
    InboundEvent {
        source: Source::Poll,
        delivery_id: format!("script-error:{}", uuid::Uuid::new_v4().simple()),
        partner_type: format!("script.{entry}.failed"),
        occurred_at: Some(crate::time::now_ms()),
        body: EventBody::Ignored,
    }
}

pub fn failure_payload(
    tenant: &Tenant,
    entry: &str,
    error: &ScriptError,
    logs: &[String],
) -> String {
    let hash = tenant
        .config
        .ats
        .script_source
        .as_deref()
        .map(script::source_hash);
    json!({
        "function": entry,
        "code": error.code(),
        "error": error.to_string(),
        "line": error.line(),
        "script_sha256": hash,
        "logs": logs.iter().map(|l| blank_secrets(tenant, l)).collect::<Vec<_>>(),
    })
    .to_string()
}
