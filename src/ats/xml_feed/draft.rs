//! The job being read: its field buffers, the first problem found, and the conversion to a
//! validated [`FeedJob`]. At most one draft exists at a time (see [`DraftGauge`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::job::{ContentHash, FeedJob};

/// The fields of a `<job>`, `salary/min` and `salary/max` included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Reference,
    Url,
    Summary,
    Address,
    Latitude,
    Longitude,
    Start,
    End,
    SalaryMin,
    SalaryMax,
}

const FIELD_COUNT: usize = 11;

impl Field {
    /// The field for a direct child of `<job>` (`salary` has children instead of text).
    pub fn of_job_child(tag: &str) -> Option<Self> {
        Some(match tag {
            "name" => Self::Name,
            "reference" => Self::Reference,
            "url" => Self::Url,
            "summary" => Self::Summary,
            "address" => Self::Address,
            "latitude" => Self::Latitude,
            "longitude" => Self::Longitude,
            "start" => Self::Start,
            "end" => Self::End,
            _ => return None,
        })
    }

    pub fn of_salary_child(tag: &str) -> Option<Self> {
        match tag {
            "min" => Some(Self::SalaryMin),
            "max" => Some(Self::SalaryMax),
            _ => None,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Reference => "reference",
            Self::Url => "url",
            Self::Summary => "summary",
            Self::Address => "address",
            Self::Latitude => "latitude",
            Self::Longitude => "longitude",
            Self::Start => "start",
            Self::End => "end",
            Self::SalaryMin => "salary/min",
            Self::SalaryMax => "salary/max",
        }
    }
}

