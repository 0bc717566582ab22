//! Inbound benchmark (not a test): run with `cargo bench --bench inbound`.
//!
//! 1. Streams a generated ~1 GB XML feed from a loopback server through reqwest and the feed
//!    parser (content hash per job), printing the time and the process's peak RSS.
//! 2. Starts a real `liaison serve` on loopback (SQLite, default settings), fires signed-json
//!    webhooks at it from a load generator (raw HTTP/1.1 on keep-alive connections, so that it
//!    takes little of the cores it shares with the server), and prints accepted events per
//!    second, the p50 / p99 answer latency and the CPU time per 1,000 events of the server and of
//!    the load generator (figures that do not depend on the machine's load); then checks every
//!    accepted event is in the database.
//!
//! 3. When `wrk` is installed: the same server under `wrk` (the load generator a user would
//!    pick; pre-signed ~700-byte bodies, `inbound/signed_webhooks.lua`), then the FastAPI +
//!    uvicorn + SQLite baseline (`inbound/fastapi_receiver.py`) under the same load, and the ratio.
//!
//! `LIAISON_BENCH_SECONDS` (default 10), `LIAISON_BENCH_CONCURRENCY` (default 32),
//! `LIAISON_BENCH_WRK_THREADS` (default 1), `LIAISON_BENCH_BASELINE` (`0`: no FastAPI run),
//! `LIAISON_BENCH_DELIVERY_IDS` (`hashed`, the default: random ids, as most ATSs send; `ordered`:
//! ids that grow with time, for both servers) and `LIAISON_BENCH_FEED_MB` (default 1024; `0`
//! skips the feed) tune it. With hashed ids the server is bound by the random pages of its
//! delivery-id index (`docs/webhooks.md`, "Where the limit is now").

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use futures::{StreamExt as _, TryStreamExt as _};
use liaison::ats::xml_feed::{FeedItem, FeedParser};
use liaison::config::{DatabaseUrl, generate_master_key};
use liaison::crypto::MasterKey;
use liaison::signature::hmac_sha256;
use liaison::store;
use liaison::tenant::{self, TenantConfig};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

#[path = "common/mod.rs"]
mod common;

use common::{KillOnDrop, cpu_seconds, env_u64, exchange, load_average};

#[path = "inbound/baseline.rs"]
mod baseline;
#[path = "inbound/wrk.rs"]
mod wrk;

const SECRET: &str = "bench-signed-json-secret-of-32-bytes-or-more";

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let feed_megabytes = env_u64("LIAISON_BENCH_FEED_MB", 1024);
        if feed_megabytes > 0 {
            feed_benchmark(feed_megabytes).await?;
        }
        webhook_benchmark(
            Duration::from_secs(env_u64("LIAISON_BENCH_SECONDS", 10)),
            env_u64("LIAISON_BENCH_CONCURRENCY", 32) as usize,
        )
        .await
    })
}

/// Peak resident set of this process (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn job_xml(i: u64) -> String {
    format!(
        "<job data-id=\"{i}\"><name>Job {i}</name><reference>ref-{i:09}</reference>\
<url>https://example.com/careers/{i}</url><summary>A generated job summary, long enough to look \
like a real one: responsibilities, requirements and benefits of job {i}.</summary>\
<address>1-7 Cours Valmy, 92800 Puteaux</address><latitude>48.8922598</latitude>\
<longitude>2.232953</longitude><start>2021-11-12T14:46:56.816369</start>\
<salary><min>4000</min><max>5000</max></salary></job>\n"
    )
}

async fn feed_benchmark(megabytes: u64) -> anyhow::Result<()> {
    let per_job = job_xml(1).len() as u64;
    let jobs = megabytes * 1024 * 1024 / per_job;
    let router = Router::new().route(
        "/feed.xml",
        get(move || async move {
            let head =
                futures::stream::iter([Bytes::from_static(b"<?xml version=\"1.0\"?>\n<jobs>\n")]);
            let body = futures::stream::iter((0..jobs).step_by(1_000)).map(move |from| {
                Bytes::from(
                    (from..(from + 1_000).min(jobs))
                        .map(job_xml)
                        .collect::<String>(),
                )
            });
            let tail = futures::stream::iter([Bytes::from_static(b"</jobs>\n")]);
            Body::from_stream(head.chain(body).chain(tail).map(Ok::<_, std::io::Error>))
        }),
    );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });

    let rss_before = peak_rss_kib();
    let started = Instant::now();
    let response = reqwest::get(format!("http://{addr}/feed.xml")).await?;
    let reader =
        tokio_util::io::StreamReader::new(response.bytes_stream().map_err(std::io::Error::other));
    let mut parser = FeedParser::new(reader);
    let mut parsed = 0u64;
    while let Some(item) = parser.next_item().await? {
        if let FeedItem::Job(job) = item {
            std::hint::black_box(job.content_hash);
            parsed += 1;
        }
    }
    let elapsed = started.elapsed();
    let stats = parser.stats();
    println!(
        "xml feed: {:.2} GB, {parsed} jobs streamed and hashed in {:.1} s ({:.0} MB/s); parser held at most {} KiB; process peak RSS {} MiB (before: {} MiB)",
        stats.bytes_read as f64 / 1e9,
        elapsed.as_secs_f64(),
        stats.bytes_read as f64 / 1e6 / elapsed.as_secs_f64(),
        stats.peak_held_bytes / 1024,
        peak_rss_kib() / 1024,
        rss_before / 1024,
    );
    Ok(())
}

