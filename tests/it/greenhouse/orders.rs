//! Orders end to end: Greenhouse sends a test, the candidate is invited, the interview is
//! completed and reviewed, Liaison PATCHes the order's URL once, and Greenhouse reads the result.

use std::time::Duration;

use liaison::equivalence::{self, EntityKind};
use liaison_sim::greenhouse::Faults;
use tokio::process::{Child, Command};

use super::world::GreenhouseWorld;
use crate::support::wait_until;

/// The take-home test's `test_status` as Greenhouse read it after the PATCH.
async fn status_read(world: &GreenhouseWorld) -> liaison_sim::greenhouse::wire::TestStatus {
    wait_until(
        Duration::from_secs(30),
        "Greenhouse to read test_status",
        || async {
            world
                .greenhouse
                .state
                .tests()
                .first()
                .and_then(|t| t.status.clone().filter(|s| s.partner_status == "complete"))
        },
    )
    .await
}

#[tokio::test]
async fn an_order_ends_with_its_result_in_greenhouse() {
    let world = GreenhouseWorld::new().await;
    let test = world.project("Backend engineer");
    let partner = world.greenhouse.partner();

    let (sent, answers) = partner.send_test(&test, "ana@example.com", 1).await;
    let interview = answers[0].as_ref().expect("an interview id").clone();
    assert!(interview.starts_with("ord_"), "{interview}");
    let before = partner.test_status(&interview).await.expect("status");
    assert_ne!(before.partner_status, "complete");

    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    let invitation = world.invitations()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let link = equivalence::lookup_by_ats(
        world.app.db(),
        world.tenant.id,
        EntityKind::Order,
        &interview,
    )
    .await
    .expect("lookup")
    .expect("the order is linked to its invitation");
    assert_eq!(link.suite_id, invitation);

    world.complete(&invitation, 81);
    world
        .settle_until("the PATCH", |w| {
            w.greenhouse
                .state
                .test(sent.url.rsplit('/').next().unwrap_or_default())
                .is_some_and(|t| t.patches_accepted == 1)
        })
        .await;
    let status = status_read(&world).await;
    assert_eq!(status.partner_score, Some(81.0));
    let profile = status.partner_profile_url.expect("a profile URL");
    assert!(profile.contains(&invitation), "{profile}");
    let metadata = status.metadata.expect("metadata");
    assert!(metadata.values().all(|v| !v.is_object() && !v.is_array()));
    assert!(status.partner_status == "complete");

    let record = &world.greenhouse.state.tests()[0];
    assert!(record.refusals.is_empty(), "{:?}", record.refusals);
    assert_eq!(record.patches_received, 1, "exactly one PATCH");
    let snapshot = world.greenhouse.state.snapshot();
    assert_eq!(snapshot["response_errors"], serde_json::json!([]));

    // Later events of the same invitation never report a second time.
    world.worker.drain().await.expect("drain");
    assert_eq!(world.greenhouse.state.tests()[0].patches_received, 1);
}

#[tokio::test]
async fn the_same_order_twice_is_one_invitation_and_one_id() {
    let world = GreenhouseWorld::new().await;
    let test = world.project("Backend engineer");
    let partner = world.greenhouse.partner();

    let (sent, answers) = partner.send_test(&test, "ana@example.com", 2).await;
    let ids: Vec<String> = answers.into_iter().map(|a| a.expect("an id")).collect();
    assert_eq!(ids[0], ids[1], "both clicks get the same id");

    // And once more, later, with the same URL.
    let body = liaison_sim::greenhouse::wire::SendTest {
        partner_test_id: test.clone(),
        candidate: liaison_sim::greenhouse::wire::Candidate {
            first_name: "Ana".into(),
            last_name: "Lima".into(),
            preferred_name: None,
            resume_url: None,
            phone_number: None,
            email: "ana@example.com".into(),
            greenhouse_profile_url: "https://app.greenhouse.io/people/1?application_id=2".into(),
        },
        sent_by: None,
        url: sent.url.clone(),
    };
    world
        .settle_until("the invitation", |w| !w.invitations().is_empty())
        .await;
    let again = partner.send_body(&body).await.expect("an id");
    assert_eq!(again, ids[0]);
    world.worker.drain().await.expect("drain");
    assert_eq!(world.invitations().len(), 1, "one invitation");
    let orders = liaison::orders::list(world.app.db(), world.tenant.id, 10)
        .await
        .expect("orders");
    assert_eq!(orders.len(), 1, "one order");
}