/// Why one `<job>` was skipped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobErrorKind {
    #[error("required field <{0}> is missing or empty")]
    MissingField(&'static str),
    #[error("<{0}> appears more than once")]
    DuplicateField(&'static str),
    #[error("<{field}> is not a valid number: {value:?}")]
    BadNumber { field: &'static str, value: String },
    #[error("<{field}> is not an ISO 8601 date or date-time: {value:?}")]
    BadDate { field: &'static str, value: String },
    #[error("data-id is not a non-negative integer: {0:?}")]
    BadDataId(String),
    #[error("<{0}> exceeds the field size limit")]
    FieldTooLarge(&'static str),
    #[error("the job exceeds the job size limit")]
    JobTooLarge,
    #[error("the job nests elements too deeply")]
    TooDeep,
    #[error("unknown entity reference &{0};")]
    UnknownEntity(String),
}

/// Counts live drafts and remembers the peak: the test hook for "never more than one job".
#[derive(Debug, Default)]
pub struct DraftGauge {
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl DraftGauge {
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    fn enter(self: &Arc<Self>) -> LiveDraft {
        let live = self.live.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(live, Ordering::Relaxed);
        LiveDraft(Arc::clone(self))
    }
}

/// Held by a draft; its drop decrements the gauge.
#[derive(Debug)]
struct LiveDraft(Arc<DraftGauge>);

impl Drop for LiveDraft {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A `<job>` being read.
#[derive(Debug)]
pub struct JobDraft {
    _live: LiveDraft,
    /// Byte offset of `<job` and 1-based ordinal in the feed, for error reports.
    pub start: u64,
    pub index: u64,
    pub data_id: Option<String>,
    fields: [Option<String>; FIELD_COUNT],
    /// Bytes held in `fields`.
    held: usize,
    /// The first problem; once set, text is no longer kept (except the reference, so the
    /// error can name it and reconciliation does not archive a job that is still there).
    pub problem: Option<JobErrorKind>,
    reference_lost: bool,
}

impl JobDraft {
    pub fn new(gauge: &Arc<DraftGauge>, start: u64, index: u64, data_id: Option<String>) -> Self {
        Self {
            _live: gauge.enter(),
            start,
            index,
            data_id,
            fields: Default::default(),
            held: 0,
            problem: None,
            reference_lost: false,
        }
    }

    pub fn held_bytes(&self) -> usize {
        self.held + self.data_id.as_ref().map_or(0, String::len)
    }

    /// Records the first problem and frees the text read so far (it will not be used).
    pub fn fail(&mut self, problem: JobErrorKind) {
        let about_reference = matches!(
            problem,
            JobErrorKind::FieldTooLarge("reference") | JobErrorKind::DuplicateField("reference")
        );
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
        let reference = if about_reference {
            self.reference_lost = true;
            None
        } else {
            self.fields[Field::Reference as usize].take()
        };
        self.held = reference.as_ref().map_or(0, String::len);
        self.fields = Default::default();
        self.fields[Field::Reference as usize] = reference;
    }

    fn keeps(&self, field: Field) -> bool {
        self.problem.is_none() || (field == Field::Reference && !self.reference_lost)
    }

    /// An element of this field opened: it must not have been seen before.
    pub fn open_field(&mut self, field: Field) {
        if !self.keeps(field) {
            return;
        }
        let slot = &mut self.fields[field as usize];
        if slot.is_some() {
            self.fail(JobErrorKind::DuplicateField(field.tag()));
        } else {
            *slot = Some(String::new());
        }
    }

    pub fn append(&mut self, field: Field, text: &str, max_field_bytes: usize) {
        if !self.keeps(field) {
            return;
        }
        let slot = self.fields[field as usize].get_or_insert_with(String::new);
        if slot.len() + text.len() > max_field_bytes {
            self.fail(JobErrorKind::FieldTooLarge(field.tag()));
            return;
        }
        slot.push_str(text);
        self.held += text.len();
    }

    /// The job's reference as read so far (trimmed, if any).
    pub fn reference(&self) -> Option<String> {
        self.fields[Field::Reference as usize]
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
    }

    /// The validated job, or why it is invalid.
    pub fn finish(mut self) -> Result<FeedJob, JobErrorKind> {
        if let Some(problem) = self.problem.take() {
            return Err(problem);
        }
        let data_id = match self.data_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(
                raw.parse::<u64>()
                    .map_err(|_| JobErrorKind::BadDataId(clip(raw)))?,
            ),
        };
        let mut take = |field: Field| {
            self.fields[field as usize]
                .take()
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty())
        };
        let reference = take(Field::Reference).ok_or(JobErrorKind::MissingField("reference"))?;
        let name = take(Field::Name).ok_or(JobErrorKind::MissingField("name"))?;
        let mut job = FeedJob {
            data_id,
            reference,
            name,
            url: take(Field::Url),
            summary: take(Field::Summary),
            address: take(Field::Address),
            latitude: number(Field::Latitude, take(Field::Latitude), 90.0)?,
            longitude: number(Field::Longitude, take(Field::Longitude), 180.0)?,
            start: date(Field::Start, take(Field::Start))?,
            end: date(Field::End, take(Field::End))?,
            salary_min: number(Field::SalaryMin, take(Field::SalaryMin), f64::MAX)?,
            salary_max: number(Field::SalaryMax, take(Field::SalaryMax), f64::MAX)?,
            content_hash: ContentHash::default(),
        };
        job.content_hash = job.compute_content_hash();
        Ok(job)
    }
}

/// A finite number within `[-bound, bound]`.
fn number(field: Field, text: Option<String>, bound: f64) -> Result<Option<f64>, JobErrorKind> {
    let Some(text) = text else { return Ok(None) };
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && n.abs() <= bound => Ok(Some(n)),
        _ => Err(JobErrorKind::BadNumber {
            field: field.tag(),
            value: clip(&text),
        }),
    }
}

/// An ISO 8601 date (`2021-11-12`), local date-time (`2021-11-12T14:46:56.816369`) or RFC 3339
/// date-time; kept as written.
fn date(field: Field, text: Option<String>) -> Result<Option<String>, JobErrorKind> {
    let Some(text) = text else { return Ok(None) };
    let valid = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").is_ok()
        || chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || chrono::DateTime::parse_from_rfc3339(&text).is_ok();
    if valid {
        Ok(Some(text))
    } else {
        Err(JobErrorKind::BadDate {
            field: field.tag(),
            value: clip(&text),
        })
    }
}

/// Values quoted in errors are cut, so an error report stays small.
fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}
