use serde_json::{Value, json};

use super::world::World;

/// A Gupy delivery for application 900001 of `job`, sent straight to Liaison's webhook.
fn delivery(id: &str, event: &str, date: &str, job: i64, step: &str) -> Value {
    json!({
        "companyName": "ACME",
        "id": id,
        "event": event,
        "date": date,
        "data": {
            "job": {"id": job, "name": "Data Scientist"},
            "application": {"id": 900001, "status": "in_process", "tags": [],
                            "currentStep": {"id": 2, "name": step, "type": "online"}},
            "candidate": {"id": 77, "name": "Maria", "lastName": "Silva", "email": "maria@example.com"}
        }
    })
}

async fn send(world: &World, body: &Value) {
    let response = world
        .http
        .post(world.app.url("/webhooks/acme/ats"))
        .header("X-Liaison-Token", "gupy-hook-secret")
        .json(body)
        .send()
        .await
        .expect("post");
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn a_moved_before_its_created_ends_in_the_newest_state() {
    let world = World::new("tags").await;
    let job = world.publish_job("Data Scientist").await;
    send(
        &world,
        &delivery(
            "d-moved",
            "application.moved",
            "2026-11-20T13:05:41.118Z",
            job,
            "Video interview",
        ),
    )
    .await;
    send(
        &world,
        &delivery(
            "d-created",
            "application.created",
            "2026-11-20T13:00:00.000Z",
            job,
            "Screening",
        ),
    )
    .await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    world.worker.drain().await.expect("drain");
    assert_eq!(
        world.invitations()[0]["status"],
        "sent",
        "the older `created` did not undo the move"
    );
}

#[tokio::test]
async fn an_old_move_arriving_after_a_newer_one_changes_nothing() {
    let world = World::new("tags").await;
    let job = world.publish_job("Data Scientist").await;
    send(
        &world,
        &delivery(
            "d-new",
            "application.moved",
            "2026-11-20T14:00:00.000Z",
            job,
            "Video interview",
        ),
    )
    .await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    // An older move out of the step arrives late: it must not cancel the invitation.
    send(
        &world,
        &delivery(
            "d-old",
            "application.moved",
            "2026-11-20T12:00:00.000Z",
            job,
            "Screening",
        ),
    )
    .await;
    world.worker.drain().await.expect("drain");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while tokio::time::Instant::now() < deadline {
        world.worker.drain().await.expect("drain");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(world.invitations().len(), 1);
    assert_eq!(world.invitations()[0]["status"], "sent");
}

#[tokio::test]
async fn a_webhook_and_a_poll_of_the_same_change_make_one_invitation() {
    let world = World::new("tags").await;
    let job = world.publish_job("Data Scientist").await;
    let application = world.apply_to(job, "poll@example.com").await;
    // Versions have millisecond resolution and equal ones are both applied: the move must come
    // at least a millisecond after the application, as it does in any real ATS.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    world.move_to(application, "Video interview").await;
    // The poll finds the same application in the interview step.
    liaison::ats::poll_once(&world.app.state.pollers(), &world.tenant)
        .await
        .expect("poll");
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    liaison::ats::poll_once(&world.app.state.pollers(), &world.tenant)
        .await
        .expect("poll again");
    world.worker.drain().await.expect("drain");
    assert_eq!(world.invitations().len(), 1);
}