#[tokio::test]
async fn a_refused_patch_is_retried_until_greenhouse_takes_it_once() {
    let world = GreenhouseWorld::new().await;
    let test = world.project("Backend engineer");
    let partner = world.greenhouse.partner();
    partner.send_test(&test, "ana@example.com", 1).await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    *world.greenhouse.state.0.faults.lock().expect("faults") = Faults {
        fail_next: 2,
        status: Some(503),
        ..Faults::default()
    };
    let invitation = world.invitations()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    world.complete(&invitation, 64);
    world
        .settle_until("the PATCH to be taken", |w| {
            w.greenhouse.state.tests()[0].patches_accepted == 1
        })
        .await;
    let record = &world.greenhouse.state.tests()[0];
    assert_eq!(record.patches_received, 3, "two 503s, then the one taken");
    assert_eq!(record.patches_effective, 1);
    assert_eq!(status_read(&world).await.partner_score, Some(64.0));
}

fn spawn_worker(world: &GreenhouseWorld) -> Child {
    Command::new(env!("CARGO_BIN_EXE_liaison"))
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", world.app.database.url.expose())
        .env("LIAISON_MASTER_KEY", &world.app.master_key_text)
        .env("LIAISON_PUBLIC_URL", &world.app.state.settings.public_url)
        .env("LIAISON_WORKERS", "4")
        .env("LIAISON_QUEUE_LEASE_SECONDS", "2")
        .env("LIAISON_QUEUE_BASE_BACKOFF_MS", "20")
        .env("LIAISON_QUEUE_MAX_BACKOFF_SECONDS", "1")
        .env("LIAISON_QUEUE_IDLE_POLL_MS", "50")
        .env("LIAISON_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .expect("start a worker process")
}

#[tokio::test]
async fn a_result_survives_a_sigkill_between_completion_and_the_callback() {
    let world = GreenhouseWorld::new().await;
    let test = world.project("Backend engineer");
    let partner = world.greenhouse.partner();
    let mut worker = spawn_worker(&world);
    partner.send_test(&test, "ana@example.com", 1).await;
    wait_until(Duration::from_secs(30), "the invitation", || async {
        (world.invitations().len() == 1).then_some(())
    })
    .await;

    // The PATCH hangs in Greenhouse, so the worker dies with the callback in flight.
    world
        .greenhouse
        .state
        .0
        .faults
        .lock()
        .expect("faults")
        .latency_ms = 30_000;
    let invitation = world.invitations()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    world.complete(&invitation, 90);
    wait_until(Duration::from_secs(30), "the PATCH in flight", || async {
        (world.greenhouse.state.tests()[0].patches_received >= 1).then_some(())
    })
    .await;
    worker.start_kill().expect("SIGKILL");
    let _ = worker.wait().await;
    assert_eq!(world.greenhouse.state.tests()[0].patches_accepted, 0);

    world
        .greenhouse
        .state
        .0
        .faults
        .lock()
        .expect("faults")
        .latency_ms = 0;
    let mut worker = spawn_worker(&world);
    let status = status_read(&world).await;
    assert_eq!(status.partner_score, Some(90.0));
    let record = &world.greenhouse.state.tests()[0];
    assert_eq!(record.patches_accepted, 1, "one result taken");
    worker.start_kill().expect("stop");
    let _ = worker.wait().await;
}

#[tokio::test]
async fn the_console_shows_orders_and_greenhouses_reports() {
    let world = GreenhouseWorld::new().await;
    let test = world.project("Backend engineer");
    let partner = world.greenhouse.partner();
    let (_, answers) = partner.send_test(&test, "ana@example.com", 1).await;
    let interview = answers[0].as_ref().expect("id").clone();
    let report = liaison_sim::greenhouse::wire::ResponseError {
        api_call: "send_test".to_owned(),
        errors: vec!["something was off".to_owned()],
        partner_test_id: None,
        partner_test_name: None,
        partner_interview_id: None,
        candidate_email: None,
    };
    partner.response_error(&report).await.expect("200");

    let console = crate::admin_support::sign_in(&world.app).await;
    let (status, page) = console.get("/admin/tenants/acme/orders").await;
    assert_eq!(status, 200);
    assert!(page.contains(&interview), "{page}");
    assert!(page.contains("a***@e***.com"), "the email is masked");
    assert!(!page.contains("ana@example.com"));
    assert!(page.contains("received"));
    assert!(page.contains("something was off"));
    assert!(page.contains("has an issued key"));
    assert!(!page.contains(&world.key), "the key is never shown");
}

/// Runs the worker until the tenant's orders (newest first) satisfy `done`.
async fn settle_orders(
    world: &GreenhouseWorld,
    what: &str,
    done: impl Fn(&[liaison::orders::Order]) -> bool,
) {
    wait_until(Duration::from_secs(30), what, || async {
        world.worker.drain().await.expect("drain");
        let orders = liaison::orders::list(world.app.db(), world.tenant.id, 10)
            .await
            .expect("orders");
        done(&orders).then_some(())
    })
    .await
}

#[tokio::test]
async fn two_orders_on_one_invitation_both_get_their_result() {
    let world = GreenhouseWorld::new().await;
    let test = world.project("Backend engineer");
    let partner = world.greenhouse.partner();
    // Two Send Test clicks on two take-home tests of the same person and test: the suite
    // answers the second invitation with the live first one.
    let (first, answers) = partner.send_test(&test, "ana@example.com", 1).await;
    let first_id = answers[0].as_ref().expect("an id").clone();
    let (second, answers) = partner.send_test(&test, "ana@example.com", 1).await;
    let second_id = answers[0].as_ref().expect("an id").clone();
    assert_ne!(first_id, second_id, "two orders");
    settle_orders(&world, "both orders invited", |orders| {
        orders
            .iter()
            .all(|o| o.status == liaison::orders::OrderStatus::Invited)
    })
    .await;
    assert_eq!(world.invitations().len(), 1, "one invitation for both");
    let invitation = world.invitations()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    world.complete(&invitation, 70);
    let take_home = |url: &str| url.rsplit('/').next().unwrap_or_default().to_owned();
    let (one, two) = (take_home(&first.url), take_home(&second.url));
    world
        .settle_until("both PATCHes", |w| {
            [&one, &two].iter().all(|id| {
                w.greenhouse
                    .state
                    .test(id)
                    .is_some_and(|t| t.patches_accepted == 1)
            })
        })
        .await;
    for id in [&first_id, &second_id] {
        let status = partner.test_status(id).await.expect("status");
        assert_eq!(status.partner_status, "complete", "{id}");
        assert_eq!(status.partner_score, Some(70.0));
    }
}

#[tokio::test]
async fn a_cancelled_invitation_is_what_test_status_answers() {
    let world = GreenhouseWorld::new().await;
    let test = world.project("Backend engineer");
    let partner = world.greenhouse.partner();
    let (_, answers) = partner.send_test(&test, "ana@example.com", 1).await;
    let interview = answers[0].as_ref().expect("an id").clone();
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    let invitation = world.invitations()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        partner
            .test_status(&interview)
            .await
            .expect("status")
            .partner_status,
        "sent"
    );

    world
        .suite
        .sim()
        .mutate(|store| store.cancel_invitation(&invitation))
        .expect("cancel");
    settle_orders(&world, "the order to end", |orders| {
        orders[0].status == liaison::orders::OrderStatus::Cancelled
    })
    .await;
    let status = partner.test_status(&interview).await.expect("status");
    assert_eq!(status.partner_status, "cancelled");
    assert_eq!(status.partner_profile_url, None);
}