async fn webhook_benchmark(duration: Duration, concurrency: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    ));
    let key_text = generate_master_key();
    let key = MasterKey::from_base64(&key_text)?;
    let db = store::connect(&url).await?;
    store::migrate(&db).await?;
    let config = TenantConfig::from_toml(&format!(
        "slug = \"bench\"\nname = \"Bench\"\n[ats]\nkind = \"signed-json\"\nwebhook_secret = \"{SECRET}\"\n\
[suite]\nbase_url = \"http://127.0.0.1:9\"\nclient_id = \"l\"\nclient_secret = \"s\"\n"
    ))?;
    let tenant_id = tenant::apply(&db, &key, &config).await?.0;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let server = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_liaison"))
            .args(["serve", "--no-workers"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LIAISON_DATABASE_URL", url.expose())
            .env("LIAISON_MASTER_KEY", &key_text)
            .env("LIAISON_BIND", format!("127.0.0.1:{port}"))
            // Default settings, logs included (`info`), as deployed; they go to a file.
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("serve.log"))?)
            .spawn()?,
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let base = format!("http://127.0.0.1:{port}");
    let ready = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(30),
            "liaison serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let accepted = Arc::new(AtomicU64::new(0));
    let sequence = Arc::new(AtomicU64::new(0));
    let address: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    // Warm-up, then the measured window.
    let _ = fire(
        address,
        &sequence,
        &accepted,
        concurrency,
        Duration::from_secs(1),
    )
    .await;
    accepted.store(0, Ordering::SeqCst);
    let server_pid = server.0.id();
    let server_cpu = cpu_seconds(server_pid);
    let own_cpu = cpu_seconds(std::process::id());
    let started = Instant::now();
    let mut latencies = fire(address, &sequence, &accepted, concurrency, duration).await;
    let server_cpu = cpu_seconds(server_pid) - server_cpu;
    let own_cpu = cpu_seconds(std::process::id()) - own_cpu;
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let accepted = accepted.load(Ordering::SeqCst);
    let stored = liaison::store::entities::inbox_event::Entity::find()
        .count(&db)
        .await?;
    println!(
        "webhooks: {concurrency} concurrent senders for {:.1} s: {accepted} accepted ({:.0} events/s), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {stored} events in the database (warm-up included, tenant {tenant_id})",
        elapsed.as_secs_f64(),
        accepted as f64 / elapsed.as_secs_f64(),
        at(0.50) as f64 / 1000.0,
        at(0.99) as f64 / 1000.0,
        latencies.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
    println!(
        "CPU per 1,000 accepted events: server {:.0} ms, load generator {:.0} ms (load average {})",
        server_cpu * 1e6 / accepted.max(1) as f64,
        own_cpu * 1e6 / accepted.max(1) as f64,
        load_average()
    );
    anyhow::ensure!(stored >= accepted, "every accepted event must be stored");

    if !wrk::available() {
        println!(
            "wrk: not installed (apt-get install wrk): no figures from a standard load generator"
        );
        return Ok(());
    }
    let load = wrk::Load {
        threads: env_u64("LIAISON_BENCH_WRK_THREADS", 1) as usize,
        connections: concurrency,
        duration,
    };
    // More pre-signed requests than either server can take in `duration`, numbered apart from
    // the built-in generator's: every request is a new delivery.
    let ids = wrk::DeliveryIds::from_env()?;
    let requests = dir.path().join("wrk-requests.tsv");
    wrk::write_requests(
        &requests,
        SECRET,
        1 << 40,
        35_000 * duration.as_secs().max(1),
        ids,
    )?;
    println!("wrk requests: {} delivery ids", ids.as_str());
    let liaison = under_wrk(server_pid, &base, &requests, load, || inbox_count(&db)).await?;
    print_wrk("liaison serve --no-workers", load, &liaison);
    if std::env::var("LIAISON_BENCH_BASELINE").as_deref() == Ok("0") {
        return Ok(());
    }
    let fastapi = match baseline::Baseline::start(dir.path(), SECRET) {
        Ok(fastapi) => fastapi,
        Err(error) => {
            println!("FastAPI baseline: not run ({error:#})");
            return Ok(());
        }
    };
    let fastapi_base = format!("http://127.0.0.1:{}", fastapi.port);
    let python = under_wrk(fastapi.pid(), &fastapi_base, &requests, load, || {
        fastapi.stored()
    })
    .await?;
    print_wrk("FastAPI + uvicorn + SQLite", load, &python);
    println!(
        "liaison / FastAPI: {:.1}x accepted events per second, {:.1}x less CPU per event",
        liaison.per_second() / python.per_second().max(1e-9),
        python.cpu_ms_per_1000 / liaison.cpu_ms_per_1000.max(1e-9),
    );
    Ok(())
}

