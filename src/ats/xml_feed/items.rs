//! What the parser yields: jobs, per-job errors, fatal errors, and its statistics.

use super::draft::JobErrorKind;
use super::job::FeedJob;

/// One item of the feed.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedItem {
    Job(Box<FeedJob>),
    /// A `<job>` that could not be read; the next one follows.
    Invalid(JobError),
}

/// A skipped `<job>`: where it was and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("job #{index} at byte {position} (data-id {data_id:?}): {kind}")]
pub struct JobError {
    /// 1-based ordinal of the `<job>` in the feed.
    pub index: u64,
    /// Byte offset of its start tag.
    pub position: u64,
    pub data_id: Option<String>,
    /// The job's reference when it could be read: reconciliation must keep that job.
    pub reference: Option<String>,
    pub kind: JobErrorKind,
}

/// A document-level failure: the whole feed is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeedError {
    #[error("the feed is empty or is not an XML document")]
    NotAFeed,
    #[error("the root element is <{found}>, expected <jobs>")]
    WrongRoot { found: String },
    #[error("DOCTYPE and entity declarations are refused (byte {position})")]
    DocType { position: u64 },
    #[error("the feed ends before </jobs> (byte {position})")]
    Truncated { position: u64 },
    #[error("content after </jobs> (byte {position})")]
    TrailingContent { position: u64 },
    #[error("invalid UTF-8 at byte {position}")]
    InvalidUtf8 { position: u64 },
    #[error("an XML token exceeds {limit} bytes (byte {position})")]
    TokenTooLarge { position: u64, limit: u64 },
    #[error("malformed XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("reading the feed failed: {0}")]
    Io(String),
}

/// Figures for logs and for the tests' memory bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParserStats {
    pub jobs: u64,
    pub invalid_jobs: u64,
    pub bytes_read: u64,
    /// The most jobs held at once by the parser (the bound is 1).
    pub peak_live_jobs: usize,
    /// The most bytes held at once: read buffer capacity plus the current job's text.
    pub peak_held_bytes: usize,
}
