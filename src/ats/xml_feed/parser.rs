//! The streaming feed parser: quick-xml's async reader over any `AsyncBufRead`, yielding one
//! job at a time and holding at most one job in memory.
//!
//! Errors come in two kinds. A problem inside one `<job>` (missing reference, bad number,
//! oversized) yields [`FeedItem::Invalid`] and parsing goes on. A problem with the document
//! (not XML, truncated, wrong root, DOCTYPE, invalid UTF-8, an oversized token) is a fatal
//! [`FeedError`]: the feed must then change nothing.

use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use tokio::io::AsyncBufRead;

pub use super::draft::JobErrorKind;
use super::draft::{DraftGauge, Field, JobDraft};
use super::job::FeedJob;
use super::limits::{FeedLimits, LimitedReader};

/// The read buffer is shrunk back to this after an unusually large token.
const STEADY_BUFFER_BYTES: usize = 16 * 1024;
/// Elements nested deeper than this inside a job make it invalid.
const MAX_JOB_DEPTH: usize = 16;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Prolog,
    Root,
    Epilog,
    Done,
}

/// What to do after one event.
enum Step {
    Continue,
    Yield(FeedItem),
    Finished,
}

/// Parses a feed from `source`. `source` may be a reqwest byte stream wrapped in
/// `tokio_util::io::StreamReader`.
pub struct FeedParser<R> {
    reader: Reader<LimitedReader<R>>,
    buf: Vec<u8>,
    machine: Machine,
}

/// The parse state, separate from the buffer that events borrow.
struct Machine {
    limits: FeedLimits,
    phase: Phase,
    /// Depth of ignored elements directly under `<jobs>`.
    skip_depth: usize,
    draft: Option<JobDraft>,
    /// Where the current job's text goes, one entry per open element inside `<job>`.
    slots: Vec<Slot>,
    jobs_seen: u64,
    gauge: Arc<DraftGauge>,
    stats: ParserStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Field(Field),
    Salary,
    Ignored,
}

impl<R: AsyncBufRead + Unpin> FeedParser<R> {
    pub fn new(source: R) -> Self {
        Self::with_limits(source, FeedLimits::default())
    }

    pub fn with_limits(source: R, limits: FeedLimits) -> Self {
        let mut reader = Reader::from_reader(LimitedReader::new(source));
        reader.config_mut().check_end_names = true;
        Self {
            reader,
            buf: Vec::with_capacity(STEADY_BUFFER_BYTES),
            machine: Machine {
                limits,
                phase: Phase::Prolog,
                skip_depth: 0,
                draft: None,
                slots: Vec::new(),
                jobs_seen: 0,
                gauge: Arc::default(),
                stats: ParserStats::default(),
            },
        }
    }

    pub fn stats(&self) -> ParserStats {
        ParserStats {
            peak_live_jobs: self.machine.gauge.peak(),
            bytes_read: self.reader.buffer_position(),
            ..self.machine.stats
        }
    }

    /// The next job or per-job error; `Ok(None)` at the end of the feed. After a fatal error
    /// every later call answers `Ok(None)`.
    pub async fn next_item(&mut self) -> Result<Option<FeedItem>, FeedError> {
        loop {
            if self.machine.phase == Phase::Done {
                return Ok(None);
            }
            self.buf.clear();
            if self.buf.capacity() > STEADY_BUFFER_BYTES {
                self.buf.shrink_to(STEADY_BUFFER_BYTES);
            }
            self.reader
                .get_mut()
                .renew(self.machine.limits.max_token_bytes);
            let before = self.reader.buffer_position();
            let event = self.reader.read_event_into_async(&mut self.buf).await;
            let position = self.reader.buffer_position();
            let step = match event {
                Ok(event) => self.machine.on_event(event, before, position),
                Err(error) => Err(self.fatal(error)),
            };
            self.machine.note_memory(self.buf.capacity());
            match step {
                Ok(Step::Continue) => {}
                Ok(Step::Yield(item)) => return Ok(Some(item)),
                Ok(Step::Finished) => {
                    self.machine.phase = Phase::Done;
                    return Ok(None);
                }
                Err(error) => {
                    self.machine.phase = Phase::Done;
                    self.machine.draft = None;
                    return Err(error);
                }
            }
        }
    }

