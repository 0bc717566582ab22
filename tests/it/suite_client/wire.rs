//! Narrow adapter cases on `wiremock`: Retry-After, attempt bounds, timeouts, 4xx, secrets.

use std::time::{Duration, Instant};

use liaison::config::SuiteClientSettings;
use liaison::suite::{SuiteClient, SuiteError, build_http_client};
use liaison::tenant::SuiteAuth;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{TENANT, client_for, quick_retries, suite_settings, test_settings};

fn project_json() -> serde_json::Value {
    json!({
        "id": "prj_1", "external_ref": null, "title": "Job", "description": "", "location": "",
        "language": "en", "status": "open", "starts_on": null, "ends_on": null,
        "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z"
    })
}

/// A mock suite that hands out tokens.
async fn mock_suite() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn retry_after_is_obeyed() {
    let server = mock_suite().await;
    Mock::given(method("GET"))
        .and(path("/v1/projects/prj_1"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/projects/prj_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(project_json()))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server.uri(), &test_settings());

    let started = Instant::now();
    let project = client
        .get_project("prj_1")
        .await
        .expect("second attempt succeeds");

    assert_eq!(project.id, "prj_1");
    // The retry waited at least what the suite asked (a lower bound, never flaky).
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let server = mock_suite().await;
    Mock::given(method("GET"))
        .and(path("/v1/projects/prj_1"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": {"code": "invalid_request", "message": "bad"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server.uri(), &test_settings());

    let error = client.get_project("prj_1").await.expect_err("refused");

    assert_eq!(error.code(), "invalid_request");
    assert!(!error.is_transient());
}

#[tokio::test]
async fn transient_errors_stop_at_the_attempt_bound() {
    let server = mock_suite().await;
    Mock::given(method("GET"))
        .and(path("/v1/projects/prj_1"))
        .respond_with(ResponseTemplate::new(503))
        .expect(4)
        .mount(&server)
        .await;
    let settings = SuiteClientSettings {
        max_retries: 3,
        ..test_settings()
    };
    let client = client_for(&server.uri(), &settings);

    let error = client.get_project("prj_1").await.expect_err("gives up");

    assert!(
        matches!(
            error,
            SuiteError::Transient {
                status: Some(503),
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let server = mock_suite().await;
    Mock::given(method("GET"))
        .and(path("/v1/projects/prj_1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(project_json())
                .set_delay(Duration::from_secs(3)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/projects/prj_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(project_json()))
        .expect(1)
        .mount(&server)
        .await;
    let settings = SuiteClientSettings {
        request_timeout_ms: 300,
        ..test_settings()
    };
    let client = client_for(&server.uri(), &settings);

    let project = client
        .get_project("prj_1")
        .await
        .expect("retried after the timeout");

    assert_eq!(project.id, "prj_1");
}

#[tokio::test]
async fn a_wrong_client_secret_is_an_auth_error_that_never_shows_the_secret() {
    let suite = crate::sim_suite::spawn_suite().await;
    let settings = test_settings();
    let http = build_http_client(&settings).expect("http");
    let tenant = suite_settings(
        &suite.base,
        SuiteAuth::ClientCredentials,
        "wrong-S3CRET-value",
    );
    let client = SuiteClient::new(http, TENANT, &tenant, &settings, None)
        .expect("client")
        .with_retry_policy(quick_retries(&settings));

    let error = client.get_project("prj_1").await.expect_err("refused");

    assert_eq!(error.code(), "invalid_client");
    let printed = format!("{error} {error:?} {client:?} {tenant:?}");
    assert!(!printed.contains("wrong-S3CRET-value"), "{printed}");
    let state = suite.state().await;
    assert_eq!(
        super::counter(&state, &["token_requests", "client_credentials"]),
        1
    );
}
