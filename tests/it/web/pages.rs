//! The pages in every state a recruiter meets, in both languages, with their headers.

use std::time::Duration;

use liaison::equivalence::EntityKind;
use serde_json::json;

use super::support::{
    TenantOptions, WebApp, claims, complete_with_reviews, launch_for, launch_secret,
    seed_invitation, seed_project, sign,
};

fn assert_csp(answer: &reqwest::Response) {
    let csp = answer.headers()["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        csp.ends_with("frame-ancestors 'self' https://ats.example.com"),
        "{csp}"
    );
}

async fn page(app: &WebApp, path: &str, launch: &str) -> (u16, String) {
    let answer = app.get_launched(&format!("{path}?launch={launch}")).await;
    let status = answer.status().as_u16();
    assert_csp(&answer);
    (status, answer.text().await.expect("body"))
}

fn portuguese_launch() -> String {
    let mut pt = claims("acme");
    pt["locale"] = json!("pt-BR");
    sign(&pt, &launch_secret("acme"))
}

#[tokio::test]
async fn the_job_page_shows_title_status_questions_in_order_and_counts() {
    let app = WebApp::spawn().await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    let client = app.suite_client();
    let project = seed_project(&client, "Backend engineer").await;
    let first = seed_invitation(&client, &project, "one@example.com").await;
    seed_invitation(&client, &project, "two@example.com").await;
    complete_with_reviews(&app, &first, json!([])).await;
    app.link(acme, EntityKind::Job, "42", &project).await;

    let (status, html) = page(&app, "/embed/acme/jobs/42", &launch_for("acme")).await;

    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<h1 id=\"heading\">Backend engineer</h1>"));
    assert!(html.contains("Open"));
    let order: Vec<usize> = ["Tell us about yourself", "Why this role?", "A hard problem"]
        .iter()
        .map(|text| html.find(text).expect("question shown"))
        .collect();
    assert!(
        order.windows(2).all(|pair| pair[0] < pair[1]),
        "questions out of order"
    );
    assert!(html.contains("Thinking time: 30 s"));
    assert!(html.contains("<dt>Sent</dt><dd>1</dd>"), "{html}");
    assert!(html.contains("<dt>Completed</dt><dd>1</dd>"));
    assert!(html.contains("action=\"/open/acme/jobs/42\""));
    assert!(html.contains("Open in suite"));
    assert!(!html.contains("<script>"), "no inline script");
    app.stop().await;
}

