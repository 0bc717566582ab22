//! The Lever flow under chaos: opportunities moved to the interview stage with duplicate and
//! shuffled deliveries, Lever and the suite failing 20% of calls, and the worker processes killed
//! with SIGKILL and restarted three times mid-run. At the end every opportunity has one
//! candidate, one invitation and the pass tag, no note was written twice, no job is stuck and
//! none is dead.
//!
//! `LIAISON_LEVER_CHAOS_OPPORTUNITIES` changes the count (default 300).

use std::time::Duration;

use futures::StreamExt as _;
use liaison::queue;
use liaison_sim::lever::LeverSimConfig;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use super::{LeverWorld, PASS};
use crate::sync_world::object_values;

fn opportunities() -> usize {
    std::env::var("LIAISON_LEVER_CHAOS_OPPORTUNITIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

fn spawn_worker(world: &LeverWorld) -> Child {
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

async fn wait_for(world: &LeverWorld, what: &str, done: impl Fn(&LeverWorld) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while !done(world) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}; depth {:?}",
            queue::depth(world.app.db()).await.ok()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn wait_for_idle_queue(world: &LeverWorld) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let depth = queue::depth(world.app.db()).await.expect("depth");
        if depth.pending == 0 && depth.running == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue never drained: {depth:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn kill_and_restart(world: &LeverWorld, workers: &mut Vec<Child>) {
    let count = workers.len();
    for worker in workers.iter_mut() {
        worker.start_kill().expect("SIGKILL");
        let _ = worker.wait().await;
    }
    *workers = (0..count).map(|_| spawn_worker(world)).collect();
}

fn tagged(world: &LeverWorld) -> usize {
    object_values(&world.lever.state.snapshot()["world"]["opportunities"])
        .iter()
        .filter(|o| o["tags"].as_array().is_some_and(|t| !t.is_empty()))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lever_opportunities_survive_duplicates_reordering_faults_and_kills() {
    let count = opportunities();
    // Lever's bucket scaled up on both sides so the run is about faults, not waiting.
    let sim = LeverSimConfig {
        requests_per_second: 400.0,
        burst: 800.0,
        ..LeverSimConfig::default()
    };
    let world = LeverWorld::with(true, sim, "requests_per_second = 300\nburst = 600").await;
    let processes = if world.app.database.url.is_postgres() {
        2
    } else {
        1
    };
    let posting = world
        .lever_post("/_sim/postings", json!({"text": "Chaos engineer"}))
        .await;
    let ids: Vec<String> = futures::stream::iter(0..count)
        .map(|n| {
            let world = &world;
            let posting = posting["id"].clone();
            async move {
                let created = world
                    .lever_post(
                        "/_sim/opportunities",
                        json!({"name": format!("Candidate {n}"),
                               "email": format!("candidate{n}@example.com"), "posting": posting}),
                    )
                    .await;
                created["id"].as_str().expect("id").to_owned()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    world
        .lever_post(
            "/_sim/faults",
            json!({"duplicate_rate": 0.3, "shuffle": true, "error_rate": 0.2, "status": 503}),
        )
        .await;
    world
        .suite_post("/_sim/faults", json!({"error_rate": 0.2, "status": 503}))
        .await;
    let mut workers: Vec<Child> = (0..processes).map(|_| spawn_worker(&world)).collect();

    futures::stream::iter(ids.iter())
        .for_each_concurrent(16, |id| {
            let world = &world;
            async move { world.move_to(id, "Video interview").await }
        })
        .await;
    for fraction in [4, 2] {
        wait_for(&world, "invitations to progress", |w| {
            w.invitations().len() >= count / fraction
        })
        .await;
        kill_and_restart(&world, &mut workers).await;
    }
    wait_for(&world, "every invitation", |w| {
        w.invitations().len() >= count
    })
    .await;
    wait_for_idle_queue(&world).await;

    let invitation_ids: Vec<String> = world
        .invitations()
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_owned))
        .collect();
    futures::stream::iter(invitation_ids)
        .for_each_concurrent(16, |id| {
            let world = &world;
            async move {
                for _ in 0..50 {
                    let sent = world
                        .http
                        .post(format!(
                            "{}/_sim/invitations/{id}/complete",
                            world.suite.base_url()
                        ))
                        .json(
                            &json!({"reviews": [{"score": 90, "recommendation": "advance",
                                                   "comment": "ok"}]}),
                        )
                        .send()
                        .await;
                    if sent.is_ok_and(|r| r.status().is_success()) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                panic!("completing {id} kept failing");
            }
        })
        .await;
    wait_for(&world, "write-backs to progress", |w| {
        tagged(w) >= count / 2
    })
    .await;
    kill_and_restart(&world, &mut workers).await;
    wait_for(&world, "every write-back", |w| tagged(w) >= count).await;
    wait_for_idle_queue(&world).await;
    drop(workers);

    let suite = world.suite.sim().snapshot();
    assert_eq!(object_values(&suite["candidates"]).len(), count);
    assert_eq!(object_values(&suite["invitations"]).len(), count);
    let lever = world.lever.state.snapshot();
    for id in &ids {
        let opportunity = &lever["world"]["opportunities"][id];
        assert_eq!(opportunity["tags"], json!([PASS]), "{opportunity}");
        let notes: Vec<&str> = opportunity["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n: &Value| n["value"].as_str())
            .collect();
        let invited = notes
            .iter()
            .filter(|n| n.contains("invitation sent"))
            .count();
        let results = notes.iter().filter(|n| n.contains("result")).count();
        assert!(
            invited <= 1 && results <= 1,
            "a note written twice: {notes:?}"
        );
    }
    let depth = queue::depth(world.app.db()).await.expect("depth");
    let dead: Vec<(String, i32, Option<String>)> =
        queue::dead_letters(world.app.db(), None, None, 10)
            .await
            .expect("dead letters")
            .into_iter()
            .map(|job| (job.flow, job.attempts, job.last_error))
            .collect();
    assert_eq!(
        (depth.pending, depth.running, depth.dead),
        (0, 0, 0),
        "{depth:?}; dead: {dead:?}"
    );
}
