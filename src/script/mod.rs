//! Script adapters (`[ats] kind = "script"`): a tenant's JavaScript, HrFlow-workflow style, run
//! in a sandbox. The module may export `verify(request, settings)`, `catch(request, settings)`
//! (a webhook), `pull(settings, http)` (a timer, under the poller lease) and
//! `writeBack(result, settings, http)`. See `docs/script-adapters.md`.
//!
//! - `sandbox`: a QuickJS runtime per run (or the tenant's warm one), with memory and time
//!   limits; `console.log` kept.
//! - `lanes`: each tenant's own thread for its webhook scripts.
//! - `prepared`: a script tenant's program and settings, prepared once per tenant version.
//! - `http`: the `http` object, which reaches only the tenant's ATS origin.
//! - `events`: what scripts return, validated against Liaison's event schema.
//! - `request`: a delivery as the script sees it.
//! - this file: the functions' contracts (`catch`, `pull`), on a blocking thread.

pub mod error;
pub mod events;
pub mod http;
pub mod lanes;
pub mod load;
pub mod prepared;
pub mod request;
pub mod runs;
pub mod sandbox;

use std::collections::BTreeMap;

use secrecy::ExposeSecret;
use serde_json::{Map, Value};

pub use error::ScriptError;
pub use http::HttpBridge;
pub use sandbox::{CATCH_LIMITS, Entry, Limits, Logs, PULL_LIMITS, Program};

use crate::events::{InboundEvent, Source};
use crate::tenant::Tenant;

/// The HTTP answer a `catch` asks for (HrFlow's return value), else Liaison's own.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    #[serde(default = "accepted")]
    pub status: u16,
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn accepted() -> u16 {
    202
}

/// What a `catch` made of a delivery.
#[derive(Clone, Debug, PartialEq)]
pub struct Caught {
    pub events: Vec<InboundEvent>,
    pub answer: Option<Answer>,
}

