//! A 200,000-job feed generated on the fly, streamed through the parser and reconciled
//! against a previous snapshot.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use liaison::ats::xml_feed::{
    Change, ContentHash, FeedError, FeedItem, FeedJob, FeedParser, Reconciler,
};
use tokio::io::{AsyncRead, BufReader, ReadBuf};

/// The fields of generated job `i`; `version` changes the name.
pub fn generated_job(i: u64, version: u32) -> FeedJob {
    FeedJob {
        data_id: Some(i),
        reference: format!("ref-{i}"),
        name: format!("Job {i} v{version}"),
        url: Some(format!("https://example.com/careers/{i}")),
        summary: Some(format!("Summary & details <{i}>")),
        address: Some(format!("{i} Cours Valmy, 92800 Puteaux")),
        latitude: Some(48.8922598),
        longitude: Some(2.232953),
        start: Some("2021-11-12T14:46:56.816369".into()),
        end: Some("2021-12-24".into()),
        salary_min: Some(4000.0),
        salary_max: Some(5000.0 + (i % 100) as f64),
        content_hash: ContentHash::default(),
    }
}

pub fn generated_xml(job: &FeedJob) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<f64>| v.map(|n| n.to_string()).unwrap_or_default();
    format!(
        "  <job data-id=\"{}\">\n    <name>{}</name>\n    <reference>{}</reference>\n    \
         <url>{}</url>\n    <summary>{}</summary>\n    <address>{}</address>\n    \
         <latitude>{}</latitude>\n    <longitude>{}</longitude>\n    <start>{}</start>\n    \
         <end>{}</end>\n    <salary><min>{}</min><max>{}</max></salary>\n  </job>\n",
        job.data_id.unwrap_or_default(),
        job.name,
        job.reference,
        opt(&job.url),
        opt(&job.summary)
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
        opt(&job.address),
        num(job.latitude),
        num(job.longitude),
        opt(&job.start),
        opt(&job.end),
        num(job.salary_min),
        num(job.salary_max),
    )
}

/// A feed generated on the fly, job by job: never held in memory as a whole.
struct GeneratedFeed {
    next: u64,
    end: u64,
    version_of: fn(u64) -> u32,
    chunk: Vec<u8>,
    offset: usize,
    footer_written: bool,
}

impl GeneratedFeed {
    fn new(range: std::ops::Range<u64>, version_of: fn(u64) -> u32) -> Self {
        Self {
            next: range.start,
            end: range.end,
            version_of,
            chunk: b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<jobs>\n".to_vec(),
            offset: 0,
            footer_written: false,
        }
    }

    fn refill(&mut self) {
        self.chunk.clear();
        self.offset = 0;
        if self.next < self.end {
            let job = generated_job(self.next, (self.version_of)(self.next));
            self.chunk.extend_from_slice(generated_xml(&job).as_bytes());
            self.next += 1;
        } else if !self.footer_written {
            self.chunk.extend_from_slice(b"</jobs>\n");
            self.footer_written = true;
        }
    }
}

impl AsyncRead for GeneratedFeed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.offset == self.chunk.len() {
            self.refill();
        }
        let n = buf.remaining().min(self.chunk.len() - self.offset);
        let start = self.offset;
        buf.put_slice(&self.chunk[start..start + n]);
        self.offset += n;
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_200k_job_feed_streams_in_bounded_memory_and_reconciles_exactly() -> Result<(), FeedError>
{
    const JOBS: u64 = 200_000;
    // Previous poll: ref-0 .. ref-199999, all version 0.
    let previous: HashMap<String, ContentHash> = (0..JOBS)
        .map(|i| {
            let job = generated_job(i, 0);
            (job.reference.clone(), job.compute_content_hash())
        })
        .collect();
    // This poll: the first 1,000 left, 1,000 new ones arrived, every 7th job changed.
    let changed_version = |i: u64| u32::from(i.is_multiple_of(7));
    let feed = GeneratedFeed::new(1_000..JOBS + 1_000, changed_version);

    let started = Instant::now();
    let mut parser = FeedParser::new(BufReader::new(feed));
    let mut reconciler = Reconciler::new(&previous);
    let mut counts: HashMap<&'static str, u64> = HashMap::new();
    while let Some(item) = parser.next_item().await? {
        let FeedItem::Job(job) = item else {
            panic!("unexpected invalid job: {item:?}");
        };
        let change = reconciler.classify(&job.reference, job.content_hash);
        *counts.entry(change_name(change)).or_default() += 1;
    }
    let removed = reconciler.removed();
    let elapsed = started.elapsed();
    let stats = parser.stats();
    eprintln!("200,000-job feed: {elapsed:?}, {stats:?}");

    let changed_expected = (1_000..JOBS).filter(|i| i.is_multiple_of(7)).count() as u64;
    assert_eq!(counts.get("new").copied(), Some(1_000));
    assert_eq!(counts.get("changed").copied(), Some(changed_expected));
    assert_eq!(
        counts.get("unchanged").copied(),
        Some(JOBS - 1_000 - changed_expected)
    );
    assert_eq!(counts.get("duplicate"), None);
    assert_eq!(removed.len(), 1_000);
    assert!(
        removed
            .iter()
            .all(|r| r["ref-".len()..].parse::<u64>().is_ok_and(|i| i < 1_000))
    );

    assert_eq!(stats.jobs, JOBS);
    assert_eq!(stats.invalid_jobs, 0);
    assert!(stats.bytes_read > 80_000_000, "{stats:?}");
    // The one-job bound: never two drafts alive, and a few KiB held whatever the feed size.
    assert_eq!(stats.peak_live_jobs, 1);
    assert!(stats.peak_held_bytes < 64 * 1024, "{stats:?}");
    Ok(())
}

fn change_name(change: Change) -> &'static str {
    match change {
        Change::New => "new",
        Change::Changed => "changed",
        Change::Unchanged => "unchanged",
        Change::Duplicate => "duplicate",
    }
}
