//! Replaying a failed `catch` (a `script.catch.failed` dead letter): `catch` runs again on the
//! request the dead letter kept, with the tenant's current script and settings (fix the script,
//! `tenant apply`, replay). Its events are stored and the dead letter marked processed in one
//! transaction. `verify` is not run again: the delivery passed it when it came (a `verify`
//! that failed leaves a `script.verify.failed` dead letter, which keeps no request), and a
//! signature may have expired since.

use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use serde_json::{Map, Value};

use super::STATE_SOURCE;
use crate::ats::poll::read_cursor;
use crate::ids::{EventId, TenantId};
use crate::inbox::{self, EventStatus, NewEvent, Stored, insert_events};
use crate::script::runs::{RunRecord, run_log};
use crate::script::{self, CatchError};
use crate::store::entities::inbox_event;
use crate::tenant::Directory;

/// The event type of a failed `catch`'s dead letter.
pub const FAILED_CATCH: &str = "script.catch.failed";

/// What a replay of a failed `catch` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recaught {
    /// `catch` answered `events` events, `new` of them not seen before.
    Stored { events: usize, new: usize },
    /// `catch` failed again, or could not run: why (also in the console's last runs).
    Failed(String),
}

/// Whether replaying `row` means running `catch` again.
pub fn is_failed_catch(row: &inbox_event::Model) -> bool {
    row.event_type == FAILED_CATCH && row.status == EventStatus::Dead.as_str()
}

/// Runs `catch` again on what the dead letter `row` kept.
pub async fn recatch(
    db: &DatabaseConnection,
    tenants: &Directory,
    max_attempts: u32,
    row: &inbox_event::Model,
) -> Result<Recaught, DbErr> {
    let failed = |reason: String| Ok(Recaught::Failed(reason));
    let kept: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let Some(request) = kept.get("script_request").filter(|r| r.is_object()) else {
        return failed("this dead letter kept no request: ask the ATS to send it again".into());
    };
    let tenant = match tenants.by_id(TenantId(row.tenant_id)).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => return failed("the tenant is gone".to_owned()),
        Err(error) => return failed(format!("cannot open the tenant: {error:#}")),
    };
    let program = match script::program_of(&tenant) {
        Ok(program) => program,
        Err(error) => return failed(error.to_string()),
    };
    let persisted = read_cursor(db, tenant.id, STATE_SOURCE)
        .await?
        .and_then(|text| serde_json::from_str::<Map<String, Value>>(&text).ok());
    let settings = script::settings_of(&tenant, persisted.as_ref()).to_string();
    let raw = request["raw_body"].as_str().unwrap_or_default().to_owned();
    // The ids the delivery's events would have had: a later redelivery is a duplicate.
    let delivery_id = crate::crypto::sha256_hex(raw.as_bytes());
    let request = request.to_string();
    let language = tenant.config.ats.language.clone();
    let started = std::time::Instant::now();
    let ran = script::lanes::on_lane(&tenant.id.to_string(), move || {
        script::run_catch_unverified(
            &program,
            &request,
            &settings,
            &delivery_id,
            language.as_deref(),
        )
    })
    .await;
    let (result, logs) = match ran {
        Ok(ran) => ran,
        Err(error) => return failed(error.to_string()),
    };
    run_log().record(
        &tenant,
        RunRecord {
            at: crate::time::now_ms(),
            function: "catch",
            took: started.elapsed(),
            outcome: result
                .as_ref()
                .map(|c| c.events.len())
                .map_err(ToString::to_string),
            logs,
        },
    );
    let caught = match result {
        Ok(caught) => caught,
        Err(CatchError::Unverified(reason)) => return failed(reason.to_owned()),
        Err(CatchError::Script(error) | CatchError::VerifyFailed(error)) => {
            return failed(error.to_string());
        }
    };
    let body = kept["request"].as_str().unwrap_or(&raw).to_owned();
    let events: Vec<NewEvent> = caught
        .events
        .into_iter()
        .map(|event| NewEvent::received(tenant.id, event, body.clone()))
        .collect();
    let stored = {
        let _turn = crate::store::write_turn(db).await;
        let txn = db.begin().await?;
        let stored = insert_events(&txn, &events, max_attempts).await?;
        inbox::set_event_status(&txn, EventId(row.id), EventStatus::Processed).await?;
        txn.commit().await?;
        stored
    };
    Ok(Recaught::Stored {
        events: stored.len(),
        new: stored
            .iter()
            .filter(|s| matches!(s, Stored::New(_)))
            .count(),
    })
}
