//! Every endpoint of the contract, typed, against the simulator.

use liaison::suite::{
    CandidateFilter, CreateCandidateRequest, CreateInvitationRequest, CreateProjectRequest,
    CreateSessionRequest, CreateUserRequest, CreateWebhookRequest, Created, InvitationFilter,
    InvitationStatus, OperationKey, PageRequest, ProjectFilter, ProjectStatus, QuestionRequest,
    Recommendation, Role, SuiteError, UpdateCandidateRequest, UpdateProjectRequest,
    UpdateUserRequest,
};
use secrecy::ExposeSecret as _;
use serde_json::json;

use super::{TENANT, client_for, counter, test_settings};
use crate::sim_suite::spawn_suite;

fn key(operation: &str, subject: &str) -> OperationKey {
    OperationKey::new(TENANT, operation, subject)
}

fn project(external_ref: &str) -> CreateProjectRequest {
    CreateProjectRequest {
        external_ref: Some(external_ref.to_owned()),
        title: format!("Job {external_ref}"),
        description: "Builds things".to_owned(),
        location: "Remote".to_owned(),
        language: "pt-BR".to_owned(),
        starts_on: None,
        ends_on: None,
    }
}

fn candidate(email: &str) -> CreateCandidateRequest {
    CreateCandidateRequest {
        external_ref: Some(format!("ats-{email}")),
        first_name: "Ana".to_owned(),
        last_name: "Silva".to_owned(),
        email: email.to_owned(),
        phone: None,
        locale: "pt-BR".to_owned(),
    }
}

fn expect_new<T>(created: Created<T>) -> T {
    match created {
        Created::New(object) => object,
        Created::Existing { existing_id } => panic!("expected a new object, got {existing_id}"),
    }
}

#[tokio::test]
async fn project_calls_round_trip() {
    let suite = spawn_suite().await;
    let client = client_for(&suite.base, &test_settings());

    let created = expect_new(
        client
            .create_project(&key("project", "job-1"), &project("job-1"))
            .await
            .expect("create"),
    );
    assert_eq!(created.language, "pt-BR");
    let fetched = client.get_project(&created.id).await.expect("get");
    assert_eq!(fetched, created);

    let filter = ProjectFilter {
        external_ref: Some("job-1".to_owned()),
        status: None,
    };
    let page = client
        .list_projects(&filter, &PageRequest::default())
        .await
        .expect("list");
    assert_eq!(page.data.len(), 1);

    let patch = UpdateProjectRequest {
        title: Some("Staff engineer".to_owned()),
        ..UpdateProjectRequest::default()
    };
    let patched = client
        .update_project(&created.id, &patch)
        .await
        .expect("patch");
    assert_eq!(patched.title, "Staff engineer");

    let questions = [("Why us?", 30), ("Tell us about a project", 60)].map(|(text, thinking)| {
        QuestionRequest {
            text: text.to_owned(),
            thinking_seconds: thinking,
            answer_seconds: 120,
            retakes: 1,
        }
    });
    let replaced = client
        .replace_questions(&created.id, &questions)
        .await
        .expect("put questions");
    assert_eq!(replaced.len(), 2);
    let listed = client.list_questions(&created.id).await.expect("questions");
    let positions: Vec<(u32, &str)> = listed
        .iter()
        .map(|q| (q.position, q.text.as_str()))
        .collect();
    assert_eq!(positions, [(1, "Why us?"), (2, "Tell us about a project")]);

    let archived = client.archive_project(&created.id).await.expect("archive");
    assert_eq!(archived.status, ProjectStatus::Archived);
    let again = client
        .archive_project(&created.id)
        .await
        .expect("archive twice");
    assert_eq!(again.status, ProjectStatus::Archived);
    let all = client
        .list_all_projects(&ProjectFilter::default())
        .await
        .expect("all");
    assert_eq!(all.len(), 1);
}

