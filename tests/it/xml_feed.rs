//! The streaming XML feed parser against the contract's sample, a generated 200,000-job feed,
//! malformed documents and random input.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use liaison::ats::xml_feed::limits::FeedLimits;
use liaison::ats::xml_feed::parser::JobErrorKind;
use liaison::ats::xml_feed::{
    Change, ContentHash, FeedError, FeedItem, FeedJob, FeedParser, JobError, Reconciler,
};
use proptest::prelude::*;
use tokio::io::{AsyncRead, BufReader, ReadBuf};

const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<jobs>
  <job data-id="1">
    <name>Data scientist</name>
    <reference>af42dd</reference>
    <url>https://example.com/careers/af42dd</url>
    <summary>...</summary>
    <address>1-7 Cours Valmy, 92800 Puteaux</address>
    <latitude>48.8922598</latitude>
    <longitude>2.232953</longitude>
    <start>2021-11-12T14:46:56.816369</start>
    <end>2021-12-24T14:46:56.816369</end>
    <salary><min>4000</min><max>5000</max></salary>
  </job>
</jobs>
"#;

/// Everything a feed yields, or its fatal error.
async fn parse_all(bytes: &[u8], limits: FeedLimits) -> Result<Vec<FeedItem>, FeedError> {
    let mut parser = FeedParser::with_limits(bytes, limits);
    let mut items = Vec::new();
    while let Some(item) = parser.next_item().await? {
        items.push(item);
    }
    Ok(items)
}

fn jobs(items: &[FeedItem]) -> Vec<&FeedJob> {
    items
        .iter()
        .filter_map(|i| match i {
            FeedItem::Job(job) => Some(job.as_ref()),
            FeedItem::Invalid(_) => None,
        })
        .collect()
}

fn errors(items: &[FeedItem]) -> Vec<&JobError> {
    items
        .iter()
        .filter_map(|i| match i {
            FeedItem::Invalid(e) => Some(e),
            FeedItem::Job(_) => None,
        })
        .collect()
}

fn feed_of(jobs: &[&str]) -> String {
    format!("<?xml version=\"1.0\"?>\n<jobs>{}</jobs>", jobs.concat())
}

#[tokio::test]
async fn the_contract_sample_parses_exactly() -> Result<(), FeedError> {
    let items = parse_all(SAMPLE.as_bytes(), FeedLimits::default()).await?;
    let [FeedItem::Job(job)] = items.as_slice() else {
        panic!("expected one job, got {items:?}");
    };
    let expected = FeedJob {
        data_id: Some(1),
        reference: "af42dd".into(),
        name: "Data scientist".into(),
        url: Some("https://example.com/careers/af42dd".into()),
        summary: Some("...".into()),
        address: Some("1-7 Cours Valmy, 92800 Puteaux".into()),
        latitude: Some(48.8922598),
        longitude: Some(2.232953),
        start: Some("2021-11-12T14:46:56.816369".into()),
        end: Some("2021-12-24T14:46:56.816369".into()),
        salary_min: Some(4000.0),
        salary_max: Some(5000.0),
        content_hash: ContentHash::default(),
    };
    assert_eq!(job.content_hash, expected.compute_content_hash());
    assert_eq!(
        **job,
        FeedJob {
            content_hash: job.content_hash,
            ..expected
        }
    );
    Ok(())
}

#[tokio::test]
async fn entities_character_references_and_cdata_are_decoded() -> Result<(), FeedError> {
    let feed = feed_of(&[
        "<job><reference> r1 </reference><name>R&amp;D &#x41;&#66; &lt;lead&gt;</name>\
         <summary><![CDATA[<p>Hello & welcome</p>]]></summary><url/></job>",
    ]);
    let items = parse_all(feed.as_bytes(), FeedLimits::default()).await?;
    let job = jobs(&items)[0];
    assert_eq!(job.reference, "r1");
    assert_eq!(job.name, "R&D AB <lead>");
    assert_eq!(job.summary.as_deref(), Some("<p>Hello & welcome</p>"));
    assert_eq!(job.url, None);
    assert_eq!(job.data_id, None);
    Ok(())
}

