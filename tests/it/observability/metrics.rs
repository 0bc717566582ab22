use crate::sync::world::{World, object_values};

/// The lines of the `/metrics` text that start with `prefix`.
fn series<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .collect()
}

#[tokio::test]
async fn a_synced_job_shows_in_job_partner_call_and_queue_metrics() {
    let world = World::new("tags").await;
    world.publish_job("Data Scientist").await;
    world
        .settle_until("the project", |w| {
            object_values(&w.suite_state()["projects"]).len() == 1
        })
        .await;

    let response = world.app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("metrics text");

    assert!(
        !series(
            &text,
            r#"liaison_jobs_total{flow="apply_event",outcome="succeeded"}"#
        )
        .is_empty(),
        "{text}"
    );
    assert!(
        !series(
            &text,
            r#"liaison_job_attempts_bucket{le="1.0",flow="apply_event"}"#
        )
        .is_empty(),
        "{text}"
    );
    assert!(
        !series(
            &text,
            r#"liaison_job_duration_seconds_count{flow="apply_event"}"#
        )
        .is_empty()
    );
    // The suite's project was created, the job read from Gupy: each try counted under its
    // route template, never a path with ids.
    let suite_calls = series(&text, r#"liaison_partner_calls_total{system="suite""#);
    assert!(
        suite_calls
            .iter()
            .any(|line| line.contains(r#"endpoint="POST /v1/projects",status="201""#)),
        "{suite_calls:?}"
    );
    let gupy_calls = series(&text, r#"liaison_partner_calls_total{system="gupy""#);
    assert!(
        gupy_calls
            .iter()
            .any(|line| line.contains(r#"endpoint="GET /api/v1/jobs/{id}",status="200""#)),
        "{gupy_calls:?}"
    );
    assert!(
        !series(
            &text,
            r#"liaison_partner_call_duration_seconds_count{system="suite""#
        )
        .is_empty()
    );
    assert!(!series(&text, "liaison_queue_oldest_pending_age_seconds ").is_empty());
    assert!(!series(&text, r#"liaison_queue_jobs{status="done"}"#).is_empty());
}
