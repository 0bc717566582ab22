//! The last runs of each script tenant's functions, with what they logged, for the admin
//! console. Kept in memory, per process (a record per webhook in the database would cost the
//! webhook path a write); failures are also dead letters in the shared event log. The tenant's
//! secrets are blanked from the logs as they are recorded; the console masks the rest (emails,
//! credentials) like payloads.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::ids::TenantId;
use crate::tenant::Tenant;

/// Runs kept per tenant.
const KEPT: usize = 20;

/// One run of a script function.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// When it ended (ms since the epoch).
    pub at: i64,
    pub function: &'static str,
    pub took: Duration,
    /// `Ok(events)`, or the error as the operator reads it.
    pub outcome: Result<usize, String>,
    pub logs: Vec<String>,
}

#[derive(Default)]
pub struct RunLog {
    runs: Mutex<HashMap<TenantId, VecDeque<RunRecord>>>,
}

/// The process's run log.
pub fn run_log() -> &'static RunLog {
    static LOG: OnceLock<RunLog> = OnceLock::new();
    LOG.get_or_init(RunLog::default)
}

impl RunLog {
    pub fn record(&self, tenant: &Tenant, mut run: RunRecord) {
        run.logs = run.logs.iter().map(|l| blank_secrets(tenant, l)).collect();
        if let Err(error) = &mut run.outcome {
            *error = blank_secrets(tenant, error);
        }
        let Ok(mut runs) = self.runs.lock() else {
            return;
        };
        let kept = runs.entry(tenant.id).or_default();
        if kept.len() == KEPT {
            kept.pop_back();
        }
        kept.push_front(run);
    }

    /// The tenant's last runs, newest first.
    pub fn recent(&self, tenant: TenantId) -> Vec<RunRecord> {
        self.runs
            .lock()
            .map(|runs| runs.get(&tenant).map(|r| r.iter().cloned().collect()))
            .ok()
            .flatten()
            .unwrap_or_default()
    }
}

/// `text` with the tenant's ATS secrets (which the script may print) replaced by `***`.
pub fn blank_secrets(tenant: &Tenant, text: &str) -> String {
    let ats = &tenant.config.ats;
    let mut text = text.to_owned();
    for secret in [&ats.token, &ats.webhook_secret].into_iter().flatten() {
        let secret = secret.expose_secret();
        if secret.len() >= 4 {
            text = text.replace(secret, "***");
        }
    }
    text
}
