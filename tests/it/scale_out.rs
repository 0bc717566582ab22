//! The scale-out deployment on PostgreSQL: two `liaison serve --no-workers` and two
//! `liaison worker` processes over one database. The Gupy simulator has one subscription per web
//! process, so every event reaches both at once (and some twice more, by its duplicate fault).
//! At the end each event is stored once, each application has exactly one candidate and one
//! invitation at the suite, and nothing is dead-lettered.
//!
//! Skipped, with a note, without `LIAISON_TEST_DATABASE_URL` (SQLite has one writer: no
//! scale-out). `LIAISON_SCALE_OUT_APPLICATIONS` changes the count (default 300).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt as _;
use liaison::ats::gupy::{GupyClient, subscriptions};
use liaison::ats::http_client::shared_client;
use liaison::config::generate_master_key;
use liaison::crypto::MasterKey;
use liaison::queue;
use liaison::store::entities::inbox_event;
use liaison::tenant;
use liaison_sim::gupy::{self, GupySimConfig};
use liaison_sim::suite::{self, SuiteSimConfig};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::TestDb;
use crate::sync_world::{object_values, tenant_file};

fn applications() -> usize {
    std::env::var("LIAISON_SCALE_OUT_APPLICATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

/// What every Liaison process of this deployment shares.
struct Deployment {
    database_url: String,
    master_key: String,
}

impl Deployment {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_liaison"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LIAISON_DATABASE_URL", &self.database_url)
            .env("LIAISON_MASTER_KEY", &self.master_key)
            .env("LIAISON_QUEUE_BASE_BACKOFF_MS", "20")
            .env("LIAISON_QUEUE_MAX_BACKOFF_SECONDS", "2")
            .env("LIAISON_QUEUE_IDLE_POLL_MS", "50")
            .env("LIAISON_LOG", "error")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str]) {
        let output = self.command(args).output().await.expect("run liaison");
        assert!(
            output.status.success(),
            "liaison {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `liaison serve --no-workers` on a free loopback port, once it answers `/readyz`.
    async fn start_web(&self, http: &reqwest::Client) -> (Child, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let mut child = self
            .command(&["serve", "--no-workers"])
            .env("LIAISON_BIND", format!("127.0.0.1:{port}"))
            .env("LIAISON_PUBLIC_URL", &url)
            .spawn()
            .expect("start a web process");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = http.get(format!("{url}/readyz")).send().await
                && response.status().is_success()
            {
                return (child, url);
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the web process on {url} exited: {status}");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the web process on {url} never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `liaison worker`; `public_url` is the deployment's (its scheduler checks the ATS's
    /// subscriptions against it).
    fn start_worker(&self, public_url: &str) -> Child {
        self.command(&["worker"])
            .env("LIAISON_PUBLIC_URL", public_url)
            .env("LIAISON_WORKERS", "16")
            .spawn()
            .expect("start a worker process")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_web_and_two_worker_processes_apply_every_event_exactly_once() {
    if std::env::var("LIAISON_TEST_DATABASE_URL").map_or(true, |url| url.is_empty()) {
        eprintln!("scale_out: skipped, it needs PostgreSQL (set LIAISON_TEST_DATABASE_URL)");
        return;
    }
    let count = applications();
    let http = reqwest::Client::new();
    let database = TestDb::new().await;
    let deployment = Deployment {
        database_url: database.url.expose().to_owned(),
        master_key: generate_master_key(),
    };
    let retries = vec![
        Duration::from_millis(50),
        Duration::from_millis(200),
        Duration::from_secs(1),
        Duration::from_secs(2),
    ];
    let suite = suite::spawn(
        "127.0.0.1:0".parse().expect("addr"),
        SuiteSimConfig::default(),
    )
    .await
    .expect("suite simulator");
    let gupy = gupy::spawn(
        "127.0.0.1:0".parse().expect("addr"),
        GupySimConfig {
            retry_schedule: retries,
            ..GupySimConfig::default()
        },
    )
    .await
    .expect("gupy simulator");

    // Arrange the deployment as an operator would: migrate, apply the tenant, start processes.
    deployment.run(&["migrate"]).await;
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        file.path(),
        tenant_file("acme", &gupy.url(), &suite.base_url(), "tags"),
    )
    .expect("write the tenant file");
    deployment
        .run(&["tenant", "apply", file.path().to_str().expect("utf-8")])
        .await;
    let (_web_a, url_a) = deployment.start_web(&http).await;
    let (_web_b, url_b) = deployment.start_web(&http).await;
    let _workers = [
        deployment.start_worker(&url_a),
        deployment.start_worker(&url_a),
    ];

    // One Gupy subscription per web process: every event goes to both.
    let key = MasterKey::from_base64(&deployment.master_key).expect("key");
    let acme = tenant::find(&database.db, &key, "acme")
        .await
        .expect("read the tenant")
        .expect("the tenant");
    let client = GupyClient::for_tenant(shared_client(), &acme).expect("gupy client");
    for url in [&url_a, &url_b] {
        subscriptions::ensure_subscriptions(&client, &acme, url)
            .await
            .expect("subscribe");
    }
    let gupy_post = |path: String, body: Value| {
        let request = http.post(format!("{}{path}", gupy.url())).json(&body);
        async move {
            let response = request.send().await.expect("gupy simulator");
            assert!(response.status().is_success(), "{path}");
            response.json::<Value>().await.expect("json")
        }
    };
    gupy_post("/_sim/faults".into(), json!({"duplicate_rate": 0.2})).await;

    // Act: a burst of applications, all moved to the interview step.
    let job = gupy_post(
        "/_sim/jobs".into(),
        json!({"name": "Scale-out engineer", "description": "d", "status": "published"}),
    )
    .await["id"]
        .as_i64()
        .expect("job id");
    let ids: Vec<i64> = futures::stream::iter(0..count)
        .map(|n| {
            gupy_post(
                format!("/_sim/jobs/{job}/applications"),
                json!({"candidate": {"name": "Ana", "lastName": "Lima",
                                     "email": format!("candidate{n}@example.com")}}),
            )
        })
        .buffer_unordered(16)
        .map(|application| application["id"].as_i64().expect("application id"))
        .collect()
        .await;
    futures::stream::iter(ids.iter().copied())
        .for_each_concurrent(16, |id| {
            let moved = gupy_post(
                format!("/_sim/applications/{id}/move"),
                json!({"step": "Video interview"}),
            );
            async move {
                moved.await;
            }
        })
        .await;

    // Wait for every invitation, every delivery answered, and an idle queue.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    loop {
        let invitations = object_values(&suite.sim().snapshot()["invitations"]).len();
        let deliveries_settled = gupy.state.snapshot()["deliveries"]
            .as_array()
            .is_some_and(|all| all.iter().all(|d| d["status"] != "pending"));
        let depth = queue::depth(&database.db).await.expect("queue depth");
        if invitations >= count && deliveries_settled && depth.pending == 0 && depth.running == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out: {invitations}/{count} invitations, deliveries settled: \
             {deliveries_settled}, queue {depth:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Assert: each event stored once, whichever process it reached first.
    let gupy_state = gupy.state.snapshot();
    let deliveries = gupy_state["deliveries"].as_array().expect("deliveries");
    let mut urls = HashSet::new();
    let mut accepted: HashMap<&str, usize> = HashMap::new();
    for delivery in deliveries {
        assert_eq!(delivery["status"], "delivered", "{delivery}");
        urls.insert(delivery["postbackUrl"].as_str().expect("url"));
        let accepts = delivery["attempts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["status"] == 202)
            .count();
        *accepted
            .entry(delivery["eventId"].as_str().expect("event id"))
            .or_default() += accepts;
    }
    assert_eq!(urls.len(), 2, "both web processes received deliveries");
    assert!(
        accepted.values().all(|n| *n <= 1),
        "an event was accepted twice"
    );
    let stored = inbox_event::Entity::find()
        .filter(inbox_event::Column::TenantId.eq(acme.id.0))
        .filter(inbox_event::Column::Source.eq("ats"))
        .all(&database.db)
        .await
        .expect("inbox");
    let stored_ids: HashSet<&str> = stored.iter().map(|e| e.delivery_id.as_str()).collect();
    assert_eq!(stored_ids.len(), stored.len(), "one row per delivery id");
    let emitted: HashSet<&str> = accepted.keys().copied().collect();
    assert_eq!(stored_ids, emitted, "every event stored, once");

    // Every effect exactly once at the suite, nothing dead.
    let suite_state = suite.sim().snapshot();
    let candidates = object_values(&suite_state["candidates"]);
    let invitations = object_values(&suite_state["invitations"]);
    assert_eq!(candidates.len(), count, "one candidate per application");
    assert_eq!(invitations.len(), count, "one invitation per application");
    let per_candidate: HashSet<String> = invitations
        .iter()
        .map(|i| i["candidate_id"].to_string())
        .collect();
    assert_eq!(per_candidate.len(), count, "one invitation per candidate");
    let depth = queue::depth(&database.db).await.expect("queue depth");
    assert_eq!(
        (depth.pending, depth.running, depth.dead),
        (0, 0, 0),
        "{depth:?}"
    );
}