#[tokio::test]
async fn candidate_calls_round_trip_and_a_taken_email_answers_the_existing_id() {
    let suite = spawn_suite().await;
    let client = client_for(&suite.base, &test_settings());

    let ana = expect_new(
        client
            .create_candidate(&key("candidate", "1"), &candidate("ana@example.com"))
            .await
            .expect("create"),
    );
    assert_eq!(client.get_candidate(&ana.id).await.expect("get"), ana);
    let filter = CandidateFilter {
        email: Some("ana@example.com".to_owned()),
        external_ref: None,
    };
    let found = client.list_all_candidates(&filter).await.expect("list");
    assert_eq!(found.len(), 1);

    let patch = UpdateCandidateRequest {
        phone: Some(Some("+55 11 99999-0000".to_owned())),
        ..UpdateCandidateRequest::default()
    };
    let patched = client
        .update_candidate(&ana.id, &patch)
        .await
        .expect("patch");
    assert_eq!(patched.phone.as_deref(), Some("+55 11 99999-0000"));

    // Another operation with the same email: the suite names the candidate in the way.
    let other = client
        .create_candidate(&key("candidate", "2"), &candidate("ANA@example.com"))
        .await
        .expect("create");
    assert_eq!(
        other,
        Created::Existing {
            existing_id: ana.id.clone()
        }
    );
    assert_eq!(other.id(), ana.id);
}

#[tokio::test]
async fn invitation_calls_round_trip() {
    let suite = spawn_suite().await;
    let client = client_for(&suite.base, &test_settings());
    let project = expect_new(
        client
            .create_project(&key("project", "job-2"), &project("job-2"))
            .await
            .expect("project"),
    );
    let ana = expect_new(
        client
            .create_candidate(&key("candidate", "ana"), &candidate("ana@example.com"))
            .await
            .expect("candidate"),
    );

    let request = CreateInvitationRequest {
        candidate_id: ana.id.clone(),
        expires_at: None,
    };
    let invitation = expect_new(
        client
            .create_invitation(&key("invite", "app-1"), &project.id, &request)
            .await
            .expect("invite"),
    );
    assert_eq!(invitation.status, InvitationStatus::Sent);
    let twice = client
        .create_invitation(&key("invite", "app-1-again"), &project.id, &request)
        .await
        .expect("invite again");
    assert_eq!(twice.id(), invitation.id);

    assert_eq!(
        client.get_invitation(&invitation.id).await.expect("get"),
        invitation
    );
    let sent = InvitationFilter {
        status: Some(InvitationStatus::Sent),
    };
    let page = client
        .list_invitations(&project.id, &sent, &PageRequest::default())
        .await
        .expect("list");
    assert_eq!(page.data.len(), 1);

    suite
        .control(
            &format!("/_sim/invitations/{}/complete", invitation.id),
            json!({"reviews": [
                {"score": 80, "recommendation": "advance", "comment": "good"},
                {"score": 60, "recommendation": "advance", "comment": "fine"}
            ]}),
        )
        .await;
    let reviews = client.list_reviews(&invitation.id).await.expect("reviews");
    assert_eq!(reviews.len(), 2);
    let result = client.get_result(&invitation.id).await.expect("result");
    assert_eq!(result.status, InvitationStatus::Completed);
    assert_eq!(result.average_score, Some(70.0));
    assert_eq!(result.recommendation, Some(Recommendation::Advance));
    assert_eq!(result.review_count, 2);

    let bia = expect_new(
        client
            .create_candidate(&key("candidate", "bia"), &candidate("bia@example.com"))
            .await
            .expect("candidate"),
    );
    let second = expect_new(
        client
            .create_invitation(
                &key("invite", "app-2"),
                &project.id,
                &CreateInvitationRequest {
                    candidate_id: bia.id,
                    expires_at: None,
                },
            )
            .await
            .expect("invite"),
    );
    let cancelled = client.cancel_invitation(&second.id).await.expect("cancel");
    assert_eq!(cancelled.status, InvitationStatus::Cancelled);
    let all = client
        .list_all_invitations(&project.id, &InvitationFilter::default())
        .await
        .expect("all");
    assert_eq!(all.len(), 2);
}

