//! The sync engine end to end on SQLite: N applications (default 10,000) moved to the interview
//! step in the Gupy simulator become invitations in the suite simulator (20 ms of latency per suite
//! call), are completed there, and come back as tags in the Gupy simulator. Prints the total time,
//! applications per second, p50/p99 time from Liaison receiving the `application.moved` webhook to
//! the invitation (sampled every 50 ms), and costs per application that do not depend on the
//! machine's load: CPU time of the whole process (Liaison and both simulators), partner calls,
//! events, jobs and job attempts.
//!
//! The recruiter's moves and the candidates' completions are what people do inside the ATS and
//! the suite, not API traffic: the driver makes them through the simulators' own functions, in
//! this process, rather than over HTTP. Everything between the three parties is HTTP as in
//! production. Completions run as invitations appear, so both directions flow at once, as they do
//! in a working day.
//!
//! `cargo bench --bench sync_end_to_end` (`LIAISON_BENCH_APPLICATIONS=N` to change the count).
//! Not a test: it prints figures and exits non-zero below 1,000 applications per second.

use std::collections::HashMap;
use std::ops::Bound;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use futures::StreamExt as _;
use liaison::App;
use liaison::ats::gupy::{GupyClient, subscriptions};
use liaison::ats::http_client::shared_client;
use liaison::config::{DatabaseUrl, Settings, generate_master_key};
use liaison::crypto::MasterKey;
use liaison::suite::subscription::ensure_suite_subscription;
use liaison::sync::runtime;
use liaison::tenant::{self, TenantConfig};
use liaison_sim::gupy::{self, GupySimConfig};
use liaison_sim::suite::{self, Recommendation, ReviewIn, SuiteSimConfig};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

