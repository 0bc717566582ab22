//! Renders per second and latency of the job page with a warm cache: the whole request path
//! (router, middleware, session check, tenant and equivalence lookups on SQLite, the page cache,
//! the askama render and the security headers) driven in-process with `tower::ServiceExt::oneshot`
//! by a few concurrent tasks on a 2-worker runtime, for a fixed time.
//!
//! `cargo bench --bench embed_pages`. Not a test: it prints the figures and exits non-zero
//! below 5,000 renders per second or at a p99 of 5 ms or more.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt as _;
use liaison::App;
use liaison::config::{DatabaseUrl, Settings, SuiteClientSettings, generate_master_key};
use liaison::crypto::MasterKey;
use liaison::equivalence::{self, EntityKind};
use liaison::suite::{
    CreateProjectRequest, OperationKey, QuestionRequest, SuiteClient, build_http_client,
};
use liaison::tenant::{self, SuiteAuth, SuiteSettings, TenantConfig};
use liaison_sim::suite::{SuiteSimConfig, spawn};
use secrecy::SecretString;
use tower::ServiceExt as _;

const RUN_FOR: Duration = Duration::from_secs(8);
const CONCURRENCY: usize = 4;
const TARGET_RENDERS_PER_SECOND: f64 = 5_000.0;
const TARGET_P99: Duration = Duration::from_millis(5);

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
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
        Ok((rate, p99)) if rate >= TARGET_RENDERS_PER_SECOND && p99 < TARGET_P99 => {
            ExitCode::SUCCESS
        }
        Ok(_) => {
            eprintln!("below target: {TARGET_RENDERS_PER_SECOND} renders/s, p99 < {TARGET_P99:?}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("benchmark failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<(f64, Duration)> {
    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    ));
    let db = liaison::store::connect(&url).await?;
    liaison::store::migrate(&db).await?;
    let key_text = generate_master_key();
    let key = MasterKey::from_base64(&key_text)?;
    let suite = spawn("127.0.0.1:0".parse()?, SuiteSimConfig::default()).await?;

    let tenant_file = format!(
        "slug = \"acme\"\nname = \"Acme\"\n[ats]\nkind = \"gupy\"\nbase_url = \"http://127.0.0.1:9\"\n\
         token = \"t\"\nwebhook_secret = \"w\"\n[suite]\nbase_url = \"{}\"\nclient_id = \"liaison\"\n\
         client_secret = \"liaison-secret\"\n[embed]\nlaunch_secret = \"bench-launch-secret-of-32-bytes-or-more\"\n\
         frame_ancestors = [\"https://ats.example.com\"]\n",
        suite.base_url()
    );
    let config = TenantConfig::from_toml(&tenant_file)?;
    let (tenant_id, _) = tenant::apply(&db, &key, &config).await?;

    let client_settings = SuiteClientSettings::default();
    let client = SuiteClient::new(
        build_http_client(&client_settings)?,
        "acme",
        &SuiteSettings {
            base_url: suite.base_url(),
            app_url: None,
            auth: SuiteAuth::ClientCredentials,
            client_id: "liaison".to_owned(),
            client_secret: Some(SecretString::from("liaison-secret".to_owned())),
            webhook_secret: None,
        },
        &client_settings,
        None,
    )?;
    let project = client
        .create_project(
            &OperationKey::new("acme", "bench", "project"),
            &CreateProjectRequest {
                title: "Benchmark role".to_owned(),
                language: "en".to_owned(),
                ..Default::default()
            },
        )
        .await?;
    let questions: Vec<_> = (1..=6)
        .map(|n| QuestionRequest {
            text: format!("Question number {n}, about something that matters"),
            thinking_seconds: 30,
            answer_seconds: 120,
            retakes: 1,
        })
        .collect();
    client.replace_questions(project.id(), &questions).await?;
    equivalence::link(&db, tenant_id, EntityKind::Job, "42", project.id()).await?;

    let mut settings = Settings::defaults();
    settings.database_url = url;
    settings.bind = "127.0.0.1:0".to_owned();
    settings.master_key = Some(SecretString::from(key_text));
    let app = App::build_with_db(settings, db).await?;
    let router = liaison::http::router(app.state().clone());

    // A launch starts the session the page's forms carry (its redirect hands it over once);
    // the first render warms the cache.
    let launch = launch_token()?;
    let launched = router
        .clone()
        .oneshot(Request::get(format!("/embed/acme/jobs/42?launch={launch}")).body(Body::empty())?)
        .await?;
    anyhow::ensure!(launched.status() == 303, "status {}", launched.status());
    let handoff = launched
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| anyhow::anyhow!("no redirect after the launch"))?
        .to_owned();
    let first = get(&router, &handoff).await?;
    let marker = "name=\"s\" value=\"";
    let start = first
        .find(marker)
        .ok_or_else(|| anyhow::anyhow!("no session in the page"))?
        + marker.len();
    let session: String = first[start..].chars().take_while(|c| *c != '"').collect();
    let path = Arc::new(format!("/embed/acme/jobs/42?s={session}"));
    let warm = get(&router, &path).await?;
    anyhow::ensure!(
        warm.contains("Benchmark role"),
        "the page does not show the project"
    );

    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let router = router.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(50_000);
            while started.elapsed() < RUN_FOR {
                let began = Instant::now();
                get(&router, &path).await?;
                latencies.push(began.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let (p50, p99) = (at(0.50), at(0.99));
    println!(
        "embed job page, warm cache, {CONCURRENCY} concurrent, 2 workers: {} renders in {:.1} s = {rate:.0} renders/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
    suite.shutdown().await?;
    Ok((rate, p99))
}

fn launch_token() -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({"aud": "liaison", "tenant": "acme", "sub": "u1",
        "email": "bench@acme.test", "iat": now, "exp": now + 300});
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"bench-launch-secret-of-32-bytes-or-more"),
    )?)
}

async fn get(router: &axum::Router, path: &str) -> anyhow::Result<String> {
    let response = router
        .clone()
        .oneshot(Request::get(path).body(Body::empty())?)
        .await?;
    anyhow::ensure!(response.status() == 200, "status {}", response.status());
    let body = response.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8_lossy(&body).into_owned())
}