#[tokio::test]
async fn pages_speak_brazilian_portuguese_from_the_token_or_the_tenant() {
    let app = WebApp::spawn().await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    app.add_tenant(TenantOptions {
        locale: Some("pt-BR"),
        ..TenantOptions::new("brasil")
    })
    .await;
    let project = seed_project(&app.suite_client(), "Analista").await;
    app.link(acme, EntityKind::Job, "42", &project).await;
    let mut pt = claims("acme");
    pt["locale"] = json!("pt-BR");

    let (_, html) = page(
        &app,
        "/embed/acme/jobs/42",
        &sign(&pt, &launch_secret("acme")),
    )
    .await;
    assert!(html.contains("<html lang=\"pt-BR\">"));
    assert!(html.contains("Abrir na plataforma"));
    assert!(html.contains("Perguntas"));

    let (_, html) = page(&app, "/embed/brasil/jobs/1", &launch_for("brasil")).await;
    assert!(html.contains("Ainda não sincronizado"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn an_unlinked_job_or_application_is_not_synced_yet_in_both_languages() {
    let app = WebApp::spawn().await;
    app.add_tenant(TenantOptions::new("acme")).await;
    let mut pt = claims("acme");
    pt["locale"] = json!("pt-BR");
    let pt = sign(&pt, &launch_secret("acme"));

    let (status, html) = page(&app, "/embed/acme/jobs/404", &launch_for("acme")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Not synced yet"));
    let (status, html) = page(&app, "/embed/acme/applications/404", &pt).await;
    assert_eq!(status, 200);
    assert!(html.contains("Ainda não sincronizado"));
    assert!(html.contains("ainda não tem entrevista"));
    app.stop().await;
}

#[tokio::test]
async fn an_archived_project_says_so() {
    let app = WebApp::spawn().await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    let client = app.suite_client();
    let project = seed_project(&client, "Old role").await;
    client.archive_project(&project).await.expect("archive");
    app.link(acme, EntityKind::Job, "1", &project).await;

    let (_, html) = page(&app, "/embed/acme/jobs/1", &launch_for("acme")).await;
    assert!(html.contains("status-archived"));
    assert!(html.contains("This interview project is archived"));
    let (_, html) = page(&app, "/embed/acme/jobs/1", &portuguese_launch()).await;
    assert!(html.contains("Arquivado"));
    assert!(html.contains("Este projeto de entrevista está arquivado"));
    app.stop().await;
}

#[tokio::test]
async fn the_application_page_shows_status_dates_reviews_average_and_recording_link() {
    let app = WebApp::spawn().await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    let client = app.suite_client();
    let project = seed_project(&client, "Designer").await;
    let invitation = seed_invitation(&client, &project, "bia@example.com").await;
    complete_with_reviews(
        &app,
        &invitation,
        json!([
            {"score": 80, "recommendation": "advance", "comment": "Clear & structured"},
            {"score": 65, "recommendation": "hold", "comment": "Good <b>portfolio</b>"}
        ]),
    )
    .await;
    app.link(acme, EntityKind::Application, "app-9", &invitation)
        .await;

    let (status, html) = page(&app, "/embed/acme/applications/app-9", &launch_for("acme")).await;

    assert_eq!(status, 200);
    assert!(html.contains("status-completed"));
    assert!(html.contains("Invited"));
    assert!(html.contains("Completed"));
    assert!(html.contains("72.5"), "average score: {html}");
    assert!(html.contains("Clear &#38; structured"), "{html}");
    assert!(
        html.contains("portfolio") && !html.contains("<b>portfolio"),
        "comments are escaped"
    );
    assert!(html.contains(">Advance<"));
    assert!(html.contains(">Hold<"));
    assert!(html.contains("action=\"/open/acme/applications/app-9\""));
    assert!(html.contains("Watch the recording in the suite"));
    app.stop().await;
}

#[tokio::test]
async fn an_application_without_reviews_says_so_in_both_languages() {
    let app = WebApp::spawn().await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    let client = app.suite_client();
    let project = seed_project(&client, "Support").await;
    let invitation = seed_invitation(&client, &project, "ana@example.com").await;
    app.link(acme, EntityKind::Application, "a1", &invitation)
        .await;
    let mut pt = claims("acme");
    pt["locale"] = json!("pt-BR");

    let (_, html) = page(&app, "/embed/acme/applications/a1", &launch_for("acme")).await;
    assert!(html.contains("No reviews yet."));
    assert!(html.contains("status-sent"));
    let pt = sign(&pt, &launch_secret("acme"));
    let (_, html) = page(&app, "/embed/acme/applications/a1", &pt).await;
    assert!(html.contains("Ainda não há avaliações."));
    app.stop().await;
}

#[tokio::test]
async fn watch_the_recording_appears_only_once_the_interview_is_completed() {
    let app = WebApp::spawn().await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    let client = app.suite_client();
    let project = seed_project(&client, "Support").await;
    let sent = seed_invitation(&client, &project, "ana@example.com").await;
    let started = seed_invitation(&client, &project, "bia@example.com").await;
    reqwest::Client::new()
        .post(format!(
            "{}/_sim/invitations/{started}/start",
            app.suite.base_url()
        ))
        .send()
        .await
        .expect("start")
        .error_for_status()
        .expect("started");
    app.link(acme, EntityKind::Application, "a-sent", &sent)
        .await;
    app.link(acme, EntityKind::Application, "a-started", &started)
        .await;

    for (path, status) in [
        ("/embed/acme/applications/a-sent", "status-sent"),
        ("/embed/acme/applications/a-started", "status-started"),
    ] {
        let (_, html) = page(&app, path, &launch_for("acme")).await;
        assert!(html.contains(status), "{html}");
        assert!(
            !html.contains("Watch the recording"),
            "no recording exists yet: {html}"
        );
        assert!(html.contains("No recording yet"), "{html}");
        let (_, html) = page(&app, path, &portuguese_launch()).await;
        assert!(!html.contains("Assistir à gravação"), "{html}");
        assert!(html.contains("Ainda não há gravação"), "{html}");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_suite_shows_the_last_known_data_with_its_age() {
    let app = WebApp::spawn_with_cache(Duration::ZERO).await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    let project = seed_project(&app.suite_client(), "Data engineer").await;
    app.link(acme, EntityKind::Job, "42", &project).await;
    let (_, html) = page(&app, "/embed/acme/jobs/42", &launch_for("acme")).await;
    assert!(!html.contains("not answering"));

    app.suite_faults(json!({"error_rate": 1.0, "status": 503}))
        .await;
    let (status, html) = page(&app, "/embed/acme/jobs/42", &launch_for("acme")).await;

    assert_eq!(status, 200);
    assert!(html.contains("Data engineer"), "the last known data");
    assert!(html.contains("The suite is not answering"));
    assert!(html.contains("minutes ago"));
    let (status, html) = page(&app, "/embed/acme/jobs/42", &portuguese_launch()).await;
    assert_eq!(status, 200);
    assert!(html.contains("A plataforma não está respondendo"));
    assert!(html.contains("minutos atrás"));
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_suite_with_nothing_known_is_a_503_page() {
    let app = WebApp::spawn_with_cache(Duration::ZERO).await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    app.link(acme, EntityKind::Job, "42", "prj_unknown").await;
    app.suite_faults(json!({"error_rate": 1.0, "status": 503}))
        .await;

    let (status, html) = page(&app, "/embed/acme/jobs/42", &launch_for("acme")).await;

    assert_eq!(status, 503);
    assert!(html.contains("The suite is not answering"));
    let (status, html) = page(&app, "/embed/acme/jobs/42", &portuguese_launch()).await;
    assert_eq!(status, 503);
    assert!(html.contains("<html lang=\"pt-BR\">"));
    app.stop().await;
}

#[tokio::test]
async fn a_project_deleted_in_the_suite_shows_that_it_is_gone() {
    let app = WebApp::spawn().await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    app.link(acme, EntityKind::Job, "42", "prj_gone").await;

    let (status, html) = page(&app, "/embed/acme/jobs/42", &launch_for("acme")).await;

    assert_eq!(status, 200);
    assert!(html.contains("no longer has this item"));
    app.stop().await;
}

#[tokio::test]
async fn an_ats_page_full_of_iframes_reads_the_suite_once() {
    let app = WebApp::spawn().await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    let project = seed_project(&app.suite_client(), "Popular role").await;
    app.link(acme, EntityKind::Job, "42", &project).await;
    let before = app.suite_state().await;
    let reads = |state: &serde_json::Value| {
        state["counters"]["calls"]["GET /v1/projects/{id}"]
            .as_u64()
            .unwrap_or(0)
    };
    // Each frame with its own launch token (each is spent once).
    let frames = (0..12).map(|_| {
        app.get_launched_owned(format!("/embed/acme/jobs/42?launch={}", launch_for("acme")))
    });
    for answer in futures::future::join_all(frames).await {
        assert_eq!(answer.status(), 200);
    }

    let after = app.suite_state().await;
    assert_eq!(reads(&after) - reads(&before), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_stylesheet_is_served_locally_with_nosniff() {
    let app = WebApp::spawn().await;
    let answer = app.get("/static/liaison.css").await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/css")
    );
    app.stop().await;
}
