//! A real browser: Debian's headless Chromium, driven by `playwright-core`, loads a parent page
//! from one loopback origin that frames a Liaison page from another.

use std::net::SocketAddr;

use axum::response::Html;
use liaison::equivalence::EntityKind;
use serde_json::Value;

use super::support::{TenantOptions, WebApp, js_dir, launch_for, seed_project};

/// An ATS stand-in: one page that frames `src`, on its own port.
pub(super) async fn parent_page(src: String) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let html = format!(
        "<!doctype html><title>ATS</title><h1>ATS job</h1>\
         <iframe src=\"{src}\" title=\"Video interview\" style=\"width:100%;height:760px;border:1px solid #ccc\"></iframe>"
    );
    let router =
        axum::Router::new().route("/", axum::routing::get(move || async move { Html(html) }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

async fn run_browser(parent: &str, open: bool) -> Value {
    let mut command = tokio::process::Command::new("node");
    command
        .arg(js_dir().join("embed-check.mjs"))
        .arg(parent)
        .current_dir(js_dir())
        .kill_on_drop(true);
    if open {
        command.arg("--open");
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), command.output())
        .await
        .expect("the browser finishes in time")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "browser failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("one JSON line")
}

#[tokio::test]
async fn the_page_renders_inside_an_allowed_parent_and_its_popup_reaches_the_suite() {
    let app = WebApp::spawn().await;
    // Not-yet-known origin: start the parent first, then name it in frame_ancestors.
    let project_src = |launch: &str| app.url(&format!("/embed/acme/jobs/42?launch={launch}"));
    let parent = parent_page(project_src(&launch_for("acme"))).await;
    let parent_origin = format!("http://localhost:{}", parent.port());
    let acme = app
        .add_tenant(TenantOptions {
            frame_ancestors: vec![parent_origin.clone()],
            ..TenantOptions::new("acme")
        })
        .await;
    let project = seed_project(&app.suite_client(), "Browser tested role").await;
    app.link(acme, EntityKind::Job, "42", &project).await;

    let result = run_browser(&format!("{parent_origin}/"), true).await;

    assert_eq!(result["rendered"], true, "{result}");
    assert_eq!(result["heading"], "Browser tested role");
    assert!(
        result["text"]
            .as_str()
            .unwrap_or("")
            .contains("Tell us about yourself")
    );
    let popup = result["popup"].as_str().expect("a popup");
    assert_eq!(
        popup,
        format!("{}/projects/{project}", app.suite.base_url())
    );
    let state = app.suite_state().await;
    let landing = state["logins"]
        .as_array()
        .and_then(|l| l.last())
        .cloned()
        .expect("a login");
    assert_eq!(landing["path"], format!("/projects/{project}"));
    let user = &state["users"][landing["user_id"].as_str().expect("user")];
    assert_eq!(user["email"], "rita@acme.test");
    app.stop().await;
}

#[tokio::test]
async fn a_parent_not_in_frame_ancestors_is_blocked() {
    let app = WebApp::spawn().await;
    let acme = app.add_tenant(TenantOptions::new("acme")).await;
    let project = seed_project(&app.suite_client(), "Hidden role").await;
    app.link(acme, EntityKind::Job, "42", &project).await;
    let parent = parent_page(app.url(&format!(
        "/embed/acme/jobs/42?launch={}",
        launch_for("acme")
    )))
    .await;

    let result = run_browser(&format!("http://localhost:{}/", parent.port()), false).await;

    assert_eq!(result["rendered"], false, "{result}");
    assert!(
        !result["text"]
            .as_str()
            .unwrap_or("")
            .contains("Hidden role")
    );
    app.stop().await;
}
