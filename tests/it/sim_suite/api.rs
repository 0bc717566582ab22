//! Resources: idempotency, conflicts, pagination and filters, questions, invitations and their
//! results, and one-time login links.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{TestSuite, spawn_suite};

async fn post_with_key(
    suite: &TestSuite,
    token: &str,
    key: &str,
    body: Value,
    expected: StatusCode,
) -> (reqwest::header::HeaderMap, Value) {
    suite
        .call(
            Method::POST,
            "/v1/projects",
            Some(token),
            Some(body),
            &[("Idempotency-Key", key)],
            expected,
        )
        .await
}

#[tokio::test]
async fn a_repeated_idempotency_key_replays_the_first_response() {
    let suite = spawn_suite().await;
    let token = suite.token().await;
    let body = json!({"external_ref": "job-1", "title": "Backend engineer"});

    let (_, first) =
        post_with_key(&suite, &token, "key-1", body.clone(), StatusCode::CREATED).await;
    let (headers, again) = post_with_key(&suite, &token, "key-1", body, StatusCode::CREATED).await;

    assert_eq!(first, again);
    assert_eq!(headers["idempotent-replayed"], "true");
    let state = suite.state().await;
    assert_eq!(state["projects"].as_object().map(|p| p.len()), Some(1));
}

#[tokio::test]
async fn an_idempotency_key_with_another_body_is_refused() {
    let suite = spawn_suite().await;
    let token = suite.token().await;
    post_with_key(
        &suite,
        &token,
        "key-1",
        json!({"title": "A"}),
        StatusCode::CREATED,
    )
    .await;

    let (_, refused) = post_with_key(
        &suite,
        &token,
        "key-1",
        json!({"title": "B"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    assert_eq!(refused["error"]["code"], "idempotency_key_reused");
    let state = suite.state().await;
    assert_eq!(state["projects"].as_object().map(|p| p.len()), Some(1));
}

#[tokio::test]
async fn conflicts_name_the_existing_object() {
    let suite = spawn_suite().await;
    let token = suite.token().await;
    let project = suite.create_project(&token, "job-1").await;
    let candidate = suite.create_candidate(&token, "ana@example.com").await;
    let user = suite
        .post(
            &token,
            "/v1/users",
            json!({"email": "rh@example.com", "name": "RH", "role": "manager"}),
            StatusCode::CREATED,
        )
        .await;
    let invite_path = format!(
        "/v1/projects/{}/invitations",
        project["id"].as_str().expect("id")
    );
    let invitation = suite
        .post(
            &token,
            &invite_path,
            json!({"candidate_id": candidate["id"]}),
            StatusCode::CREATED,
        )
        .await;

    let cases = [
        (
            "/v1/projects",
            json!({"external_ref": "job-1", "title": "Again"}),
            "external_ref_taken",
            &project,
        ),
        (
            "/v1/candidates",
            json!({"first_name": "A", "email": "ANA@example.com"}),
            "email_taken",
            &candidate,
        ),
        (
            "/v1/users",
            json!({"email": "rh@example.com", "name": "X", "role": "reviewer"}),
            "email_taken",
            &user,
        ),
        (
            invite_path.as_str(),
            json!({"candidate_id": candidate["id"]}),
            "already_invited",
            &invitation,
        ),
    ];
    for (path, body, code, existing) in cases {
        let conflict = suite.post(&token, path, body, StatusCode::CONFLICT).await;
        assert_eq!(conflict["error"]["code"], code, "{path}");
        assert_eq!(conflict["error"]["existing_id"], existing["id"], "{path}");
    }

    // A cancelled invitation is no longer live: inviting again works.
    let cancel_path = format!(
        "/v1/invitations/{}/cancel",
        invitation["id"].as_str().expect("id")
    );
    let cancelled = suite
        .post(&token, &cancel_path, json!({}), StatusCode::OK)
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    suite
        .post(
            &token,
            &invite_path,
            json!({"candidate_id": candidate["id"]}),
            StatusCode::CREATED,
        )
        .await;
}

#[tokio::test]
async fn lists_paginate_with_cursors_and_filter() {
    let suite = spawn_suite().await;
    let token = suite.token().await;
    for i in 0..45 {
        suite
            .create_candidate(&token, &format!("person{i}@example.com"))
            .await;
    }

    let mut ids = Vec::new();
    let mut sizes = Vec::new();
    let mut path = "/v1/candidates?limit=20".to_owned();
    loop {
        let page = suite.get(&token, &path, StatusCode::OK).await;
        let data = page["data"].as_array().expect("data").clone();
        sizes.push(data.len());
        ids.extend(
            data.iter()
                .map(|c| c["id"].as_str().expect("id").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/candidates?limit=20&cursor={cursor}"),
            None => break,
        }
    }

    assert_eq!(sizes, [20, 20, 5]);
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 45);
    let default_page = suite.get(&token, "/v1/candidates", StatusCode::OK).await;
    assert_eq!(default_page["data"].as_array().map(Vec::len), Some(20));
    let by_email = suite
        .get(
            &token,
            "/v1/candidates?email=PERSON7@example.com",
            StatusCode::OK,
        )
        .await;
    assert_eq!(by_email["data"][0]["email"], "person7@example.com");
    assert_eq!(by_email["next_cursor"], Value::Null);
    let too_many = suite
        .get(&token, "/v1/candidates?limit=101", StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(too_many["error"]["code"], "invalid_request");
}

#[tokio::test]
async fn projects_filter_patch_archive_and_hold_questions_in_order() {
    let suite = spawn_suite().await;
    let token = suite.token().await;
    let project = suite.create_project(&token, "job-1").await;
    suite.create_project(&token, "job-2").await;
    let path = format!("/v1/projects/{}", project["id"].as_str().expect("id"));

    let patched = suite
        .patch(
            &token,
            &path,
            json!({"title": "Renamed", "ends_on": "2026-12-31"}),
            StatusCode::OK,
        )
        .await;
    let archived = suite
        .post(
            &token,
            &format!("{path}/archive"),
            json!({}),
            StatusCode::OK,
        )
        .await;
    suite
        .post(
            &token,
            &format!("{path}/archive"),
            json!({}),
            StatusCode::OK,
        )
        .await;
    let questions = json!([{"text": "Who are you?", "answer_seconds": 60}, {"text": "Why us?"}]);
    suite
        .call(
            Method::PUT,
            &format!("{path}/questions"),
            Some(&token),
            Some(questions),
            &[],
            StatusCode::OK,
        )
        .await;

    assert_eq!(patched["title"], "Renamed");
    assert_eq!(patched["ends_on"], "2026-12-31");
    assert_eq!(archived["status"], "archived");
    let by_ref = suite
        .get(&token, "/v1/projects?external_ref=job-2", StatusCode::OK)
        .await;
    assert_eq!(by_ref["data"].as_array().map(Vec::len), Some(1));
    let open = suite
        .get(&token, "/v1/projects?status=open", StatusCode::OK)
        .await;
    assert_eq!(open["data"][0]["external_ref"], "job-2");
    let listed = suite
        .get(&token, &format!("{path}/questions"), StatusCode::OK)
        .await;
    assert_eq!(listed["data"][0]["position"], 1);
    assert_eq!(listed["data"][1]["text"], "Why us?");
    let missing = suite
        .get(&token, "/v1/projects/prj_nope", StatusCode::NOT_FOUND)
        .await;
    assert_eq!(missing["error"]["code"], "not_found");
    let events: Vec<Value> = suite.state().await["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(
        events,
        [json!("project.updated"), json!("project.archived")]
    );
}

#[tokio::test]
async fn completing_an_invitation_creates_reviews_and_a_result() {
    let suite = spawn_suite().await;
    let token = suite.token().await;
    let project = suite.create_project(&token, "job-1").await;
    let candidate = suite.create_candidate(&token, "ana@example.com").await;
    let invite_path = format!(
        "/v1/projects/{}/invitations",
        project["id"].as_str().expect("id")
    );
    let invitation = suite
        .post(
            &token,
            &invite_path,
            json!({"candidate_id": candidate["id"]}),
            StatusCode::CREATED,
        )
        .await;
    let id = invitation["id"].as_str().expect("id");

    let reviews = json!({"reviews": [
        {"score": 80, "recommendation": "advance", "comment": "Clear"},
        {"score": 60, "recommendation": "advance", "comment": "Fine"},
        {"score": 40, "recommendation": "reject", "comment": "Vague"},
    ]});
    suite
        .control(&format!("/_sim/invitations/{id}/complete"), reviews)
        .await;

    let fetched = suite
        .get(&token, &format!("/v1/invitations/{id}"), StatusCode::OK)
        .await;
    assert_eq!(fetched["status"], "completed");
    assert!(fetched["completed_at"].is_string());
    let listed = suite
        .get(
            &token,
            &format!("/v1/invitations/{id}/reviews"),
            StatusCode::OK,
        )
        .await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(3));
    let result = suite
        .get(
            &token,
            &format!("/v1/invitations/{id}/result"),
            StatusCode::OK,
        )
        .await;
    assert_eq!(result["review_count"], 3);
    assert_eq!(result["average_score"], 60.0);
    assert_eq!(result["recommendation"], "advance");
    assert!(
        result["review_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&suite.base))
    );
    let completed = suite
        .get(
            &token,
            &format!("{invite_path}?status=completed"),
            StatusCode::OK,
        )
        .await;
    assert_eq!(completed["data"][0]["id"], id);
}

#[tokio::test]
async fn a_login_link_lands_its_user_on_the_page_once() {
    let suite = spawn_suite().await;
    let token = suite.token().await;
    let user = suite
        .post(
            &token,
            "/v1/users",
            json!({"email": "rh@example.com", "name": "RH", "role": "manager"}),
            StatusCode::CREATED,
        )
        .await;
    let session = suite
        .post(
            &token,
            "/v1/sessions",
            json!({"user_id": user["id"], "redirect_path": "/projects/prj_1"}),
            StatusCode::CREATED,
        )
        .await;
    let login_url = session["login_url"].as_str().expect("login_url");

    let first = suite.http.get(login_url).send().await.expect("login");
    let second = suite.http.get(login_url).send().await.expect("login again");

    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(first.headers()["location"], "/projects/prj_1");
    assert_eq!(second.status(), StatusCode::GONE);
    let state = suite.state().await;
    assert_eq!(state["logins"][0]["user_id"], user["id"]);
    assert_eq!(state["logins"][0]["path"], "/projects/prj_1");
    assert_eq!(state["logins"].as_array().map(Vec::len), Some(1));
    let outside = json!({"user_id": user["id"], "redirect_path": "https://evil.example"});
    suite
        .post(&token, "/v1/sessions", outside, StatusCode::BAD_REQUEST)
        .await;
}

#[tokio::test]
async fn users_can_be_patched_and_listed() {
    let suite: TestSuite = spawn_suite().await;
    let token = suite.token().await;
    let user = suite
        .post(
            &token,
            "/v1/users",
            json!({"email": "rh@example.com", "name": "RH", "role": "manager"}),
            StatusCode::CREATED,
        )
        .await;
    let path = format!("/v1/users/{}", user["id"].as_str().expect("id"));

    let patched = suite
        .patch(
            &token,
            &path,
            json!({"role": "admin", "active": false}),
            StatusCode::OK,
        )
        .await;

    assert_eq!(patched["role"], "admin");
    assert_eq!(patched["active"], false);
    let users = suite.get(&token, "/v1/users", StatusCode::OK).await;
    assert_eq!(
        users["data"].as_array().map(Vec::len),
        Some(2),
        "the seeded admin and RH"
    );
}

#[tokio::test]
async fn started_then_expired_invitations_emit_events_and_free_the_candidate() {
    let suite = spawn_suite().await;
    let token = suite.token().await;
    let project = suite.create_project(&token, "job-1").await;
    let candidate = suite.create_candidate(&token, "ana@example.com").await;
    let invite_path = format!(
        "/v1/projects/{}/invitations",
        project["id"].as_str().expect("id")
    );
    let invitation = suite
        .post(
            &token,
            &invite_path,
            json!({"candidate_id": candidate["id"]}),
            StatusCode::CREATED,
        )
        .await;
    let id = invitation["id"].as_str().expect("id");

    suite
        .control(&format!("/_sim/invitations/{id}/start"), json!({}))
        .await;
    suite
        .control(&format!("/_sim/invitations/{id}/expire"), json!({}))
        .await;

    let fetched = suite
        .get(&token, &format!("/v1/invitations/{id}"), StatusCode::OK)
        .await;
    assert_eq!(fetched["status"], "expired");
    suite
        .post(
            &token,
            &invite_path,
            json!({"candidate_id": candidate["id"]}),
            StatusCode::CREATED,
        )
        .await;
    let types: Vec<Value> = suite.state().await["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(
        types,
        [json!("invitation.started"), json!("invitation.expired")]
    );
}
