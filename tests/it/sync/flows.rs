use liaison::equivalence::{self, EntityKind};
use liaison::tenant::{self, TenantConfig};
use serde_json::json;

use super::world::{World, object_values, tenant_file};

#[tokio::test]
async fn a_published_job_becomes_one_suite_project() {
    let world = World::new("tags").await;
    let job = world.synced_job("Data Scientist").await;
    let project = object_values(&world.suite_state()["projects"]).remove(0);
    assert_eq!(project["external_ref"], format!("ats-job:{job}"));
    assert_eq!(project["title"], "Data Scientist");
    let link = equivalence::lookup_by_ats(
        world.app.db(),
        world.tenant.id,
        EntityKind::Job,
        &job.to_string(),
    )
    .await
    .expect("lookup")
    .expect("linked");
    assert_eq!(project["id"], link.suite_id);
}

#[tokio::test]
async fn an_application_in_the_interview_step_is_invited_once_and_its_result_tagged_once() {
    let world = World::new("tags").await;
    let job = world.publish_job("Data Scientist").await;
    let application = world.apply_to(job, "maria@example.com").await;
    // Every delivery twice: redeliveries must not duplicate anything.
    world
        .gupy_post("/_sim/faults", json!({"duplicate_rate": 1.0}))
        .await;
    world.move_to(application, "Video interview").await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    assert_eq!(object_values(&world.suite_state()["candidates"]).len(), 1);
    let invitation = world.invitations().remove(0);
    let invitation_id = invitation["id"].as_str().expect("id").to_owned();

    world
        .suite_post(
            &format!("/_sim/invitations/{invitation_id}/complete"),
            json!({"reviews": [{"score": 80, "recommendation": "advance", "comment": "Clear"},
                               {"score": 90, "recommendation": "advance", "comment": "Great"}]}),
        )
        .await;
    world
        .settle_until("the pass tag", |w| {
            w.gupy_tags(application).contains(&"Apto".to_owned())
        })
        .await;
    assert_eq!(world.gupy_tags(application), ["Apto"]);
    // Nothing more arrives later, and nothing was created twice.
    world.worker.drain().await.expect("drain");
    assert_eq!(world.invitations().len(), 1);
    assert_eq!(object_values(&world.suite_state()["projects"]).len(), 1);
    assert_eq!(world.gupy_application(application)["comments"], json!([]));
    // The tag is on record as written, with the job that wrote it.
    use sea_orm::EntityTrait;
    let writebacks = liaison::store::entities::writeback::Entity::find()
        .all(world.app.db())
        .await
        .expect("writebacks");
    let tags: Vec<_> = writebacks
        .iter()
        .map(|w| (w.key.as_str(), w.status.as_str()))
        .collect();
    assert_eq!(tags, [(format!("tag:{application}:Apto").as_str(), "done")]);
}

