//! Faults at the simulator: retries, idempotency under retries, permanent errors.

use std::collections::HashSet;

use futures::StreamExt as _;
use liaison::suite::{CreateCandidateRequest, CreateInvitationRequest, OperationKey, SuiteError};
use serde_json::json;

use super::{TENANT, client_for, counter, test_settings};
use crate::sim_suite::spawn_suite;

#[tokio::test]
async fn five_hundred_operations_survive_faults_without_duplicates() {
    let suite = spawn_suite().await;
    let client = client_for(&suite.base, &test_settings());
    suite
        .control(
            "/_sim/faults",
            json!({"error_rate": 0.3, "status": 503, "rate_limit_every": 50}),
        )
        .await;

    let results: Vec<Result<String, SuiteError>> = futures::stream::iter(0..500)
        .map(|n| {
            let client = &client;
            async move {
                let request = CreateCandidateRequest {
                    external_ref: Some(format!("application-{n}")),
                    first_name: "Candidate".to_owned(),
                    last_name: n.to_string(),
                    email: format!("candidate{n}@example.com"),
                    phone: None,
                    locale: "pt-BR".to_owned(),
                };
                let key = OperationKey::new(TENANT, "candidate", format!("application-{n}"));
                client
                    .create_candidate(&key, &request)
                    .await
                    .map(|created| created.id().to_owned())
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;

    let ids: HashSet<String> = results
        .into_iter()
        .map(|result| result.expect("every operation succeeds"))
        .collect();
    assert_eq!(ids.len(), 500);
    let state = suite.state().await;
    let candidates = state["candidates"].as_object().expect("candidates");
    assert_eq!(candidates.len(), 500, "no duplicates at the suite");
    let refs: HashSet<&str> = candidates
        .values()
        .filter_map(|c| c["external_ref"].as_str())
        .collect();
    assert_eq!(refs.len(), 500);
    assert!(counter(&state, &["faults_injected"]) > 0);
    assert!(counter(&state, &["rate_limited"]) > 0);
}

#[tokio::test]
async fn a_permanent_error_is_not_retried() {
    let suite = spawn_suite().await;
    let client = client_for(&suite.base, &test_settings());
    let project = client
        .create_project(
            &OperationKey::new(TENANT, "project", "job-1"),
            &liaison::suite::CreateProjectRequest {
                title: "Job".to_owned(),
                ..Default::default()
            },
        )
        .await
        .expect("project");

    let error = client
        .create_invitation(
            &OperationKey::new(TENANT, "invite", "app-1"),
            project.id(),
            &CreateInvitationRequest {
                candidate_id: "cand_missing".to_owned(),
                expires_at: None,
            },
        )
        .await
        .expect_err("unknown candidate");

    match &error {
        SuiteError::Permanent { status, code, .. } => {
            assert_eq!((*status, code.as_str()), (422, "unknown_candidate"))
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
    let state = suite.state().await;
    assert_eq!(
        counter(&state, &["calls", "POST /v1/projects/{id}/invitations"]),
        1
    );
}