    /// The parser as a stream, for `StreamExt` combinators.
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<FeedItem, FeedError>> {
        futures::stream::unfold(self, |mut parser| async move {
            match parser.next_item().await {
                Ok(Some(item)) => Some((Ok(item), parser)),
                Ok(None) => None,
                Err(error) => Some((Err(error), parser)),
            }
        })
    }

    fn fatal(&self, error: quick_xml::Error) -> FeedError {
        let position = self
            .reader
            .error_position()
            .max(self.reader.buffer_position());
        if self.reader.get_ref().tripped() {
            return FeedError::TokenTooLarge {
                position,
                limit: self.machine.limits.max_token_bytes,
            };
        }
        match error {
            quick_xml::Error::Encoding(_) => FeedError::InvalidUtf8 { position },
            quick_xml::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                FeedError::InvalidUtf8 { position }
            }
            quick_xml::Error::Io(io) => FeedError::Io(io.to_string()),
            other => FeedError::Xml {
                position,
                message: other.to_string(),
            },
        }
    }
}

impl Machine {
    fn on_event(
        &mut self,
        event: Event<'_>,
        before: u64,
        position: u64,
    ) -> Result<Step, FeedError> {
        if let Event::DocType(_) = event {
            return Err(FeedError::DocType { position: before });
        }
        if matches!(event, Event::Eof) && self.phase == Phase::Root {
            return Err(FeedError::Truncated { position });
        }
        match self.phase {
            Phase::Prolog => self.in_prolog(event),
            Phase::Root if self.draft.is_some() => Ok(self.in_job(event, position)),
            Phase::Root => self.in_root(event, before),
            Phase::Epilog => in_epilog(event, before),
            Phase::Done => Ok(Step::Finished),
        }
    }

    fn in_prolog(&mut self, event: Event<'_>) -> Result<Step, FeedError> {
        match event {
            Event::Start(e) if local_name(&e) == "jobs" => self.phase = Phase::Root,
            Event::Empty(e) if local_name(&e) == "jobs" => self.phase = Phase::Epilog,
            Event::Start(e) | Event::Empty(e) => {
                return Err(FeedError::WrongRoot {
                    found: local_name(&e).chars().take(64).collect(),
                });
            }
            Event::Text(t) if !t.trim().is_empty() => return Err(FeedError::NotAFeed),
            Event::CData(_) | Event::GeneralRef(_) | Event::End(_) | Event::Eof => {
                return Err(FeedError::NotAFeed);
            }
            _ => {}
        }
        Ok(Step::Continue)
    }

    fn in_root(&mut self, event: Event<'_>, before: u64) -> Result<Step, FeedError> {
        match event {
            Event::Start(e) if self.skip_depth == 0 && local_name(&e) == "job" => {
                self.open_job(&e, before);
            }
            Event::Empty(e) if self.skip_depth == 0 && local_name(&e) == "job" => {
                self.open_job(&e, before);
                return Ok(self.close_job());
            }
            Event::Start(_) => self.skip_depth += 1,
            Event::End(_) if self.skip_depth > 0 => self.skip_depth -= 1,
            Event::End(_) => self.phase = Phase::Epilog,
            _ => {}
        }
        Ok(Step::Continue)
    }

