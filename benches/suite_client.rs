//! Throughput of the suite client against the simulator with 20 ms of simulated latency:
//! 10,000 operations (half creates with an Idempotency-Key, half reads) at the default
//! concurrency, printing operations per second and p50/p99 latency.
//!
//! `cargo bench --bench suite_client`. Not a test: it asserts nothing but prints the figures
//! and exits non-zero below 1,000 operations per second.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use liaison::config::SuiteClientSettings;
use liaison::suite::{
    CreateCandidateRequest, CreateProjectRequest, OperationKey, SuiteClient, build_http_client,
};
use liaison::tenant::{SuiteAuth, SuiteSettings};
use liaison_sim::suite::{SuiteSimConfig, spawn};
use secrecy::SecretString;

const OPERATIONS: usize = 10_000;
const LATENCY_MS: u64 = 20;
const TARGET_OPS_PER_SECOND: f64 = 1_000.0;

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
        Ok(ops_per_second) if ops_per_second >= TARGET_OPS_PER_SECOND => ExitCode::SUCCESS,
        Ok(_) => {
            eprintln!("below the target of {TARGET_OPS_PER_SECOND} operations per second");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("benchmark failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<f64> {
    let bind: SocketAddr = "127.0.0.1:0".parse()?;
    let sim = spawn(bind, SuiteSimConfig::default()).await?;
    let settings = SuiteClientSettings::default();
    let http = build_http_client(&settings)?;
    let suite = SuiteSettings {
        base_url: sim.base_url(),
        app_url: None,
        auth: SuiteAuth::ClientCredentials,
        client_id: "liaison".to_owned(),
        client_secret: Some(SecretString::from("liaison-secret".to_owned())),
        webhook_secret: None,
    };
    let client = SuiteClient::new(http.clone(), "bench", &suite, &settings, None)?;
    let project = client
        .create_project(
            &OperationKey::new("bench", "project", "seed"),
            &CreateProjectRequest {
                title: "Benchmark".to_owned(),
                ..CreateProjectRequest::default()
            },
        )
        .await?;
    let project_id = project.id().to_owned();
    http.post(format!("{}/_sim/faults", sim.base_url()))
        .json(&serde_json::json!({ "latency_ms": LATENCY_MS }))
        .send()
        .await?
        .error_for_status()?;

    let started = Instant::now();
    let outcomes: Vec<anyhow::Result<Duration>> = futures::stream::iter(0..OPERATIONS)
        .map(|n| {
            let (client, project_id) = (&client, &project_id);
            async move {
                let began = Instant::now();
                if n % 2 == 0 {
                    let request = CreateCandidateRequest {
                        external_ref: Some(format!("application-{n}")),
                        first_name: "Bench".to_owned(),
                        last_name: n.to_string(),
                        email: format!("bench{n}@example.com"),
                        phone: None,
                        locale: "en".to_owned(),
                    };
                    let key = OperationKey::new("bench", "candidate", n.to_string());
                    client.create_candidate(&key, &request).await?;
                } else {
                    client.get_project(project_id).await?;
                }
                Ok(began.elapsed())
            }
        })
        .buffer_unordered(settings.max_concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();

    let mut latencies = outcomes.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    latencies.sort_unstable();
    let percentile =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ops_per_second = OPERATIONS as f64 / elapsed.as_secs_f64();
    println!(
        "suite_client: {OPERATIONS} operations in {:.2} s at concurrency {} with {LATENCY_MS} ms \
         simulated latency: {ops_per_second:.0} ops/s, p50 {:.1} ms, p99 {:.1} ms",
        elapsed.as_secs_f64(),
        settings.max_concurrency,
        percentile(0.50).as_secs_f64() * 1e3,
        percentile(0.99).as_secs_f64() * 1e3,
    );
    sim.shutdown().await?;
    Ok(ops_per_second)
}
