//! Script adapter benchmark (not a test): run with `cargo bench --bench script`.
//!
//! 1. `catch` calls per second in process, on one thread (`verify`, `catch`, the events
//!    validated): with a fresh sandboxed runtime per call (the module loaded each time), then
//!    with the tenant's warm runtime (as on the webhook path).
//! 2. Webhook throughput of a script tenant beside a built-in one: a real `liaison serve` on
//!    loopback (SQLite) with a signed-json tenant and a script tenant that reads the same bodies
//!    (HMAC verified by `ats.verifier`, mapped by its `catch`); the same load generator fires at
//!    each in turn and prints accepted events per second, p50 / p99 and the server's CPU per
//!    1,000 events, then what the script costs on the webhook path.
//!
//! `LIAISON_BENCH_SECONDS` (default 10) and `LIAISON_BENCH_CONCURRENCY` (default 32) tune it;
//! `LIAISON_BENCH_SERVER` names another `liaison` binary to serve (an earlier build).

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use liaison::config::{DatabaseUrl, generate_master_key};
use liaison::crypto::MasterKey;
use liaison::script::{self, Program};
use liaison::signature::hmac_sha256;
use liaison::store;
use liaison::tenant::{self, TenantConfig};
use serde_json::json;

#[path = "common/mod.rs"]
mod common;

use common::{KillOnDrop, cpu_seconds, env_u64, exchange};

const SECRET: &str = "bench-signed-json-secret-of-32-bytes-or-more";

/// Reads signed-json's `application.moved` bodies, as the built-in kind does.
const SCRIPT: &str = r#"
function handle(request) {
  const b = request.body;
  if (b.type !== 'application.moved') throw new Error('unexpected ' + b.type);
  return [{
    type: 'application_changed',
    id: request.headers['x-liaison-delivery'],
    ats_application_id: b.application_reference,
    ats_job_id: b.job_reference,
    step: b.step,
    candidate: { ats_candidate_id: b.candidate.reference, email: b.candidate.email },
  }];
}
export { handle as catch };
"#;