    fn open_job(&mut self, start: &BytesStart<'_>, before: u64) {
        self.jobs_seen += 1;
        // A malformed attribute list is caught by quick-xml's own checks; a bad value is
        // reported when the job is finished.
        let data_id = start.try_get_attribute("data-id").ok().flatten().map(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_default()
        });
        self.slots.clear();
        self.draft = Some(JobDraft::new(&self.gauge, before, self.jobs_seen, data_id));
    }

    fn in_job(&mut self, event: Event<'_>, position: u64) -> Step {
        let max_field = self.limits.max_field_bytes;
        let Some(draft) = self.draft.as_mut() else {
            return Step::Continue;
        };
        if draft.problem.is_none() && position - draft.start > self.limits.max_job_bytes {
            draft.fail(JobErrorKind::JobTooLarge);
        }
        match event {
            Event::Start(e) => {
                let slot = child_slot(self.slots.last().copied(), local_name(&e));
                if let Slot::Field(field) = slot {
                    draft.open_field(field);
                }
                if self.slots.len() >= MAX_JOB_DEPTH {
                    draft.fail(JobErrorKind::TooDeep);
                }
                self.slots.push(slot);
            }
            Event::Empty(e) => {
                if let Slot::Field(field) = child_slot(self.slots.last().copied(), local_name(&e)) {
                    draft.open_field(field);
                }
            }
            Event::End(_) => {
                // The end tag of no open field is the job's own.
                let Some(_) = self.slots.pop() else {
                    return self.close_job();
                };
            }
            Event::Text(t) => {
                if let Some(Slot::Field(field)) = self.slots.last() {
                    draft.append(*field, &t.xml10_content(), max_field);
                }
            }
            Event::CData(c) => {
                if let Some(Slot::Field(field)) = self.slots.last() {
                    draft.append(*field, &c.xml10_content(), max_field);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(Slot::Field(field)) = self.slots.last() {
                    match resolve_reference(&r) {
                        Some(c) => draft.append(*field, c.encode_utf8(&mut [0; 4]), max_field),
                        None => {
                            draft.fail(JobErrorKind::UnknownEntity(r.chars().take(32).collect()))
                        }
                    }
                }
            }
            _ => {}
        }
        let held = draft.held_bytes();
        self.stats.peak_held_bytes = self.stats.peak_held_bytes.max(held);
        Step::Continue
    }

    fn close_job(&mut self) -> Step {
        let Some(draft) = self.draft.take() else {
            return Step::Continue;
        };
        let (index, position, data_id) = (draft.index, draft.start, draft.data_id.clone());
        let reference = draft.reference();
        match draft.finish() {
            Ok(job) => {
                self.stats.jobs += 1;
                Step::Yield(FeedItem::Job(Box::new(job)))
            }
            Err(kind) => {
                self.stats.invalid_jobs += 1;
                Step::Yield(FeedItem::Invalid(JobError {
                    index,
                    position,
                    data_id,
                    reference,
                    kind,
                }))
            }
        }
    }

    fn note_memory(&mut self, buffer_capacity: usize) {
        let held = buffer_capacity + self.draft.as_ref().map_or(0, JobDraft::held_bytes);
        self.stats.peak_held_bytes = self.stats.peak_held_bytes.max(held);
    }
}

fn in_epilog(event: Event<'_>, before: u64) -> Result<Step, FeedError> {
    match event {
        Event::Eof => Ok(Step::Finished),
        Event::Text(t) if t.trim().is_empty() => Ok(Step::Continue),
        Event::Comment(_) | Event::PI(_) => Ok(Step::Continue),
        _ => Err(FeedError::TrailingContent { position: before }),
    }
}

fn child_slot(parent: Option<Slot>, tag: &str) -> Slot {
    match parent {
        None if tag == "salary" => Slot::Salary,
        None => Field::of_job_child(tag).map_or(Slot::Ignored, Slot::Field),
        Some(Slot::Salary) => Field::of_salary_child(tag).map_or(Slot::Ignored, Slot::Field),
        // Markup inside a field (or an unknown element) is not part of any field.
        Some(_) => Slot::Ignored,
    }
}

fn local_name<'a>(start: &'a BytesStart<'_>) -> &'a str {
    let name = start.name().0;
    name.rsplit_once(':').map_or(name, |(_, local)| local)
}

/// The five predefined entities and character references; nothing else (no DTD is accepted,
/// so no other entity can be declared).
fn resolve_reference(reference: &BytesRef<'_>) -> Option<char> {
    if reference.is_char_ref() {
        return reference.resolve_char_ref().ok().flatten();
    }
    match &**reference {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}