#[tokio::test]
async fn a_bad_job_is_reported_and_the_next_ones_still_parse() -> Result<(), FeedError> {
    let big = "x".repeat(3000);
    let feed = feed_of(&[
        "<job data-id=\"1\"><name>No reference</name></job>",
        "<job data-id=\"2\"><reference>r2</reference><name>A</name><latitude>north</latitude></job>",
        "<job data-id=\"3\"><reference>r3</reference><name>A</name><start>soon</start></job>",
        &format!(
            "<job data-id=\"4\"><reference>r4</reference><name>A</name><summary>{big}</summary></job>"
        ),
        "<job data-id=\"5\"><reference>r5</reference><name>A</name><name>B</name></job>",
        "<job data-id=\"6\"><reference>r6</reference><name>&nbsp;</name></job>",
        "<job data-id=\"x\"><reference>r7</reference><name>A</name></job>",
        "<job data-id=\"8\"><reference>r8</reference><name>A</name><salary><min>1</min><max>2,5</max></salary></job>",
        "<job/>",
        "<job data-id=\"10\"><reference>ok</reference><name>Fine</name></job>",
    ]);
    let limits = FeedLimits {
        max_field_bytes: 2048,
        ..FeedLimits::default()
    };
    let items = parse_all(feed.as_bytes(), limits).await?;

    let errs = errors(&items);
    let kinds: Vec<&JobErrorKind> = errs.iter().map(|e| &e.kind).collect();
    assert_eq!(kinds.len(), 9, "{kinds:?}");
    assert_eq!(*kinds[0], JobErrorKind::MissingField("reference"));
    assert!(matches!(
        kinds[1],
        JobErrorKind::BadNumber {
            field: "latitude",
            ..
        }
    ));
    assert!(matches!(
        kinds[2],
        JobErrorKind::BadDate { field: "start", .. }
    ));
    assert_eq!(*kinds[3], JobErrorKind::FieldTooLarge("summary"));
    assert_eq!(*kinds[4], JobErrorKind::DuplicateField("name"));
    assert_eq!(*kinds[5], JobErrorKind::UnknownEntity("nbsp".into()));
    assert!(matches!(kinds[6], JobErrorKind::BadDataId(_)));
    assert!(matches!(
        kinds[7],
        JobErrorKind::BadNumber {
            field: "salary/max",
            ..
        }
    ));
    assert_eq!(*kinds[8], JobErrorKind::MissingField("reference"));
    // Errors say where they are and which job they concern.
    assert_eq!(errs[1].data_id.as_deref(), Some("2"));
    assert_eq!(errs[1].reference.as_deref(), Some("r2"));
    assert_eq!(errs[1].index, 2);
    assert_eq!(&feed[errs[1].position as usize..][..4], "<job");
    assert_eq!(errs[3].reference.as_deref(), Some("r4"));

    let good = jobs(&items);
    assert_eq!(good.len(), 1);
    assert_eq!(good[0].reference, "ok");
    Ok(())
}

#[tokio::test]
async fn an_oversized_job_is_skipped_not_fatal() -> Result<(), FeedError> {
    let many_fields = "<x>0123456789</x>".repeat(200);
    let feed = feed_of(&[
        &format!("<job><reference>big</reference><name>A</name>{many_fields}</job>"),
        "<job><reference>small</reference><name>B</name></job>",
    ]);
    let limits = FeedLimits {
        max_job_bytes: 1024,
        ..FeedLimits::default()
    };
    let items = parse_all(feed.as_bytes(), limits).await?;
    assert_eq!(errors(&items)[0].kind, JobErrorKind::JobTooLarge);
    assert_eq!(errors(&items)[0].reference.as_deref(), Some("big"));
    assert_eq!(jobs(&items)[0].reference, "small");
    Ok(())
}