#[tokio::test]
async fn comment_mode_writes_one_summary_and_a_changed_verdict_says_so() {
    let world = World::new("comment").await;
    let (application, invitation_id) = world.invited("Designer", "ana@example.com").await;
    world
        .suite_post(
            &format!("/_sim/invitations/{invitation_id}/complete"),
            json!({"reviews": [{"score": 85, "recommendation": "advance", "comment": "Good"}]}),
        )
        .await;
    let comments = |w: &World| {
        w.gupy_application(application)["comments"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    };
    let text_of = |w: &World, n: usize| {
        w.gupy_application(application)["comments"][n]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // First the invitation with its link, then the result.
    world
        .settle_until("the summary comment", |w| comments(w) == 2)
        .await;
    assert!(
        text_of(&world, 0).contains("Interview link: http://"),
        "{}",
        text_of(&world, 0)
    );
    let text = text_of(&world, 1);
    assert!(text.contains("Apto") && text.contains("85/100"), "{text}");

    // A later review that lowers the average below the pass score changes the verdict.
    let review_id = object_values(&world.suite_state()["reviews"])[0]["id"]
        .as_str()
        .expect("review")
        .to_owned();
    world
        .suite_post(&format!("/_sim/reviews/{review_id}"), json!({"score": 20}))
        .await;
    world
        .settle_until("the change comment", |w| comments(w) == 3)
        .await;
    let text = text_of(&world, 2);
    assert!(
        text.contains("changed") && text.contains("Inapto"),
        "{text}"
    );
    world.worker.drain().await.expect("drain");
    assert_eq!(comments(&world), 3, "no write-back is repeated");
}

#[tokio::test]
async fn an_invitation_comment_the_ats_refused_is_written_by_the_retry() {
    let world = World::new("comment").await;
    let job = world.synced_job("Designer").await;
    let application = world.apply_to(job, "retry@example.com").await;
    // Gupy refuses every API call: the invitation is made, the comment with its link is not.
    world
        .gupy_post("/_sim/faults", json!({"error_rate": 1.0, "status": 503}))
        .await;
    world.move_to(application, "Video interview").await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    let comments = |w: &World| {
        w.gupy_application(application)["comments"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    };
    assert_eq!(comments(&world), 0);
    assert!(
        !world.unfinished_jobs().await.is_empty(),
        "the job waits to retry"
    );

    // The retry finds the same invitation and writes the comment once.
    world.gupy_post("/_sim/faults", json!({})).await;
    world
        .settle_until("the comment", |w| comments(w) == 1)
        .await;
    world.worker.drain().await.expect("drain");
    assert_eq!(world.invitations().len(), 1);
    assert_eq!(comments(&world), 1);
    assert!(
        world.gupy_application(application)["comments"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("Interview link: http://")
    );
}

#[tokio::test]
async fn a_comment_whose_answer_never_came_is_flagged_uncertain_and_not_posted_again() {
    let world = World::new("comment").await;
    // Liaison gives up on an ATS call after 500 ms.
    let file = tenant_file(
        "acme",
        &world.gupy.url(),
        &world.suite.base_url(),
        "comment",
    )
    .replace(
        "interview_step = \"Video interview\"",
        "interview_step = \"Video interview\"\nrequest_timeout_ms = 500",
    );
    let config = TenantConfig::from_toml(&file).expect("tenant file");
    tenant::apply(world.app.db(), &world.app.master_key, &config)
        .await
        .expect("apply");
    let job = world.synced_job("Designer").await;
    let application = world.apply_to(job, "slow@example.com").await;
    // Gupy makes every change at once but answers 3 s late: the comment exists, Liaison's call
    // times out.
    world
        .gupy_post("/_sim/faults", json!({"late_answer_ms": 3000}))
        .await;
    world.move_to(application, "Video interview").await;
    let comments = |w: &World| {
        w.gupy_application(application)["comments"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    };
    world
        .settle_until("the invitation and its comment", |w| {
            w.invitations().len() == 1 && comments(w) >= 1
        })
        .await;
    world.gupy_post("/_sim/faults", json!({})).await;
    world.worker.drain().await.expect("drain");
    assert!(world.unfinished_jobs().await.is_empty());
    assert_eq!(comments(&world), 1, "the comment is never posted twice");

    use sea_orm::EntityTrait;
    let writebacks = liaison::store::entities::writeback::Entity::find()
        .all(world.app.db())
        .await
        .expect("writebacks");
    let comment = writebacks
        .iter()
        .find(|w| w.key.starts_with("invite-comment:"))
        .expect("the comment's intent");
    assert_eq!(comment.status, "uncertain");
    assert!(
        world
            .attempt_notes()
            .await
            .iter()
            .any(|note| note.contains("got no answer")),
        "the execution log says why the comment was not repeated"
    );
}

#[tokio::test]
async fn a_candidate_the_suite_already_has_is_adopted_without_a_lookup() {
    let world = World::new("tags").await;
    // Someone created the person in the suite by hand, without an external ref.
    let token: serde_json::Value = world
        .http
        .post(format!("{}/oauth/token", world.suite.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "liaison"),
            ("client_secret", "liaison-secret"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let existing: serde_json::Value = world
        .http
        .post(format!("{}/v1/candidates", world.suite.base_url()))
        .bearer_auth(token["access_token"].as_str().expect("access token"))
        .json(&json!({"first_name": "Rita", "last_name": "Lee", "email": "rita@example.com"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("candidate json");
    let existing_id = existing["id"].as_str().expect("id").to_owned();
    let job = world.publish_job("Singer").await;
    let application = world.apply_to(job, "rita@example.com").await;
    world.move_to(application, "Video interview").await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    assert_eq!(world.invitations()[0]["candidate_id"], existing_id.as_str());
    assert_eq!(object_values(&world.suite_state()["candidates"]).len(), 1);
    let calls = &world.suite_state()["counters"]["calls"];
    assert!(
        calls["GET /v1/candidates"].is_null(),
        "no candidate lookup: {calls}"
    );
}

#[tokio::test]
async fn leaving_the_interview_step_before_the_interview_cancels_the_invitation() {
    let world = World::new("tags").await;
    let job = world.publish_job("Analyst").await;
    let application = world.apply_to(job, "joao@example.com").await;
    world.move_to(application, "Video interview").await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    world.move_to(application, "Offer").await;
    world
        .settle_until("the cancellation", |w| {
            w.invitations()[0]["status"] == "cancelled"
        })
        .await;
}

#[tokio::test]
async fn a_candidate_erasure_forgets_the_person() {
    let world = World::new("tags").await;
    let job = world.publish_job("Analyst").await;
    let application = world.apply_to(job, "erase.me@example.com").await;
    world.move_to(application, "Video interview").await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    let candidate_id = world.invitations()[0]["candidate_id"]
        .as_str()
        .expect("candidate")
        .to_owned();

    world
        .http
        .delete(format!(
            "{}/_sim/candidates/{candidate_id}",
            world.suite.base_url()
        ))
        .send()
        .await
        .expect("delete");
    let db = world.app.db().clone();
    let tenant = world.tenant.id;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        world.worker.drain().await.expect("drain");
        let link = equivalence::lookup_by_suite(&db, tenant, EntityKind::Candidate, &candidate_id)
            .await
            .expect("lookup");
        if link.is_none() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the candidate was not erased"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    use sea_orm::EntityTrait;
    let events = liaison::store::entities::inbox_event::Entity::find()
        .all(&db)
        .await
        .expect("events");
    assert!(
        events
            .iter()
            .all(|e| !e.payload.contains("erase.me@example.com")
                && !e.normalized.contains("erase.me@example.com"))
    );
    let history = liaison::store::entities::equivalence_history::Entity::find()
        .all(&db)
        .await
        .expect("history");
    assert!(
        history
            .iter()
            .any(|h| h.action == "erased" && h.ats_id.starts_with("erased:"))
    );
}

#[tokio::test]
async fn result_events_waiting_behind_one_are_answered_by_its_single_fetch() {
    let world = World::new("tags").await;
    let job = world.publish_job("Data Scientist").await;
    let application = world.apply_to(job, "lena@example.com").await;
    world.move_to(application, "Video interview").await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    let invitation = world.invitations().remove(0);
    let invitation_id = invitation["id"].as_str().expect("id").to_owned();

    // One completion with two reviews: invitation.completed and two review.created.
    world
        .suite_post(
            &format!("/_sim/invitations/{invitation_id}/complete"),
            json!({"reviews": [{"score": 80, "recommendation": "advance", "comment": "Clear"},
                               {"score": 90, "recommendation": "advance", "comment": "Great"}]}),
        )
        .await;
    // All three are stored before any job runs.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while result_events_stored(&world).await < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the result events never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    world.worker.drain().await.expect("drain");

    assert_eq!(world.gupy_tags(application), ["Apto"]);
    let calls = &world.suite_state()["counters"]["calls"];
    assert_eq!(
        calls["GET /v1/invitations/{id}/result"], 1,
        "one fetch for three events: {calls}"
    );
    let notes = world.attempt_notes().await;
    let covered = notes.iter().filter(|n| n.contains(" covered ")).count();
    assert_eq!(covered, 2, "{notes:#?}");
    assert!(world.unfinished_jobs().await.is_empty());
}

#[tokio::test]
async fn a_result_that_overtakes_its_invitation_link_waits_for_it() {
    let world = World::new("tags").await;
    let (application, invitation_id) = world.invited("Data Scientist", "lena@example.com").await;
    // As if the job that made the invitation had not committed its link yet.
    let (db, tenant, app_id) = (world.app.db(), world.tenant.id, application.to_string());
    equivalence::unlink(db, tenant, EntityKind::Application, &app_id)
        .await
        .expect("unlink");

    world
        .suite_post(
            &format!("/_sim/invitations/{invitation_id}/complete"),
            json!({"reviews": [{"score": 80, "recommendation": "advance", "comment": "Clear"}]}),
        )
        .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !world
        .attempt_notes()
        .await
        .iter()
        .any(|n| n.contains("is not linked to an application yet"))
    {
        assert!(tokio::time::Instant::now() < deadline, "no attempt waited");
        world.worker.drain().await.expect("drain");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(world.gupy_tags(application).is_empty());

    // The link lands; the waiting result goes through.
    equivalence::link(db, tenant, EntityKind::Application, &app_id, &invitation_id)
        .await
        .expect("link");
    world
        .settle_until("the tag", |w| w.gupy_tags(application) == ["Apto"])
        .await;
    world.settle_until("no unfinished job", |_| true).await;
    assert!(world.unfinished_jobs().await.is_empty());
}

async fn result_events_stored(world: &World) -> usize {
    use liaison::store::entities::inbox_event;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    inbox_event::Entity::find()
        .filter(inbox_event::Column::EventType.is_in(["invitation.completed", "review.created"]))
        .count(world.app.db())
        .await
        .expect("count") as usize
}
