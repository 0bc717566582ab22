//! Lever's rate limit seen from both sides: Liaison keeps under the token bucket (the simulator
//! counts requests per second and answers 429 beyond it), also with two processes sharing the
//! budget through the database, and a 429's `Retry-After` holds the tenant's calls back.

use std::time::Duration;

use liaison::ats::lever::LeverAdapter;
use liaison::ats::shared::AtsShared;
use liaison::ats::{AdapterError, ApplicationRef, AtsAdapter, WriteBack, adapter_for};
use liaison::store::entities::job;
use liaison::tenant::AtsKind;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::{LeverWorld, PASS};
use crate::inbound_support::inbox;
use crate::support::wait_until;

#[tokio::test]
async fn a_burst_of_write_backs_stays_within_lever_s_token_bucket() {
    let world = LeverWorld::new(false).await;
    let opportunity = world.applicant("burst@example.com").await;
    let adapter = adapter_for(AtsKind::Lever);
    let application = ApplicationRef {
        ats_job_id: String::new(),
        ats_application_id: opportunity.clone(),
    };
    let notes: Vec<WriteBack> = (0..45)
        .map(|n| WriteBack::Comment {
            text: format!("note {n}"),
            score: None,
        })
        .collect();

    let results = futures::future::join_all(
        notes
            .iter()
            .map(|note| adapter.write_back(&world.tenant, &application, note)),
    )
    .await;

    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(world.lever.state.rate_limited(), 0);
    // A full bucket (20) plus one second of refill (10) at most, in any second.
    let busiest = world.lever.state.max_calls_in_a_second();
    assert!(busiest <= 30, "{busiest} calls within one second");
    let notes = world.opportunity(&opportunity)["notes"]
        .as_array()
        .map(Vec::len);
    assert_eq!(notes, Some(45));
}

#[tokio::test]
async fn two_processes_of_a_tenant_share_lever_s_budget_through_the_database() {
    let world = LeverWorld::new(false).await;
    let opportunity = world.applicant("shared@example.com").await;
    let application = ApplicationRef {
        ats_job_id: String::new(),
        ats_application_id: opportunity.clone(),
    };
    // Two processes: each its own adapter (its own limits) and state, one database.
    let processes: Vec<(LeverAdapter, AtsShared)> = (0..2)
        .map(|_| {
            (
                LeverAdapter::new(reqwest::Client::new()),
                AtsShared::new(
                    world.app.db().clone(),
                    Some(world.app.master_key.clone()),
                    world.app.state.ats_shared.refresh_lease(),
                ),
            )
        })
        .collect();
    let notes: Vec<WriteBack> = (0..30)
        .map(|n| WriteBack::Comment {
            text: format!("note {n}"),
            score: None,
        })
        .collect();
    let started = std::time::Instant::now();

    let calls = processes.iter().flat_map(|(adapter, shared)| {
        notes.iter().map(|note| {
            shared
                .clone()
                .scope(adapter.write_back(&world.tenant, &application, note))
        })
    });
    let results = futures::future::join_all(calls).await;

    let elapsed = started.elapsed();
    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(world.lever.state.rate_limited(), 0, "Lever refused none");
    let busiest = world.lever.state.max_calls_in_a_second();
    assert!(busiest <= 30, "{busiest} calls within one second");
    // 60 calls through one budget (18 at once, then 10 a second) take over 4 seconds; two
    // budgets would have sent them in 2.
    assert!(elapsed >= Duration::from_millis(4_000), "{elapsed:?}");
    eprintln!("60 calls from two processes in {elapsed:?}, busiest second {busiest}");
    let notes = world.opportunity(&opportunity)["notes"]
        .as_array()
        .map(Vec::len);
    assert_eq!(notes, Some(60));
}

#[tokio::test]
async fn a_429_pauses_the_tenant_for_its_retry_after_and_the_job_waits_as_long() {
    let world = LeverWorld::new(true).await;
    let opportunity = world.applicant("slow@example.com").await;
    world
        .settle_until("the new application read", |w| {
            w.lever
                .state
                .api_calls()
                .contains_key("GET /v1/opportunities/{id}")
        })
        .await;
    world
        .lever_post("/_sim/faults", json!({"force_429": 1, "retry_after_s": 7}))
        .await;
    world.move_to(&opportunity, "Video interview").await;
    wait_until(
        Duration::from_secs(10),
        "the stage change stored",
        || async { (inbox(world.app.db(), world.tenant.id).await.len() == 2).then_some(()) },
    )
    .await;
    let before = chrono::Utc::now().timestamp_millis();

    world.worker.drain().await.expect("drain");
    let calls_before: u64 = world.lever.state.api_calls().values().sum();
    let held_back = adapter_for(AtsKind::Lever)
        .write_back(
            &world.tenant,
            &ApplicationRef {
                ats_job_id: String::new(),
                ats_application_id: opportunity.clone(),
            },
            &WriteBack::Tag(PASS.to_owned()),
        )
        .await;

    let waiting = job::Entity::find()
        .filter(job::Column::Status.ne("done"))
        .all(world.app.db())
        .await
        .expect("jobs");
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(
        waiting[0].run_at - before >= 6_500,
        "the job runs again after Retry-After: {:?}",
        waiting[0]
    );
    assert!(
        matches!(held_back, Err(AdapterError::RateLimited { retry_after: Some(d) })
            if d > Duration::from_secs(4) && d <= Duration::from_secs(7)),
        "{held_back:?}"
    );
    let calls_after: u64 = world.lever.state.api_calls().values().sum();
    assert_eq!(
        calls_after, calls_before,
        "the held-back call never reached Lever"
    );
    assert_eq!(world.lever.state.rate_limited(), 1);
    assert!(world.invitations().is_empty());
}