#[tokio::test]
async fn document_level_problems_are_fatal() {
    let valid = feed_of(&["<job><reference>r</reference><name>A</name></job>"]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("not xml", b"hello, world".to_vec()),
        ("json", br#"{"jobs": []}"#.to_vec()),
        ("wrong root", b"<rss><job/></rss>".to_vec()),
        (
            "truncated in a job",
            valid.as_bytes()[..valid.len() - 20].to_vec(),
        ),
        (
            "truncated before </jobs>",
            valid.as_bytes()[..valid.len() - 7].to_vec(),
        ),
        (
            "truncated in a tag",
            valid.as_bytes()[..valid.len() - 3].to_vec(),
        ),
        (
            "mismatched end",
            b"<jobs><job><name>a</nom></job></jobs>".to_vec(),
        ),
        ("trailing root", format!("{valid}<jobs/>").into_bytes()),
        (
            "entity bomb",
            br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<jobs><job><reference>&lol2;</reference><name>a</name></job></jobs>"#
                .to_vec(),
        ),
        (
            "external entity",
            br#"<!DOCTYPE jobs SYSTEM "file:///etc/passwd"><jobs/>"#.to_vec(),
        ),
        (
            "invalid utf-8 in text",
            b"<jobs><job><name>\xff\xfe</name></job></jobs>".to_vec(),
        ),
        (
            "invalid utf-8 in a tag",
            b"<jobs><j\xc3\x28ob/></jobs>".to_vec(),
        ),
    ];
    for (what, bytes) in cases {
        let result = parse_all(&bytes, FeedLimits::default()).await;
        assert!(
            result.is_err(),
            "{what}: expected a fatal error, got {result:?}"
        );
    }
}

#[tokio::test]
async fn fatal_errors_name_their_cause() {
    let bomb = b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><jobs/>";
    assert!(matches!(
        parse_all(bomb, FeedLimits::default()).await,
        Err(FeedError::DocType { .. })
    ));
    assert!(matches!(
        parse_all(b"<rss/>", FeedLimits::default()).await,
        Err(FeedError::WrongRoot { found }) if found == "rss"
    ));
    assert!(matches!(
        parse_all(b"<jobs><job>", FeedLimits::default()).await,
        Err(FeedError::Truncated { .. })
    ));
    assert!(matches!(
        parse_all(
            b"<jobs><job><name>\xff</name></job></jobs>",
            FeedLimits::default()
        )
        .await,
        Err(FeedError::InvalidUtf8 { .. })
    ));
    let endless_text = format!(
        "<jobs><job><summary>{}</summary></job></jobs>",
        "y".repeat(10_000)
    );
    let limits = FeedLimits {
        max_token_bytes: 4096,
        ..FeedLimits::default()
    };
    assert!(matches!(
        parse_all(endless_text.as_bytes(), limits).await,
        Err(FeedError::TokenTooLarge { limit: 4096, .. })
    ));
}

#[tokio::test]
async fn an_empty_feed_has_no_jobs() -> Result<(), FeedError> {
    assert!(
        parse_all(b"<jobs/>", FeedLimits::default())
            .await?
            .is_empty()
    );
    assert!(
        parse_all(b"<jobs>\n</jobs>\n<!-- end -->", FeedLimits::default())
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn the_parser_reads_from_an_http_byte_stream() -> Result<(), Box<dyn std::error::Error>> {
    use futures::TryStreamExt;
    let app = axum::Router::new().route("/feed.xml", axum::routing::get(|| async { SAMPLE }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/feed.xml", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let response = reqwest::get(&url).await?.error_for_status()?;
    let stream = response.bytes_stream().map_err(io::Error::other);
    let mut parser = FeedParser::new(tokio_util::io::StreamReader::new(stream));
    let mut references = Vec::new();
    while let Some(item) = parser.next_item().await? {
        if let FeedItem::Job(job) = item {
            references.push(job.reference);
        }
    }
    assert_eq!(references, ["af42dd"]);
    server.abort();
    Ok(())
}

/// The fields of generated job `i`; `version` changes the name.
fn generated_job(i: u64, version: u32) -> FeedJob {
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

fn generated_xml(job: &FeedJob) -> String {
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

    let changed_expected = (1_000..JOBS).filter(|i| i % 7 == 0).count() as u64;
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

fn parse_blocking(bytes: &[u8]) -> usize {
    let limits = FeedLimits {
        max_job_bytes: 2048,
        max_field_bytes: 512,
        max_token_bytes: 4096,
    };
    futures::executor::block_on(async {
        let mut parser = FeedParser::with_limits(bytes, limits);
        let mut count = 0;
        // A fatal error ends the feed; every later call must answer "no more items".
        loop {
            match parser.next_item().await {
                Ok(Some(_)) => count += 1,
                Ok(None) => break,
                Err(_) => {
                    assert_eq!(parser.next_item().await, Ok(None));
                    break;
                }
            }
        }
        count
    })
}

fn valid_feed_bytes() -> Vec<u8> {
    let body: String = (0..5)
        .map(|i| generated_xml(&generated_job(i, 0)))
        .collect();
    format!("<?xml version=\"1.0\"?>\n<jobs>\n{body}</jobs>\n").into_bytes()
}

#[derive(Debug, Clone)]
enum Mutation {
    Overwrite(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    Insert(prop::sample::Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Overwrite(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        (
            any::<prop::sample::Index>(),
            prop::sample::select(b"<>/&;\"=!?[]x \xff".to_vec())
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        parse_blocking(&bytes);
    }

    #[test]
    fn arbitrary_markup_never_panics(text in "[<>/a-z\"=&;# \\[\\]!?-]{0,300}") {
        parse_blocking(format!("<jobs>{text}</jobs>").as_bytes());
    }

    #[test]
    fn mutated_valid_feeds_never_panic(mutations in proptest::collection::vec(mutation(), 1..8)) {
        let mut bytes = valid_feed_bytes();
        for m in mutations {
            match m {
                Mutation::Overwrite(i, b) => { let i = i.index(bytes.len()); bytes[i] = b; }
                Mutation::Delete(i) => { let i = i.index(bytes.len()); bytes.remove(i); }
                Mutation::Insert(i, b) => { let i = i.index(bytes.len()); bytes.insert(i, b); }
            }
        }
        let count = parse_blocking(&bytes);
        prop_assert!(count <= 6 + 8);
    }
}