fn main() -> anyhow::Result<()> {
    let seconds = env_u64("LIAISON_BENCH_SECONDS", 10);
    catch_benchmark(Duration::from_secs(seconds.min(5)), None);
    catch_benchmark(Duration::from_secs(seconds.min(5)), Some("bench"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(webhook_benchmark(
        Duration::from_secs(seconds),
        env_u64("LIAISON_BENCH_CONCURRENCY", 32) as usize,
    ))
}

fn body(n: u64) -> String {
    format!(
        r#"{{"type":"application.moved","application_reference":"app-{n}","job_reference":"job-{}","step":"Video interview","candidate":{{"reference":"c-{n}","email":"c{n}@example.com"}}}}"#,
        n % 500
    )
}

fn catch_benchmark(duration: Duration, owner: Option<&str>) {
    let program = Program::new("bench.js", SCRIPT, owner.map(str::to_owned));
    let settings = json!({}).to_string();
    let started = Instant::now();
    let mut calls = 0u64;
    while started.elapsed() < duration {
        let raw = body(calls);
        let parsed: serde_json::Value = serde_json::from_str(&raw).unwrap_or_default();
        let request = json!({"method": "POST", "headers": {"x-liaison-delivery": format!("d-{calls}")},
            "query": {}, "raw_body": raw, "body": parsed});
        let (result, _) =
            script::run_catch(&program, &request.to_string(), &settings, true, "d", None);
        assert!(result.is_ok(), "{result:?}");
        calls += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "catch: {calls} calls in {elapsed:.1} s on one thread: {:.0} calls/s, {:.0} µs per call ({})",
        calls as f64 / elapsed,
        elapsed * 1e6 / calls.max(1) as f64,
        if owner.is_some() {
            "the tenant's warm runtime"
        } else {
            "a fresh runtime each"
        }
    );
}

async fn webhook_benchmark(duration: Duration, concurrency: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    ));
    let key_text = generate_master_key();
    let key = MasterKey::from_base64(&key_text)?;
    let suite =
        "[suite]\nbase_url = \"http://127.0.0.1:9\"\nclient_id = \"l\"\nclient_secret = \"s\"\n";
    let builtin = TenantConfig::from_toml(&format!(
        "slug = \"builtin\"\nname = \"Built-in\"\n[ats]\nkind = \"signed-json\"\nwebhook_secret = \"{SECRET}\"\n{suite}"
    ))?;
    let mut scripted = TenantConfig::from_toml(&format!(
        "slug = \"scripted\"\nname = \"Script\"\n[ats]\nkind = \"script\"\nscript = \"bench.js\"\n\
verifier = \"hmac-sha256\"\nwebhook_secret = \"{SECRET}\"\n{suite}"
    ))?;
    std::fs::write(dir.path().join("bench.js"), SCRIPT)?;
    liaison::script::load::attach_script(&mut scripted, dir.path()).map_err(anyhow::Error::msg)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let server = KillOnDrop(
        // `LIAISON_BENCH_SERVER`: another build's binary, to compare before and after a change.
        Command::new(
            std::env::var("LIAISON_BENCH_SERVER")
                .unwrap_or_else(|_| env!("CARGO_BIN_EXE_liaison").to_owned()),
        )
        .args(["serve", "--no-workers"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", url.expose())
        .env("LIAISON_MASTER_KEY", &key_text)
        .env("LIAISON_BIND", format!("127.0.0.1:{port}"))
        .env("LIAISON_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .spawn()?,
    );
    let address: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let ready = Instant::now();
    while tokio::net::TcpStream::connect(address).await.is_err() {
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(30),
            "liaison serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The server migrates the database (its own migrations: `LIAISON_BENCH_SERVER` may be an
    // earlier build), then the tenants are applied.
    let db = store::connect(&url).await?;
    tenant::apply(&db, &key, &builtin).await?;
    tenant::apply(&db, &key, &scripted).await?;
    let sequence = Arc::new(AtomicU64::new(0));
    let mut cpu_per_event = Vec::new();
    for slug in ["builtin", "scripted"] {
        let accepted = Arc::new(AtomicU64::new(0));
        let _ = fire(
            address,
            slug,
            &sequence,
            &accepted,
            concurrency,
            Duration::from_secs(1),
        )
        .await;
        accepted.store(0, Ordering::SeqCst);
        let server_cpu = cpu_seconds(server.0.id());
        let started = Instant::now();
        let mut latencies = fire(address, slug, &sequence, &accepted, concurrency, duration).await;
        let server_cpu = cpu_seconds(server.0.id()) - server_cpu;
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0) as f64
                / 1000.0
        };
        let accepted = accepted.load(Ordering::SeqCst);
        let cpu = server_cpu * 1e6 / accepted.max(1) as f64;
        cpu_per_event.push((accepted as f64 / elapsed, cpu));
        println!(
            "webhooks to the {slug} tenant: {concurrency} senders for {elapsed:.1} s: {accepted} accepted ({:.0} events/s), p50 {:.2} ms, p99 {:.2} ms; server CPU {cpu:.0} ms per 1,000 events",
            accepted as f64 / elapsed,
            at(0.50),
            at(0.99),
        );
    }
    if let [(builtin_rate, builtin_cpu), (script_rate, script_cpu)] = cpu_per_event[..] {
        println!(
            "the script costs {:+.0}% server CPU per event and {:+.0}% throughput on the webhook path",
            (script_cpu / builtin_cpu - 1.0) * 100.0,
            (script_rate / builtin_rate - 1.0) * 100.0,
        );
    }
    Ok(())
}

/// Runs `concurrency` senders at `/webhooks/{slug}/ats` for `duration`, each on its own
/// keep-alive connection, writing raw HTTP/1.1 (a load generator far cheaper than the server);
/// answers each request's latency in microseconds.
async fn fire(
    address: SocketAddr,
    slug: &'static str,
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
            let (mut request, mut answer) = (Vec::with_capacity(1_024), Vec::with_capacity(1_024));
            while Instant::now() < deadline {
                let n = sequence.fetch_add(1, Ordering::Relaxed);
                signed_request(&mut request, address, slug, n);
                let sent = Instant::now();
                let Ok(status) = exchange(&mut connection, &request, &mut answer).await else {
                    break;
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

fn signed_request(out: &mut Vec<u8>, address: SocketAddr, slug: &str, n: u64) {
    use std::io::Write as _;
    let body = body(n);
    let signature = hmac_sha256::sign(SECRET.as_bytes(), None, body.as_bytes());
    out.clear();
    let _ = write!(
        out,
        "POST /webhooks/{slug}/ats HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
X-Liaison-Signature: {signature}\r\nX-Liaison-Delivery: bench-{n}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
}
