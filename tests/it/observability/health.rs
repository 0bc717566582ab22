use liaison::health::tenant_health;
use serde_json::json;

use crate::sync::world::{World, object_values};

#[tokio::test]
async fn connection_health_shows_the_last_success_and_the_last_failure_without_secrets() {
    let world = World::new("tags").await;
    world.publish_job("Data Scientist").await;
    world
        .settle_until("the project", |w| {
            object_values(&w.suite_state()["projects"]).len() == 1
        })
        .await;
    world
        .app
        .state
        .health
        .flush(world.app.db())
        .await
        .expect("flush");

    let health = tenant_health(world.app.db(), world.tenant.id.0)
        .await
        .expect("health");
    assert!(health.suite.last_ok_at.is_some(), "{health:?}");
    assert_eq!(health.suite.last_error, None);
    assert!(health.ats.last_ok_at.is_some(), "{health:?}");
    assert!(health.ats.last_inbound_at.is_some(), "{health:?}");

    // The suite now refuses every API call.
    world
        .suite_post("/_sim/faults", json!({"error_rate": 1.0, "status": 403}))
        .await;
    let client = world
        .app
        .state
        .suite_clients
        .for_tenant(&world.tenant)
        .expect("suite client");
    assert!(client.get_candidate("cand_1").await.is_err());
    world
        .app
        .state
        .health
        .flush(world.app.db())
        .await
        .expect("flush");

    let health = tenant_health(world.app.db(), world.tenant.id.0)
        .await
        .expect("health");
    let error = health.suite.last_error.clone().expect("an error");
    assert!(error.contains("403"), "{error}");
    assert!(health.suite.last_error_at >= health.suite.last_ok_at);
    let text = serde_json::to_string(&health).expect("json");
    for secret in ["liaison-secret", "gupy-token", "Bearer", "127.0.0.1"] {
        assert!(!text.contains(secret), "{text}");
    }
}
