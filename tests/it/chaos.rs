//! The sync engine under chaos: 2,000 applications moved to the interview step with duplicate and
//! shuffled deliveries, a suite failing 20% of calls and rate limiting, and the worker processes
//! killed with SIGKILL and restarted three times mid-run. On PostgreSQL two worker processes share
//! the work. At the end every application has exactly one candidate and one invitation, every
//! completed interview exactly one write-back, no job is stuck and none is dead.
//!
//! `LIAISON_CHAOS_APPLICATIONS` changes the count (default 2,000).

use std::time::Duration;

use futures::StreamExt as _;
use liaison::queue;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::sync_world::{World, object_values};

fn applications() -> usize {
    std::env::var("LIAISON_CHAOS_APPLICATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

fn spawn_worker(world: &World) -> Child {
    Command::new(env!("CARGO_BIN_EXE_liaison"))
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", world.app.database.url.expose())
        .env("LIAISON_MASTER_KEY", &world.app.master_key_text)
        .env("LIAISON_PUBLIC_URL", &world.app.state.settings.public_url)
        .env("LIAISON_WORKERS", "32")
        .env("LIAISON_QUEUE_LEASE_SECONDS", "3")
        .env("LIAISON_QUEUE_BASE_BACKOFF_MS", "20")
        .env("LIAISON_QUEUE_MAX_BACKOFF_SECONDS", "2")
        .env("LIAISON_QUEUE_MAX_ATTEMPTS", "40")
        .env("LIAISON_QUEUE_IDLE_POLL_MS", "50")
        .env("LIAISON_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .expect("start a worker process")
}

async fn wait_for(world: &World, what: &str, timeout: Duration, done: impl Fn(&World) -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !done(world) {
        if tokio::time::Instant::now() >= deadline {
            panic!(
                "timed out waiting for {what}; depth {:?}; unfinished {:#?}",
                queue::depth(world.app.db()).await.ok(),
                world
                    .unfinished_jobs()
                    .await
                    .into_iter()
                    .take(10)
                    .collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn queue_is_idle(world: &World) -> bool {
    queue::depth(world.app.db())
        .await
        .map(|d| d.pending == 0 && d.running == 0)
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_applications_survive_duplicates_reordering_outages_and_kills() {
    let count = applications();
    let world = World::new("tags").await;
    let processes = if world.app.database.url.is_postgres() {
        2
    } else {
        1
    };
    let job = world.publish_job("Chaos engineer").await;

    world
        .gupy_post(
            "/_sim/faults",
            json!({"duplicate_rate": 0.3, "shuffle": true}),
        )
        .await;
    world
        .suite_post(
            "/_sim/faults",
            json!({"error_rate": 0.2, "status": 503, "rate_limit_every": 50}),
        )
        .await;

    let mut workers: Vec<Child> = (0..processes).map(|_| spawn_worker(&world)).collect();

    let ids: Vec<i64> = futures::stream::iter(0..count)
        .map(|n| {
            let world = &world;
            async move {
                world
                    .apply_to(job, &format!("candidate{n}@example.com"))
                    .await
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    futures::stream::iter(ids.iter().copied())
        .for_each_concurrent(16, |id| {
            let world = &world;
            async move { world.move_to(id, "Video interview").await }
        })
        .await;

    // Kill every worker process three times while invitations are being created.
    for fraction in [4, 2] {
        let target = count / fraction;
        wait_for(
            &world,
            "invitations to progress",
            Duration::from_secs(300),
            |w| w.invitations().len() >= target,
        )
        .await;
        for worker in &mut workers {
            worker.start_kill().expect("SIGKILL");
            let _ = worker.wait().await;
        }
        workers = (0..processes).map(|_| spawn_worker(&world)).collect();
    }
    wait_for(&world, "every invitation", Duration::from_secs(600), |w| {
        w.invitations().len() >= count
    })
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    while !queue_is_idle(&world).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue never drained"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let suite = world.suite_state();
    let invitations = object_values(&suite["invitations"]);
    let candidates = object_values(&suite["candidates"]);
    assert_eq!(candidates.len(), count, "one candidate per application");
    assert_eq!(invitations.len(), count, "one invitation per application");
    let mut per_candidate = std::collections::HashMap::new();
    for invitation in &invitations {
        *per_candidate
            .entry(invitation["candidate_id"].to_string())
            .or_insert(0) += 1;
    }
    assert!(per_candidate.values().all(|n| *n == 1));

    // Interviews complete; the third kill lands while results are being written back.
    let invitation_ids: Vec<String> = invitations
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_owned))
        .collect();
    futures::stream::iter(invitation_ids)
        .for_each_concurrent(16, |id| {
            let world = &world;
            async move {
                world
                    .suite_post_retrying(
                        &format!("/_sim/invitations/{id}/complete"),
                        json!({"reviews": [{"score": 90, "recommendation": "advance", "comment": "ok"}]}),
                    )
                    .await;
            }
        })
        .await;
    let tagged = |w: &World| {
        let state = w.gupy_state();
        object_values(&state["world"]["applications"])
            .iter()
            .filter(|a| a["tags"].as_array().is_some_and(|t| !t.is_empty()))
            .count()
    };
    wait_for(
        &world,
        "write-backs to progress",
        Duration::from_secs(300),
        |w| tagged(w) >= count / 2,
    )
    .await;
    for worker in &mut workers {
        worker.start_kill().expect("SIGKILL");
        let _ = worker.wait().await;
    }
    workers = (0..processes).map(|_| spawn_worker(&world)).collect();
    wait_for(&world, "every write-back", Duration::from_secs(600), |w| {
        tagged(w) >= count
    })
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    while !queue_is_idle(&world).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue never drained"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(workers);

    // One snapshot for every check: the simulator's state is large by now.
    let gupy = world.gupy_state();
    for id in &ids {
        let record = &gupy["world"]["applications"][id.to_string()];
        let tags: Vec<&str> = record["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().or_else(|| t["name"].as_str()))
            .collect();
        assert_eq!(tags, ["Apto"], "application {id}: {record}");
        assert_eq!(record["comments"], json!([]), "application {id}");
    }
    let depth = queue::depth(world.app.db()).await.expect("depth");
    assert_eq!(
        (depth.pending, depth.running, depth.dead),
        (0, 0, 0),
        "{depth:?}"
    );
    assert_eq!(
        object_values(&world.suite_state()["invitations"]).len(),
        count
    );
}