/// Why a delivery was not caught.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CatchError {
    /// The script's `verify` said no, or nothing verified the delivery at all.
    #[error("{0}")]
    Unverified(&'static str),
    /// The script's `verify` failed (threw, timed out...): the delivery was not verified.
    #[error("{0}")]
    VerifyFailed(ScriptError),
    /// `catch` failed, after the delivery was verified.
    #[error(transparent)]
    Script(#[from] ScriptError),
}

/// What a `pull` found, and the settings to persist for the next run (its cursor).
#[derive(Clone, Debug, PartialEq)]
pub struct Pulled {
    pub events: Vec<InboundEvent>,
    pub settings: Option<Map<String, Value>>,
}

/// The tenant's script.
pub fn program_of(tenant: &Tenant) -> Result<Program, ScriptError> {
    let ats = &tenant.config.ats;
    let source = ats.script_source.clone().ok_or(ScriptError::Missing(
        "source (run `liaison tenant apply` again)",
    ))?;
    Ok(Program::new(
        ats.script.clone().unwrap_or_else(|| "script.js".to_owned()),
        source,
        // Kept warm per tenant: module state never meets another tenant's requests.
        Some(tenant.id.to_string()),
    ))
}

/// The SHA-256 of a script's source: which version ran, shown in the console.
pub fn source_hash(source: &str) -> String {
    crate::crypto::sha256_hex(source.as_bytes())
}

/// What the script gets as `settings`: `[ats.settings]`, then what earlier runs persisted, then
/// `base_url` and `token` from the tenant file.
pub fn settings_of(tenant: &Tenant, persisted: Option<&Map<String, Value>>) -> Value {
    let ats = &tenant.config.ats;
    let mut settings = ats.settings.clone();
    if let Some(persisted) = persisted {
        settings.extend(persisted.clone());
    }
    if let Some(base_url) = &ats.base_url {
        settings.insert("base_url".to_owned(), Value::String(base_url.clone()));
    }
    if let Some(token) = &ats.token {
        settings.insert(
            "token".to_owned(),
            Value::String(token.expose_secret().to_owned()),
        );
    }
    Value::Object(settings)
}

/// Runs `verify` (when exported) then `catch` on one delivery. `request` and `settings` are
/// JSON texts, each parsed once into the runtime and handed to both functions. `checked` says
/// whether a built-in verifier accepted it: without one, the script's `verify` must. Blocking.
pub fn run_catch(
    program: &Program,
    request: &str,
    settings: &str,
    checked: bool,
    delivery_id: &str,
    language: Option<&str>,
) -> (Result<Caught, CatchError>, Logs) {
    catch_with(
        program,
        request,
        settings,
        Some(checked),
        delivery_id,
        language,
    )
}

/// `catch` alone, `verify` skipped: the console's "try it", `liaison script test` and the
/// replay of a delivery that was verified when it came.
pub fn run_catch_unverified(
    program: &Program,
    request: &str,
    settings: &str,
    delivery_id: &str,
    language: Option<&str>,
) -> (Result<Caught, CatchError>, Logs) {
    catch_with(program, request, settings, None, delivery_id, language)
}

fn catch_with(
    program: &Program,
    request: &str,
    settings: &str,
    checked: Option<bool>,
    delivery_id: &str,
    language: Option<&str>,
) -> (Result<Caught, CatchError>, Logs) {
    // Which function a failure comes from: a delivery whose `verify` failed was not verified.
    let verified = std::cell::Cell::new(checked.is_none());
    let (result, logs) = sandbox::run(program, CATCH_LIMITS, None, |session| {
        let request = session.parse(request)?;
        let settings = session.parse(settings)?;
        if let Some(checked) = checked {
            let verdict =
                session.call_values(Entry::Verify, vec![request.clone(), settings.clone()])?;
            match verdict.as_deref() {
                Some("true") => {}
                Some(_) => {
                    return Ok(Err(CatchError::Unverified(
                        "the script's verify refused the delivery",
                    )));
                }
                None if !checked => {
                    return Ok(Err(CatchError::Unverified(
                        "no verifier: set ats.verifier or export verify",
                    )));
                }
                None => {}
            }
        }
        verified.set(true);
        let Some(returned) = session.call_values(Entry::Catch, vec![request, settings])? else {
            return Err(ScriptError::Missing("catch"));
        };
        Ok(read_caught(&returned, delivery_id, language).map_err(CatchError::from))
    });
    let result = result.map_err(|error| {
        if verified.get() {
            CatchError::Script(error)
        } else {
            CatchError::VerifyFailed(error)
        }
    });
    (result.and_then(|r| r), logs)
}

/// `catch` may return its events, or `{events, response: {status, body, headers}}` (the JSON
/// text the sandbox printed).
fn read_caught(
    returned: &str,
    delivery_id: &str,
    language: Option<&str>,
) -> Result<Caught, ScriptError> {
    let bad = |reason: String| ScriptError::BadReturn {
        entry: "catch",
        reason,
    };
    let returned: Value = serde_json::from_str(returned).map_err(|e| bad(e.to_string()))?;
    let (events, answer) = match returned {
        events @ Value::Array(_) => (events, None),
        Value::Object(mut fields) => {
            if let Some(key) = fields
                .keys()
                .find(|k| !matches!(k.as_str(), "events" | "response"))
            {
                return Err(bad(format!("unknown field `{key}` (events, response)")));
            }
            let answer = match fields.remove("response") {
                None | Some(Value::Null) => None,
                Some(response) => Some(
                    serde_json::from_value::<Answer>(response)
                        .map_err(|e| bad(format!("response: {e}")))?,
                ),
            };
            if let Some(answer) = &answer
                && !(200..=599).contains(&answer.status)
            {
                return Err(bad(
                    "response: `status` must be between 200 and 599".to_owned()
                ));
            }
            (
                fields.remove("events").unwrap_or(Value::Array(Vec::new())),
                answer,
            )
        }
        Value::Null => (Value::Array(Vec::new()), None),
        _ => {
            return Err(bad(
                "must be an array of events or {events, response}".to_owned()
            ));
        }
    };
    let events =
        events::read_events(&events, Source::Ats, Some(delivery_id), language).map_err(bad)?;
    Ok(Caught { events, answer })
}

/// Runs `pull(settings, http)`. It returns `{events, settings}`: `settings`, when present,
/// replace what is persisted for the next run. Blocking.
pub fn run_pull(
    program: &Program,
    settings: &Value,
    bridge: HttpBridge,
    language: Option<&str>,
) -> (Result<Pulled, ScriptError>, Logs) {
    sandbox::run(program, PULL_LIMITS, Some(bridge), |session| {
        let Some(returned) = session.call(Entry::Pull, std::slice::from_ref(settings))? else {
            return Err(ScriptError::Missing("pull"));
        };
        read_pulled(&returned, language)
    })
}

fn read_pulled(returned: &Value, language: Option<&str>) -> Result<Pulled, ScriptError> {
    let bad = |reason: String| ScriptError::BadReturn {
        entry: "pull",
        reason,
    };
    let Value::Object(fields) = returned else {
        return Err(bad("must be {events, settings}".to_owned()));
    };
    if let Some(key) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "events" | "settings"))
    {
        return Err(bad(format!("unknown field `{key}` (events, settings)")));
    }
    let settings = match fields.get("settings") {
        None | Some(Value::Null) => None,
        Some(Value::Object(settings)) => Some(settings.clone()),
        Some(_) => return Err(bad("`settings` must be an object".to_owned())),
    };
    let found = fields
        .get("events")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    let events = events::read_events(&found, Source::Poll, None, language).map_err(bad)?;
    Ok(Pulled { events, settings })
}

/// Runs `writeBack(result, settings, http)`: the script makes the ATS calls for one result
/// through `http`; what it returns is ignored. Blocking.
pub fn run_write_back(
    program: &Program,
    result: &Value,
    settings: &Value,
    bridge: HttpBridge,
) -> (Result<(), ScriptError>, Logs) {
    sandbox::run(program, PULL_LIMITS, Some(bridge), |session| {
        session
            .call(Entry::WriteBack, &[result.clone(), settings.clone()])?
            .map(drop)
            .ok_or(ScriptError::Missing("writeBack"))
    })
}

/// Runs a blocking script function on Tokio's blocking pool, so that a slow script holds no
/// async worker and other tenants' requests go on (the webhook path uses the tenant's lane,
/// `lanes::on_lane`, instead).
pub async fn off_thread<R: Send + 'static>(
    run: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ScriptError> {
    tokio::task::spawn_blocking(run)
        .await
        .map_err(|error| ScriptError::Engine(error.to_string()))
}
