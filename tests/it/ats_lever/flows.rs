//! From Lever's stage change to the suite and back: the flow reads the opportunity (the
//! delivery is unsigned), invites once, and writes the result as one note and pass/fail tags.

use serde_json::{Value, json};

use super::{FAIL, LeverWorld, PASS};

fn notes(world: &LeverWorld, opportunity: &str) -> Vec<Value> {
    world.opportunity(opportunity)["notes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn tags(world: &LeverWorld, opportunity: &str) -> Vec<String> {
    serde_json::from_value(world.opportunity(opportunity)["tags"].clone()).unwrap_or_default()
}

fn invitation_status(world: &LeverWorld) -> String {
    world.invitations()[0]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_stage_change_invites_once_and_the_result_comes_back_as_a_note_and_tags() {
    let world = LeverWorld::new(true).await;
    let opportunity = world.applicant("Maria@Example.com").await;
    // Every delivery twice: Lever's retries must not duplicate anything.
    world
        .lever_post("/_sim/faults", json!({"duplicate_rate": 1.0}))
        .await;
    world.move_to(&opportunity, "Phone screen").await;
    world.move_to(&opportunity, "Video interview").await;

    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    let invitation_id = world.invitations()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    world
        .suite_post(
            &format!("/_sim/invitations/{invitation_id}/complete"),
            json!({"reviews": [{"score": 80, "recommendation": "advance", "comment": "Clear"},
                               {"score": 90, "recommendation": "advance", "comment": "Great"}]}),
        )
        .await;
    world
        .settle_until("the result note", |w| notes(w, &opportunity).len() == 2)
        .await;
    world.worker.drain().await.expect("drain");

    assert_eq!(world.invitations().len(), 1);
    let suite = world.suite.sim().snapshot();
    let candidates: Vec<Value> = crate::sync_world::object_values(&suite["candidates"]);
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0]["email"], "maria@example.com");
    let projects = crate::sync_world::object_values(&suite["projects"]);
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0]["title"], "Data Scientist");
    assert_eq!(tags(&world, &opportunity), [PASS]);
    let notes = notes(&world, &opportunity);
    assert!(
        notes.iter().all(|n| n["performAs"] == "user-liaison"),
        "{notes:?}"
    );
    let result = notes[1]["value"].as_str().unwrap_or_default();
    assert!(
        result.contains(PASS) && result.contains("85/100"),
        "{result}"
    );
    // The result note carries the score on Lever's scale (85/100: 4, strong yes); the
    // invitation note has none.
    assert_eq!(notes[1]["score"], 4, "{notes:?}");
    assert_eq!(notes[0]["score"], Value::Null, "{notes:?}");
    // The flow read the opportunity from Lever rather than trusting the delivery. How often
    // depends on timing: a stage change queued behind another of the same opportunity is
    // covered by it and read once for both.
    let calls = world.lever.state.api_calls();
    assert!(calls["GET /v1/opportunities/{id}"] >= 1, "{calls:?}");
    assert_eq!(calls["POST /v1/opportunities/{id}/notes"], 2, "{calls:?}");
}

#[tokio::test]
async fn a_changed_verdict_swaps_the_tags_and_says_so_in_a_new_note() {
    let world = LeverWorld::new(true).await;
    let opportunity = world.applicant("ana@example.com").await;
    world.move_to(&opportunity, "Video interview").await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    let invitation_id = world.invitations()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    world
        .suite_post(
            &format!("/_sim/invitations/{invitation_id}/complete"),
            json!({"reviews": [{"score": 85, "recommendation": "advance", "comment": "Good"}]}),
        )
        .await;
    world
        .settle_until("the pass tag", |w| tags(w, &opportunity) == [PASS])
        .await;
    let review_id =
        crate::sync_world::object_values(&world.suite.sim().snapshot()["reviews"])[0]["id"]
            .as_str()
            .expect("review id")
            .to_owned();

    world
        .suite_post(&format!("/_sim/reviews/{review_id}"), json!({"score": 20}))
        .await;
    world
        .settle_until("the fail tag", |w| tags(w, &opportunity) == [FAIL])
        .await;

    let notes = notes(&world, &opportunity);
    let last = notes
        .last()
        .and_then(|n| n["value"].as_str())
        .unwrap_or_default();
    assert!(last.contains("changed") && last.contains(FAIL), "{notes:?}");
}

#[tokio::test]
async fn an_archived_or_deleted_opportunity_loses_its_live_invitation() {
    let world = LeverWorld::new(true).await;
    let archived = world.applicant("a@example.com").await;
    world.move_to(&archived, "Video interview").await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;

    world
        .lever_post(
            &format!("/_sim/opportunities/{archived}/archive"),
            json!({"reason": "Withdrew"}),
        )
        .await;
    world
        .settle_until("the cancellation", |w| invitation_status(w) == "cancelled")
        .await;

    let deleted = world.applicant("d@example.com").await;
    world.move_to(&deleted, "Video interview").await;
    world
        .settle_until("the second invitation", |w| w.invitations().len() == 2)
        .await;
    let response = world
        .http
        .delete(format!(
            "{}/_sim/opportunities/{deleted}",
            world.lever.url()
        ))
        .send()
        .await
        .expect("delete");
    assert!(response.status().is_success());
    world
        .settle_until("both cancelled", |w| {
            w.invitations().iter().all(|i| i["status"] == "cancelled")
        })
        .await;
}
