use reqwest::Method;
use serde_json::json;

use crate::helpers::{expect_status, spawn_app};

const PATH: &str = "/api/v1/tenants/acme/equivalences";

#[tokio::test]
async fn equivalences_round_trip_through_the_api() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;

    let body = json!({"kind": "job", "ats_id": "19139", "suite_id": "prj_1"});
    let created = expect_status(
        app.admin(Method::PUT, PATH)
            .json(&body)
            .send()
            .await
            .expect("put"),
        201,
    )
    .await;
    assert_eq!(created["suite_id"], "prj_1");
    expect_status(
        app.admin(Method::PUT, PATH)
            .json(&body)
            .send()
            .await
            .expect("put"),
        200,
    )
    .await;

    let listed = expect_status(
        app.admin(Method::GET, &format!("{PATH}?kind=job&ats_id=19139"))
            .send()
            .await
            .expect("get"),
        200,
    )
    .await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["data"][0]["suite_id"], "prj_1");
    assert!(
        listed["data"][0]["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(listed["next_cursor"], serde_json::Value::Null);

    let conflict = json!({"kind": "job", "ats_id": "19139", "suite_id": "prj_2"});
    let refused = expect_status(
        app.admin(Method::PUT, PATH)
            .json(&conflict)
            .send()
            .await
            .expect("put"),
        409,
    )
    .await;
    assert_eq!(refused["error"]["code"], "equivalence_conflict");

    expect_status(
        app.admin(Method::DELETE, &format!("{PATH}?kind=job&ats_id=19139"))
            .send()
            .await
            .expect("delete"),
        204,
    )
    .await;
    let gone = expect_status(
        app.admin(Method::DELETE, &format!("{PATH}?kind=job&ats_id=19139"))
            .send()
            .await
            .expect("delete"),
        404,
    )
    .await;
    assert_eq!(gone["error"]["code"], "not_found");
}

#[tokio::test]
async fn missing_or_wrong_admin_token_is_401() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    let missing = expect_status(app.get(PATH).await, 401).await;
    assert_eq!(missing["error"]["code"], "unauthorized");
    let wrong = app
        .client
        .get(app.url(PATH))
        .bearer_auth("not-the-token")
        .send()
        .await
        .expect("get");
    expect_status(wrong, 401).await;
    // An unknown tenant is not revealed to an unauthenticated caller.
    expect_status(app.get("/api/v1/tenants/nope/equivalences").await, 401).await;
}

#[tokio::test]
async fn unknown_tenant_is_404() {
    let app = spawn_app().await;
    let body = expect_status(
        app.admin(Method::GET, "/api/v1/tenants/nope/equivalences")
            .send()
            .await
            .expect("get"),
        404,
    )
    .await;
    assert_eq!(body["error"]["code"], "unknown_tenant");
}

#[tokio::test]
async fn malformed_json_is_400_in_the_contract_shape() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    for body in [
        "{not json",
        "[]",
        r#"{"kind": "job"}"#,
        r#"{"kind": 1, "ats_id": "a", "suite_id": "b"}"#,
    ] {
        let response = app
            .admin(Method::PUT, PATH)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("put");
        let error = expect_status(response, 400).await;
        assert_eq!(error["error"]["code"], "malformed_body", "{body}");
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let bad_kind = json!({"kind": "spaceship", "ats_id": "a", "suite_id": "b"});
    let error = expect_status(
        app.admin(Method::PUT, PATH)
            .json(&bad_kind)
            .send()
            .await
            .expect("put"),
        400,
    )
    .await;
    assert_eq!(error["error"]["code"], "invalid_kind");
    let no_type = app
        .admin(Method::PUT, PATH)
        .body("{}")
        .send()
        .await
        .expect("put");
    expect_status(no_type, 415).await;
    let huge = app
        .admin(Method::PUT, PATH)
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .expect("put");
    let error = expect_status(huge, 413).await;
    assert_eq!(error["error"]["code"], "body_too_large");
}

#[tokio::test]
async fn a_tenant_cannot_reach_another_tenants_rows_through_the_api() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    app.add_tenant("globex").await;
    let body = json!({"kind": "job", "ats_id": "1", "suite_id": "prj_acme"});
    expect_status(
        app.admin(Method::PUT, PATH)
            .json(&body)
            .send()
            .await
            .expect("put"),
        201,
    )
    .await;

    let globex = "/api/v1/tenants/globex/equivalences";
    let listed = expect_status(
        app.admin(Method::GET, globex).send().await.expect("get"),
        200,
    )
    .await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(0));
    expect_status(
        app.admin(Method::DELETE, &format!("{globex}?kind=job&ats_id=1"))
            .send()
            .await
            .expect("delete"),
        404,
    )
    .await;
    let still = expect_status(app.admin(Method::GET, PATH).send().await.expect("get"), 200).await;
    assert_eq!(still["data"].as_array().map(Vec::len), Some(1));
}