async fn inbox_count(db: &DatabaseConnection) -> anyhow::Result<u64> {
    Ok(liaison::store::entities::inbox_event::Entity::find()
        .count(db)
        .await?)
}

/// What one server did under wrk.
struct UnderWrk {
    /// Events committed during the run (the server's own count, not wrk's).
    accepted: u64,
    summary: wrk::WrkSummary,
    cpu_ms_per_1000: f64,
}

impl UnderWrk {
    fn per_second(&self) -> f64 {
        self.accepted as f64 / (self.summary.duration_us as f64 / 1e6).max(1e-9)
    }
}

async fn under_wrk<F, Fut>(
    pid: u32,
    base: &str,
    requests: &std::path::Path,
    load: wrk::Load,
    stored: F,
) -> anyhow::Result<UnderWrk>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<u64>>,
{
    let before = stored().await?;
    let cpu = cpu_seconds(pid);
    let (url, requests) = (base.to_owned(), requests.to_owned());
    let summary =
        tokio::task::spawn_blocking(move || wrk::run(&url, "/webhooks/bench/ats", &requests, load))
            .await??;
    let cpu = cpu_seconds(pid) - cpu;
    let accepted = stored().await? - before;
    Ok(UnderWrk {
        accepted,
        cpu_ms_per_1000: cpu * 1e6 / accepted.max(1) as f64,
        summary,
    })
}

fn print_wrk(server: &str, load: wrk::Load, run: &UnderWrk) {
    let s = &run.summary;
    println!(
        "wrk -t{} -c{} -d{}s, {server}: {} accepted and committed of {} sent ({:.0} events/s), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} errors or non-2xx; server CPU per 1,000 events {:.0} ms (load average {})",
        load.threads,
        load.connections,
        load.duration.as_secs(),
        run.accepted,
        s.requests,
        run.per_second(),
        s.p50_us as f64 / 1000.0,
        s.p99_us as f64 / 1000.0,
        s.max_us as f64 / 1000.0,
        s.errors(),
        run.cpu_ms_per_1000,
        load_average(),
    );
}

/// Runs `concurrency` senders for `duration`, each on its own keep-alive connection, and answers
/// each request's latency in microseconds. The requests are written as raw HTTP/1.1 and the
/// answers read just far enough to see the status: a load generator that costs far less CPU than
/// the server it measures (both share the machine's cores).
async fn fire(
    address: SocketAddr,
    sequence: &Arc<AtomicU64>,
    accepted: &Arc<AtomicU64>,
    concurrency: usize,
    duration: Duration,
) -> Vec<u64> {
    let deadline = Instant::now() + duration;
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (sequence, accepted) = (sequence.clone(), accepted.clone());
        senders.spawn(async move {
            let mut latencies = Vec::new();
            let Ok(mut connection) = tokio::net::TcpStream::connect(address).await else {
                return latencies;
            };
            let _ = connection.set_nodelay(true);
            let mut request = Vec::with_capacity(1_024);
            let mut answer = Vec::with_capacity(1_024);
            while Instant::now() < deadline {
                let n = sequence.fetch_add(1, Ordering::Relaxed);
                signed_request(&mut request, address, n);
                let sent = Instant::now();
                let status = match exchange(&mut connection, &request, &mut answer).await {
                    Ok(status) => status,
                    Err(_) => break,
                };
                latencies.push(sent.elapsed().as_micros() as u64);
                if status == 202 {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        });
    }
    let mut all = Vec::new();
    while let Some(Ok(latencies)) = senders.join_next().await {
        all.extend(latencies);
    }
    all
}

/// Writes the `n`th webhook, signed, as one HTTP/1.1 request into `out`.
fn signed_request(out: &mut Vec<u8>, address: SocketAddr, n: u64) {
    use std::io::Write as _;
    let body = format!(
        r#"{{"type":"application.moved","application_reference":"app-{n}","job_reference":"job-{}","step":"Video interview","candidate":{{"reference":"c-{n}","email":"c{n}@example.com"}}}}"#,
        n % 500
    );
    let signature = hmac_sha256::sign(SECRET.as_bytes(), None, body.as_bytes());
    out.clear();
    let _ = write!(
        out,
        "POST /webhooks/bench/ats HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
X-Liaison-Signature: {signature}\r\nX-Liaison-Delivery: bench-{n}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
}
