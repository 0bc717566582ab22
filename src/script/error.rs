//! Every way a script run can fail, worded for the operator who wrote the script.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// The script threw (or did not compile): its message and, when known, its line.
    #[error("the script threw: {message}{}", line_suffix(*line))]
    Thrown { message: String, line: Option<u32> },
    #[error("the script ran longer than its limit of {} ms", limit.as_millis())]
    Timeout { limit: Duration },
    #[error("the script used more than its memory limit of {} MiB", limit_bytes / (1024 * 1024))]
    OutOfMemory { limit_bytes: usize },
    /// What a function returned is not what Liaison expects (an invalid event names its field).
    #[error("`{entry}` returned an invalid value: {reason}")]
    BadReturn { entry: &'static str, reason: String },
    /// The script does not export a function the tenant needs.
    #[error("the script exports no `{0}` function")]
    Missing(&'static str),
    /// The engine itself failed (not the script's doing).
    #[error("the script engine failed: {0}")]
    Engine(String),
}

fn line_suffix(line: Option<u32>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

impl ScriptError {
    /// A machine-readable code for answers and dead letters.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Thrown { .. } => "script_error",
            Self::Timeout { .. } => "script_timeout",
            Self::OutOfMemory { .. } => "script_out_of_memory",
            Self::BadReturn { .. } => "invalid_event",
            Self::Missing(_) => "script_incomplete",
            Self::Engine(_) => "script_engine",
        }
    }

    pub fn line(&self) -> Option<u32> {
        match self {
            Self::Thrown { line, .. } => *line,
            _ => None,
        }
    }
}