#[tokio::test]
async fn user_session_and_webhook_calls_round_trip() {
    let suite = spawn_suite().await;
    let client = client_for(&suite.base, &test_settings());

    let user = expect_new(
        client
            .create_user(
                &key("user", "recruiter-1"),
                &CreateUserRequest {
                    email: "rita@acme.example".to_owned(),
                    name: "Rita".to_owned(),
                    role: Role::Manager,
                },
            )
            .await
            .expect("user"),
    );
    let patch = UpdateUserRequest {
        role: Some(Role::Reviewer),
        ..UpdateUserRequest::default()
    };
    let patched = client.update_user(&user.id, &patch).await.expect("patch");
    assert_eq!(patched.role, Role::Reviewer);
    let users = client.list_all_users().await.expect("users");
    assert!(users.iter().any(|u| u.id == user.id));
    let page = client
        .list_users(&PageRequest {
            limit: Some(1),
            cursor: None,
        })
        .await
        .expect("page");
    assert_eq!(page.data.len(), 1);
    assert!(page.next_cursor.is_some());

    let session = client
        .create_session(
            &key("session", "sso-session-1"),
            &CreateSessionRequest {
                user_id: user.id.clone(),
                redirect_path: "/projects/prj_1".to_owned(),
            },
        )
        .await
        .expect("session");
    assert!(session.login_url.expose_secret().starts_with(&suite.base));

    let webhook = client
        .create_webhook(
            &key("webhook", "suite-events"),
            &CreateWebhookRequest {
                url: "http://127.0.0.1:9/webhooks/acme/suite".to_owned(),
                events: vec!["*".to_owned()],
            },
        )
        .await
        .expect("webhook");
    let secret = webhook.secret.as_ref().expect("a secret on creation");
    assert!(secret.expose_secret().starts_with("whsec_"));
    assert!(!format!("{webhook:?}").contains(secret.expose_secret()));
    let listed = client
        .list_webhooks(&PageRequest::default())
        .await
        .expect("list");
    assert_eq!(listed.data.len(), 1);
    client.delete_webhook(&webhook.id).await.expect("delete");
    client
        .delete_webhook(&webhook.id)
        .await
        .expect("delete twice");
    let listed = client
        .list_webhooks(&PageRequest::default())
        .await
        .expect("list");
    assert!(listed.data.is_empty());
}

#[tokio::test]
async fn listing_walks_past_several_pages() {
    let suite = spawn_suite().await;
    let client = client_for(&suite.base, &test_settings());
    for n in 0..230 {
        client
            .create_candidate(
                &key("candidate", &n.to_string()),
                &candidate(&format!("c{n}@example.com")),
            )
            .await
            .expect("create");
    }

    let all = client
        .list_all_candidates(&CandidateFilter::default())
        .await
        .expect("list");

    let mut emails: Vec<&str> = all.iter().map(|c| c.email.as_str()).collect();
    emails.sort_unstable();
    emails.dedup();
    assert_eq!(emails.len(), 230);
    let state = suite.state().await;
    assert_eq!(counter(&state, &["calls", "GET /v1/candidates"]), 3);
}

#[tokio::test]
async fn a_replayed_create_answers_the_first_object() {
    let suite = spawn_suite().await;
    let client = client_for(&suite.base, &test_settings());
    let operation = key("project", "job-9");

    let first = client
        .create_project(&operation, &project("job-9"))
        .await
        .expect("first");
    let replay = client
        .create_project(&operation, &project("job-9"))
        .await
        .expect("replay");

    assert_eq!(first, replay);
    let state = suite.state().await;
    assert_eq!(state["projects"].as_object().map(|p| p.len()), Some(1));
    assert_eq!(counter(&state, &["idempotent_replays"]), 1);
}

#[tokio::test]
async fn a_missing_object_is_not_found() {
    let suite = spawn_suite().await;
    let client = client_for(&suite.base, &test_settings());

    let error = client.get_project("prj_nope").await.expect_err("missing");

    assert!(matches!(error, SuiteError::NotFound { .. }), "{error:?}");
    assert_eq!(error.code(), "not_found");
}
