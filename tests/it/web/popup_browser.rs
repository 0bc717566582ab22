//! The popup in a real browser (issue 15): headless Chromium, in Brazilian Portuguese, opens an
//! ATS page that frames a job page with an expired launch link, signs in through the tenant's
//! OIDC provider (`oidc-provider` from npm) in a popup, sees the frame told and refreshed, and
//! opens the suite as the mapped user.

use liaison::equivalence::{self, EntityKind};
use liaison::web::i18n::PT_BR;
use serde_json::Value;

use super::browser::parent_page;
use super::oidc::start_provider;
use super::support::{
    TenantOptions, WebApp, claims, launch_secret, now, run_browser_script, seed_project, sign,
};

/// A launch link for `slug` that expired ten minutes ago (past the clock skew Liaison allows).
fn expired_launch(slug: &str) -> String {
    let mut claims = claims(slug);
    claims["iat"] = (now() - 900).into();
    claims["exp"] = (now() - 600).into();
    sign(&claims, &launch_secret(slug))
}

fn texts(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_expired_link_signs_in_through_the_popup_and_open_in_suite_lands_as_the_mapped_user() {
    let app = WebApp::spawn().await;
    let provider = start_provider(&app, "acme").await;
    let frame_src = app.url(&format!(
        "/embed/acme/jobs/42?launch={}",
        expired_launch("acme")
    ));
    let parent = parent_page(frame_src).await;
    let parent_origin = format!("http://localhost:{}", parent.port());
    let acme = app
        .add_tenant(TenantOptions {
            frame_ancestors: vec![parent_origin.clone()],
            sso: Some(format!(
                "[sso]\nkind = \"oidc\"\nissuer = \"{}\"\nclient_id = \"liaison-test\"\nclient_secret = \"oidc-client-secret\"\n",
                provider.issuer
            )),
            ..TenantOptions::new("acme")
        })
        .await;
    let project = seed_project(&app.suite_client(), "Popup tested role").await;
    app.link(acme, EntityKind::Job, "42", &project).await;

    // A login name the provider answers with `role: recruiter` (tests/js/oidc-provider.mjs).
    let result = run_browser_script(
        "popup-check.mjs",
        &[
            &format!("{parent_origin}/"),
            "pt-BR",
            "alice+role=recruiter",
        ],
    )
    .await;

    assert_eq!(result["error"], Value::Null, "{result:#}");
    // The expired link: the "Sign in" page, in the browser's language, not an error page.
    let sign_in = &result["signIn"];
    assert_eq!(sign_in["heading"], PT_BR.sign_in_heading, "{result:#}");
    assert_eq!(sign_in["lang"], "pt-BR");
    assert_eq!(sign_in["code"], "launch_expired");
    assert!(
        sign_in["signInButton"]
            .as_str()
            .is_some_and(|b| b.starts_with(PT_BR.sign_in)),
        "{sign_in}"
    );
    // The provider's own login form was typed into, then consent given.
    let idp_steps: Vec<&str> = result["idp"]
        .as_array()
        .expect("idp steps")
        .iter()
        .filter_map(|step| step["step"].as_str())
        .collect();
    assert_eq!(idp_steps, ["login", "consent"], "{result:#}");
    assert!(
        result["idp"][0]["url"]
            .as_str()
            .is_some_and(|url| url.starts_with(&provider.issuer))
    );
    // The popup told the frame (to Liaison's origin only) and closed; the frame reloaded with a
    // one-time hand-off code and shows the job in pt-BR.
    assert_eq!(result["popupClosed"], true);
    let told: Vec<&Value> = result["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["type"] == "liaison:signed-in")
        .collect();
    assert_eq!(told.len(), 1, "{result:#}");
    assert_eq!(told[0]["at"], "/embed/acme/jobs/42");
    assert_eq!(told[0]["origin"], app.url(""));
    assert_eq!(told[0]["handoff"], true);
    let frame_urls = texts(&result["frameUrls"]);
    let handed_off = frame_urls
        .iter()
        .find(|url| url.contains("/embed/acme/jobs/42?h="))
        .unwrap_or_else(|| panic!("the frame reloads with a hand-off code: {result:#}"));
    let signed_in = &result["signedIn"];
    assert_eq!(signed_in["heading"], "Popup tested role", "{result:#}");
    assert_eq!(signed_in["lang"], "pt-BR");
    assert_eq!(
        texts(&signed_in["questions"]),
        [
            "Tell us about yourself",
            "Why this role?",
            "A hard problem you solved"
        ]
    );
    assert!(
        signed_in["openInSuite"]
            .as_str()
            .is_some_and(|b| b.starts_with(PT_BR.open_in_suite))
    );
    // "Open in suite": the suite's project page, as the suite user Liaison mapped.
    assert_eq!(
        result["suite"]["url"],
        format!("{}/projects/{project}", app.suite.base_url()),
        "{result:#}"
    );
    let state = app.suite_state().await;
    let login = state["logins"]
        .as_array()
        .and_then(|logins| logins.last())
        .expect("a login");
    let user = &state["users"][login["user_id"].as_str().expect("user id")];
    assert_eq!(user["email"], "alice@idp.example");
    assert_eq!(user["role"], "manager", "recruiter maps to manager");
    let name = user["name"].as_str().expect("name");
    assert!(
        result["suite"]["text"]
            .as_str()
            .is_some_and(|t| t.contains(&format!("signed in as {name}"))),
        "{result:#}"
    );
    let link = equivalence::lookup_by_ats(
        &app.database.db,
        acme,
        EntityKind::User,
        "sso:alice+role=recruiter",
    )
    .await
    .expect("lookup")
    .expect("the signed-in person is linked to the suite user");
    assert_eq!(link.suite_id, login["user_id"].as_str().expect("id"));
    // The hand-off code was spent by the frame: the same URL opens nothing again.
    let again = app.client.get(*handed_off).send().await.expect("get");
    assert_eq!(again.status(), 401);
    provider.process.stop().await;
    app.stop().await;
}
