//! The opportunities poll, for tenants without webhooks: changes since the cursor, page by page
//! through Lever's `next` offset, as the same events the flows act upon.

use serde_json::json;

use super::LeverWorld;

#[tokio::test]
async fn the_poll_pages_through_changes_since_its_cursor_and_invites_like_a_webhook() {
    let world = LeverWorld::new(false).await;
    let pollers = world.app.state.pollers();
    let mut opportunities = Vec::new();
    // More than one page of Lever's 100.
    let posting = world
        .lever_post("/_sim/postings", json!({"text": "Designer"}))
        .await;
    for n in 0..105 {
        let created = world
            .lever_post(
                "/_sim/opportunities",
                json!({"name": format!("Person {n}"), "email": format!("p{n}@example.com"),
                       "posting": posting["id"]}),
            )
            .await;
        opportunities.push(created["id"].as_str().expect("id").to_owned());
    }

    let first = liaison::ats::poll_once(&pollers, &world.tenant)
        .await
        .expect("poll");
    let quiet = liaison::ats::poll_once(&pollers, &world.tenant)
        .await
        .expect("poll");
    world.move_to(&opportunities[3], "Video interview").await;
    let moved = liaison::ats::poll_once(&pollers, &world.tenant)
        .await
        .expect("poll");

    assert_eq!(first.seen, 105, "{first:?}");
    assert_eq!(first.stored, 105, "{first:?}");
    assert_eq!(quiet.stored, 0, "{quiet:?}");
    assert_eq!(moved.stored, 1, "{moved:?}");
    let calls = world.lever.state.api_calls();
    assert_eq!(
        calls["GET /v1/opportunities"], 4,
        "two pages, then one each: {calls:?}"
    );
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
}