// The allocator of the `liaison` binary, so that the figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TARGET_PER_SECOND: f64 = 1_000.0;
const LATENCY_MS: u64 = 20;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(rate) if rate >= TARGET_PER_SECOND => ExitCode::SUCCESS,
        Ok(_) => {
            eprintln!("below the target of {TARGET_PER_SECOND} applications per second");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("benchmark failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> anyhow::Result<Value> {
    let response = http.post(&url).json(&body).send().await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    Ok(response.json().await.unwrap_or(Value::Null))
}

async fn run() -> anyhow::Result<f64> {
    let count: usize = std::env::var("LIAISON_BENCH_APPLICATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let loopback = "127.0.0.1:0".parse()?;
    let suite = suite::spawn(loopback, SuiteSimConfig::default()).await?;
    // Gupy delivers webhooks concurrently; the simulator's default (one at a time) would measure
    // the simulator instead of Liaison.
    let gupy_config = GupySimConfig {
        delivery_concurrency: 64,
        ..GupySimConfig::default()
    };
    let gupy = gupy::spawn(loopback, gupy_config).await?;
    let http = reqwest::Client::new();

    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let master_key = generate_master_key();
    let mut settings = Settings::defaults();
    settings.database_url = DatabaseUrl(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    ));
    settings.bind = format!("127.0.0.1:{port}");
    settings.public_url = format!("http://127.0.0.1:{port}");
    settings.master_key = Some(SecretString::from(master_key.clone()));
    // An invitation takes several sequential suite calls of 20 ms each, so throughput is bounded by
    // how many jobs run at once: the benchmark runs more executors than the default 32.
    settings.workers = std::env::var("LIAISON_BENCH_WORKERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(512);
    // The suite simulator has no limit of its own; let the client's per-tenant limits follow.
    settings.suite_client.max_concurrency = settings.workers;
    settings.suite_client.requests_per_second = 20_000;
    let public_url = settings.public_url.clone();
    let app = App::build(settings).await?;
    let state = app.state().clone();
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run_until_stopped(shutdown.clone()));

    let key = MasterKey::from_base64(&master_key)?;
    let config = TenantConfig::from_toml(&format!(
        r#"
slug = "bench"
name = "Benchmark"
[ats]
kind = "gupy"
base_url = "{}"
token = "gupy-token"
webhook_secret = "bench-hook-secret"
[suite]
base_url = "{}"
client_id = "liaison"
client_secret = "liaison-secret"
"#,
        gupy.url(),
        suite.base_url()
    ))?;
    tenant::apply(&state.db, &key, &config).await?;
    let bench = tenant::find(&state.db, &key, "bench")
        .await?
        .context("tenant")?;
    let gupy_client = GupyClient::for_tenant(shared_client(), &bench)?;
    subscriptions::ensure_subscriptions(&gupy_client, &bench, &public_url).await?;
    ensure_suite_subscription(&state.db, &key, &state.suite_clients, &bench, &public_url).await?;
    tokio::spawn(runtime::run_background(
        state.background()?,
        shutdown.clone(),
    ));

    let job = post(
        &http,
        format!("{}/_sim/jobs", gupy.url()),
        json!({"name": "Benchmark", "status": "published"}),
    )
    .await?;
    let job = job["id"].as_i64().context("job id")?;
    let applications: Vec<(i64, String)> = futures::stream::iter(0..count)
        .map(|n| {
            let (http, url) = (&http, gupy.url());
            async move {
                let email = format!("bench{n}@example.com");
                let body =
                    json!({"candidate": {"name": "Bench", "lastName": "Mark", "email": email}});
                let app = post(http, format!("{url}/_sim/jobs/{job}/applications"), body).await?;
                Ok::<_, anyhow::Error>((app["id"].as_i64().context("application id")?, email))
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    // Latency applies from here: the suite answers every call 20 ms late.
    post(
        &http,
        format!("{}/_sim/faults", suite.base_url()),
        json!({"latency_ms": LATENCY_MS}),
    )
    .await?;

    // The applications' `created` events are work of the setup: let it finish first.
    while unfinished_jobs(&state.db).await? > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let calls_before = partner_calls(&suite, &gupy);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let mut moved_at: HashMap<String, Instant> = HashMap::with_capacity(count);
    for (id, email) in &applications {
        gupy.state
            .move_application(*id, "Video interview")
            .map_err(|error| anyhow::anyhow!("moving application {id}: {error:?}"))?;
        moved_at.insert(email.clone(), Instant::now());
    }

    // Each invitation is completed as soon as it is seen.
    let mut move_latencies = Vec::with_capacity(count);
    let mut invited_at: HashMap<String, SystemTime> = HashMap::with_capacity(count);
    let deadline = Instant::now() + Duration::from_secs(1_800);
    // Invitation ids sort in creation order: each poll reads only the new ones.
    let mut last_seen: Option<String> = None;
    while invited_at.len() < count {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} invitations after 30 minutes",
            invited_at.len()
        );
        let mut new_invitations = Vec::new();
        {
            let store = suite.sim().store();
            let from = match &last_seen {
                Some(id) => Bound::Excluded(id.clone()),
                None => Bound::Unbounded,
            };
            for (id, invitation) in store.invitations.range((from, Bound::Unbounded)) {
                last_seen = Some(id.clone());
                if let Some(candidate) = store.candidates.get(&invitation.candidate_id)
                    && let Some(at) = moved_at.get(&candidate.email)
                    && invited_at
                        .insert(candidate.email.clone(), SystemTime::now())
                        .is_none()
                {
                    move_latencies.push(at.elapsed());
                    new_invitations.push(id.clone());
                }
            }
        }
        for id in new_invitations {
            let review = ReviewIn {
                score: 90,
                recommendation: Recommendation::Advance,
                comment: "ok".to_owned(),
            };
            suite
                .sim()
                .complete_invitation(&id, vec![review])
                .map_err(|error| anyhow::anyhow!("completing invitation {id}: {error:?}"))?;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let invited_in = started.elapsed();

    loop {
        let tagged = gupy.state.tagged_applications();
        if tagged >= count {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {tagged} write-backs after 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let total = started.elapsed();
    let cpu = cpu_seconds() - cpu_before;
    let calls = partner_calls(&suite, &gupy);
    let work = work_done(&state.db).await?;
    shutdown.cancel();

    let webhook_latencies = webhook_to_invitation(&state.db, &applications, &invited_at).await?;
    let rate = count as f64 / total.as_secs_f64();
    println!("applications:                 {count}");
    println!("suite latency per call:       {LATENCY_MS} ms");
    println!(
        "all invited after:            {:.1} s",
        invited_in.as_secs_f64()
    );
    println!("all tagged after (total):     {:.1} s", total.as_secs_f64());
    println!("applications per second:      {rate:.0} (move -> invitation -> result -> tag)");
    let (p50, p99) = percentiles(webhook_latencies);
    println!("webhook -> invitation p50 / p99: {p50:?} / {p99:?} (sampled every 50 ms)");
    let (p50, p99) = percentiles(move_latencies);
    println!("move -> invitation p50 / p99: {p50:?} / {p99:?} (Gupy's delivery queue included)");
    let per_app = |n: f64| n / count as f64;
    println!(
        "CPU per application:          {:.2} ms (process total {cpu:.1} s; load average {})",
        cpu * 1_000.0 / count as f64,
        load_average()
    );
    println!(
        "per application:              {:.2} suite calls, {:.2} Gupy calls",
        per_app((calls.0 - calls_before.0) as f64),
        per_app((calls.1 - calls_before.1) as f64)
    );
    for (what, n) in work {
        println!("  {what:<28}{:.2}", per_app(n as f64));
    }
    Ok(rate)
}

fn percentiles(mut latencies: Vec<Duration>) -> (Duration, Duration) {
    latencies.sort();
    let pick = |q: f64| {
        let index = ((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(index).copied().unwrap_or_default()
    };
    (pick(0.50), pick(0.99))
}

/// For each application, from the moment Liaison stored its `application.moved` webhook
/// (`inbox_events.received_at`) to the moment its invitation was seen in the suite.
async fn webhook_to_invitation(
    db: &DatabaseConnection,
    applications: &[(i64, String)],
    invited_at: &HashMap<String, SystemTime>,
) -> anyhow::Result<Vec<Duration>> {
    let sql =
        "SELECT subject, received_at FROM inbox_events WHERE event_type = 'application.moved'";
    let statement = Statement::from_string(db.get_database_backend(), sql);
    let mut received: HashMap<String, i64> = HashMap::new();
    for row in db.query_all_raw(statement).await? {
        let subject: String = row.try_get_by_index(0)?;
        received.insert(subject, row.try_get_by_index(1)?);
    }
    let mut latencies = Vec::with_capacity(applications.len());
    for (id, email) in applications {
        let (Some(at), Some(invited)) = (
            received.get(&format!("application:{id}")),
            invited_at.get(email),
        ) else {
            continue;
        };
        let invited_ms = invited.duration_since(UNIX_EPOCH)?.as_millis() as i64;
        latencies.push(Duration::from_millis((invited_ms - at).max(0) as u64));
    }
    Ok(latencies)
}

/// CPU seconds (user + system) of this process so far, all threads.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and
    // 13th, in clock ticks (100 per second on Linux).
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `/v1` calls the suite simulator answered and API calls the Gupy simulator answered.
fn partner_calls(suite: &suite::RunningSuiteSim, gupy: &gupy::RunningGupySim) -> (u64, u64) {
    let suite_calls = suite
        .sim()
        .store()
        .counters
        .calls
        .iter()
        .filter(|(route, _)| route.contains(" /v1/"))
        .map(|(_, n)| n)
        .sum();
    let gupy_calls = gupy
        .state
        .api_calls()
        .iter()
        .filter(|(route, _)| !route.contains("/_sim"))
        .map(|(_, n)| n)
        .sum();
    (suite_calls, gupy_calls)
}

async fn unfinished_jobs(db: &DatabaseConnection) -> anyhow::Result<i64> {
    let sql = "SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'running')";
    let statement = Statement::from_string(db.get_database_backend(), sql);
    let row = db.query_one_raw(statement).await?.context("count")?;
    Ok(row.try_get_by_index(0)?)
}

/// Events stored by type, jobs, and job attempts by outcome (setup included).
async fn work_done(db: &DatabaseConnection) -> anyhow::Result<Vec<(String, i64)>> {
    let queries = [
        (
            "event ",
            "SELECT event_type, COUNT(*) FROM inbox_events GROUP BY event_type",
        ),
        ("jobs ", "SELECT status, COUNT(*) FROM jobs GROUP BY status"),
        (
            "attempts ",
            "SELECT outcome, COUNT(*) FROM job_attempts GROUP BY outcome",
        ),
    ];
    let mut rows = Vec::new();
    for (prefix, sql) in queries {
        let statement = Statement::from_string(db.get_database_backend(), sql);
        for row in db.query_all_raw(statement).await? {
            let name: String = row.try_get_by_index(0)?;
            let n: i64 = row.try_get_by_index(1)?;
            rows.push((format!("{prefix}{name}"), n));
        }
    }
    Ok(rows)
}
