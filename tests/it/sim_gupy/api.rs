//! The REST API: auth, pagination, filters, write-backs, subscriptions.

use axum::http::StatusCode;
use liaison::ats::gupy::payload::{
    Application, Job, ListEnvelope, Step, StepType, WebhookSubscription,
};
use serde_json::{Value, json};

use super::harness::{Receiver, spawn_sim};

#[tokio::test]
async fn the_api_requires_the_bearer_token() {
    let t = spawn_sim().await;
    let url = t.url("/api/v1/jobs");
    let no_token = t.http.get(&url).send().await.expect("answer");
    assert_eq!(no_token.status(), 401);
    let wrong = t
        .http
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .expect("answer");
    assert_eq!(wrong.status(), 401);
    let right: ListEnvelope<Job> = t.get("/api/v1/jobs").await;
    assert_eq!(right.total_results, 0);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn jobs_are_paginated_filtered_and_read_one_by_one() {
    let t = spawn_sim().await;
    for i in 0..25 {
        t.create_job(
            &format!("Job {i}"),
            if i % 5 == 0 { "draft" } else { "published" },
        )
        .await;
    }

    let page: ListEnvelope<Job> = t
        .get("/api/v1/jobs?page=2&perPage=15&status=published")
        .await;
    assert_eq!(
        (page.total_results, page.page, page.total_pages),
        (20, 2, 2)
    );
    assert_eq!(page.results.len(), 5);
    assert!(
        page.results
            .iter()
            .all(|j| j.status == liaison::ats::gupy::payload::JobStatus::Published)
    );

    let clamped: ListEnvelope<Job> = t.get("/api/v1/jobs?perPage=500").await;
    assert_eq!((clamped.results.len(), clamped.total_pages), (25, 1));

    let first = &clamped.results[0];
    let one: Job = t.get(&format!("/api/v1/jobs/{}", first.id)).await;
    assert_eq!(&one, first);
    let _: Value = t
        .api(
            reqwest::Method::GET,
            "/api/v1/jobs/1",
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    let _: Value = t
        .api(
            reqwest::Method::GET,
            "/api/v1/jobs?page=0",
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn every_job_has_default_steps() {
    let t = spawn_sim().await;
    let job = t.create_job("Data Scientist", "published").await;
    let steps: ListEnvelope<Step> = t.get(&format!("/api/v1/jobs/{}/steps", job.id)).await;
    let names: Vec<(&str, StepType)> = steps
        .results
        .iter()
        .map(|s| (s.name.as_str(), s.kind))
        .collect();
    assert_eq!(names[0], ("Screening", StepType::Register));
    assert_eq!(names[1], ("Video interview", StepType::Online));
    assert_eq!(names.last().map(|s| s.1), Some(StepType::Final));
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn applications_are_filtered_ordered_and_paginated() {
    let t = spawn_sim().await;
    let job = t.create_job("Data Scientist", "published").await;
    let other = t.create_job("Other", "published").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(t.apply(job.id, &format!("c{i}@example.com")).await.id);
    }
    t.apply(other.id, "x@example.com").await;
    t.move_to(ids[1], "Video interview").await;
    t.move_to(ids[3], "Video interview").await;

    let base = format!("/api/v1/jobs/{}/applications", job.id);
    let all: ListEnvelope<Application> = t.get(&format!("{base}?order=id%20asc&perPage=2")).await;
    assert_eq!((all.total_results, all.total_pages), (5, 3));
    assert_eq!(
        all.results.iter().map(|a| a.id).collect::<Vec<_>>(),
        ids[..2]
    );
    let desc: ListEnvelope<Application> = t.get(&format!("{base}?order=id%20desc")).await;
    assert_eq!(desc.results[0].id, ids[4]);

    let at_video: ListEnvelope<Application> = t
        .get(&format!(
            "{base}?currentStepName=Video%20interview&status=in_process"
        ))
        .await;
    assert_eq!(
        at_video.results.iter().map(|a| a.id).collect::<Vec<_>>(),
        [ids[1], ids[3]]
    );
    let hired: ListEnvelope<Application> = t.get(&format!("{base}?status=hired")).await;
    assert_eq!(hired.total_results, 0);

    let app = &all.results[0];
    assert_eq!(app.job.id, job.id);
    assert_eq!(app.candidate.email, "c0@example.com");
    assert!(app.candidate.id.is_some());
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn tags_are_idempotent_and_comments_are_not() {
    let t = spawn_sim().await;
    let job = t.create_job("Data Scientist", "published").await;
    let app = t.apply(job.id, "maria@example.com").await;
    let base = format!("/api/v1/jobs/{}/applications/{}", job.id, app.id);

    for _ in 0..2 {
        let tag: Value = t
            .api(
                reqwest::Method::PUT,
                &format!("{base}/tags"),
                Some(json!({"name": "Apto"})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(tag["name"], "Apto");
    }
    for _ in 0..2 {
        let comment: Value = t
            .api(
                reqwest::Method::POST,
                &format!("{base}/comments"),
                Some(json!({"text": "Score 80"})),
                StatusCode::CREATED,
            )
            .await;
        assert!(comment["id"].is_i64());
    }
    // The application belongs to this job only.
    let wrong = format!("/api/v1/jobs/{}/applications/{}/tags", job.id + 1, app.id);
    let _: Value = t
        .api(
            reqwest::Method::PUT,
            &wrong,
            Some(json!({"name": "X"})),
            StatusCode::NOT_FOUND,
        )
        .await;

    let list: ListEnvelope<Application> = t
        .get(&format!("/api/v1/jobs/{}/applications", job.id))
        .await;
    assert_eq!(list.results[0].tags.len(), 1);
    let state = t.state().await;
    let comments = &state["world"]["applications"][app.id.to_string()]["comments"];
    assert_eq!(comments.as_array().map(Vec::len), Some(2));
    assert_eq!(
        state["apiCalls"]["POST /api/v1/jobs/{job_id}/applications/{application_id}/comments"],
        2
    );
    assert_eq!(
        state["apiCalls"]["PUT /api/v1/jobs/{job_id}/applications/{application_id}/tags"],
        3
    );
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn subscriptions_are_created_listed_and_deleted() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    let sub = t
        .subscribe(
            "application.moved",
            &receiver,
            json!({"X-Liaison-Token": "s"}),
        )
        .await;
    assert_eq!(sub.postback_url, receiver.url());
    assert_eq!(sub.status, "active");
    assert!(uuid::Uuid::parse_str(&sub.id).is_ok());

    let list: ListEnvelope<WebhookSubscription> = t.get("/api/v1/webhooks?page=1&perPage=10").await;
    assert_eq!(list.results, vec![sub.clone()]);
    let path = format!("/api/v1/webhooks/{}", sub.id);
    let _: Value = t
        .api(reqwest::Method::DELETE, &path, None, StatusCode::NO_CONTENT)
        .await;
    let _: Value = t
        .api(reqwest::Method::DELETE, &path, None, StatusCode::NOT_FOUND)
        .await;
    let list: ListEnvelope<WebhookSubscription> = t.get("/api/v1/webhooks").await;
    assert!(list.results.is_empty());
    t.sim.stop().await.expect("stops");
}
