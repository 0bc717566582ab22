//! What one attempt of a job came to: stored as its `as_str` in `job_attempts.outcome`, and the
//! `outcome` label of the worker's job metrics.

use std::fmt;

/// The outcome of one attempt, in the execution log's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttemptOutcome {
    /// The flow succeeded and the job was marked done.
    Succeeded,
    /// The flow failed; the job runs again after a backoff.
    Retrying,
    /// The flow failed for good (or its attempts ran out): a dead letter.
    Dead,
    /// Another worker had taken the job over (its lease expired) before this one finished.
    LeaseLost,
    /// The attempt's end could not be written to the queue; the job will run again.
    Unrecorded,
    /// Marked done without running: another job's work answered its event.
    Covered,
}

impl AttemptOutcome {
    pub const ALL: [AttemptOutcome; 6] = [
        Self::Succeeded,
        Self::Retrying,
        Self::Dead,
        Self::LeaseLost,
        Self::Unrecorded,
        Self::Covered,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Retrying => "retrying",
            Self::Dead => "dead",
            Self::LeaseLost => "lease_lost",
            Self::Unrecorded => "unrecorded",
            Self::Covered => "covered",
        }
    }

    /// The outcome stored as `stored`; None for a word the log does not use.
    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == stored)
    }
}

impl fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_keep_their_stored_names() {
        let names: Vec<&str> = AttemptOutcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(
            names,
            [
                "succeeded",
                "retrying",
                "dead",
                "lease_lost",
                "unrecorded",
                "covered"
            ]
        );
        for outcome in AttemptOutcome::ALL {
            assert_eq!(AttemptOutcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(AttemptOutcome::parse("done"), None);
    }
}
