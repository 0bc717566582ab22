//! The popup into the suite: a session becomes a suite user with the mapped role and a one-time
//! login that lands on the linked project or invitation page.

use liaison::equivalence::{self, EntityKind};
use serde_json::Value;

use super::support::{
    TenantOptions, WebApp, launch_for, seed_invitation, seed_project, session_in,
};

fn user_by_email<'a>(state: &'a Value, email: &str) -> &'a Value {
    state["users"]
        .as_object()
        .expect("users")
        .values()
        .find(|user| user["email"] == email)
        .expect("the suite user exists")
}

async fn follow_to_suite(app: &WebApp, path: &str) -> String {
    let answer = app.get(path).await;
    assert_eq!(
        answer.status(),
        303,
        "{}",
        answer.text().await.unwrap_or_default()
    );
    let location = answer.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        location.starts_with(&format!("{}/login/", app.suite.base_url())),
        "a one-time login URL of the suite: {location}"
    );
    // Spend the link like the browser would, following the suite's own redirect.
    let landed = reqwest::get(&location).await.expect("login");
    assert_eq!(landed.status(), 200);
    landed.url().path().to_owned()
}

#[tokio::test]
async fn the_job_popup_lands_on_the_project_as_the_mapped_suite_user() {
    let app = WebApp::spawn().await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    let project = seed_project(&app.suite_client(), "Recruiter view").await;
    app.link(acme, EntityKind::Job, "42", &project).await;
    let html = app
        .get_launched(&format!(
            "/embed/acme/jobs/42?launch={}",
            launch_for("acme")
        ))
        .await
        .text()
        .await
        .expect("body");
    let session = session_in(&html);

    let landed = follow_to_suite(&app, &format!("/open/acme/jobs/42?s={session}")).await;

    assert_eq!(landed, format!("/projects/{project}"));
    let state = app.suite_state().await;
    let user = user_by_email(&state, "rita@acme.test");
    assert_eq!(user["role"], "manager", "recruiter maps to manager");
    let login = state["logins"]
        .as_array()
        .expect("logins")
        .last()
        .expect("a login");
    assert_eq!(login["user_id"], user["id"]);
    assert_eq!(login["path"], format!("/projects/{project}"));
    let link = equivalence::lookup_by_ats(&app.database.db, acme, EntityKind::User, "ats-user-7")
        .await
        .expect("lookup")
        .expect("the ATS user is linked to the suite user");
    assert_eq!(link.suite_id, user["id"].as_str().expect("id"));
    app.stop().await;
}

#[tokio::test]
async fn the_application_popup_lands_on_the_invitation_and_reuses_the_user() {
    let app = WebApp::spawn().await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    let client = app.suite_client();
    let project = seed_project(&client, "Reviewer view").await;
    let invitation = seed_invitation(&client, &project, "cand@example.com").await;
    app.link(acme, EntityKind::Application, "app-1", &invitation)
        .await;
    // Each click with its own launch token (each is spent once).
    let path = || {
        format!(
            "/open/acme/applications/app-1?launch={}",
            launch_for("acme")
        )
    };

    let first = follow_to_suite(&app, &path()).await;
    let second = follow_to_suite(&app, &path()).await;

    assert_eq!(first, format!("/invitations/{invitation}"));
    assert_eq!(second, first, "each click gets a fresh one-time link");
    let state = app.suite_state().await;
    let users = state["users"].as_object().expect("users");
    let ritas = users
        .values()
        .filter(|u| u["email"] == "rita@acme.test")
        .count();
    assert_eq!(ritas, 1, "the suite user is found, not created twice");
    app.stop().await;
}

#[tokio::test]
async fn the_popup_without_a_session_goes_to_sso_sign_in_and_back() {
    let app = WebApp::spawn().await;
    app.add_tenant(TenantOptions {
        sso: Some(
            "[sso]\nkind = \"oidc\"\nissuer = \"http://127.0.0.1:9\"\nclient_id = \"x\"\n".into(),
        ),
        ..TenantOptions::new("acme")
    })
    .await;

    let answer = app.get("/open/acme/jobs/42").await;

    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"],
        "/sso/acme/login?return_to=%2Fopen%2Facme%2Fjobs%2F42"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_popup_for_an_unsynced_job_is_a_404_page() {
    let app = WebApp::spawn().await;
    app.add_tenant(TenantOptions::new("acme")).await;
    let answer = app
        .get(&format!(
            "/open/acme/jobs/nope?launch={}",
            launch_for("acme")
        ))
        .await;
    assert_eq!(answer.status(), 404);
    app.stop().await;
}
