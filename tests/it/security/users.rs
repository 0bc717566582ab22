//! Security findings: users (review rows #1, #2, #3). The popup into the suite binds a person's
//! suite account to their ATS user id, never to an email alone; roles only go up; OIDC needs a
//! verified email and brings the role claim.

use liaison::equivalence::{self, EntityKind};
use liaison::ids::TenantId;
use reqwest::Url;
use serde_json::{Value, json};

use crate::web::oidc::{
    Provider, authorization_url, browser, location, start_provider, walk_provider_as,
};
use crate::web::support::{TenantOptions, WebApp, launch_secret, now, seed_project, sign};

const SUITE_ADMIN: &str = "admin@suite.example";

/// A launch token for `sub` with `email` and, if any, the ATS `role` (default `[roles]`:
/// admin -> admin, recruiter -> manager, interviewer -> reviewer).
fn launch_as(sub: &str, email: &str, role: Option<&str>) -> String {
    // Each token its own `jti`: a launch token is spent once, and two launches with the same
    // claims in one second would otherwise be the same token.
    let mut claims = json!({"aud": "liaison", "tenant": "acme", "sub": sub, "email": email,
                            "iat": now(), "exp": now() + 300,
                            "jti": format!("jti-{}", rand::random::<u64>())});
    if let Some(role) = role {
        claims["role"] = json!(role);
    }
    sign(&claims, &launch_secret("acme"))
}

/// Liaison with tenant `acme` and job 42 linked to a suite project.
async fn app_with_a_job(sso: Option<String>) -> (WebApp, TenantId, String) {
    let app = WebApp::spawn().await;
    let acme = app
        .add_tenant(TenantOptions {
            sso,
            ..TenantOptions::new("acme")
        })
        .await;
    let project = seed_project(&app.suite_client(), "Security").await;
    app.link(acme, EntityKind::Job, "42", &project).await;
    (app, acme, project)
}

async fn open_job(app: &WebApp, launch: &str) -> reqwest::Response {
    app.get(&format!("/open/acme/jobs/42?launch={launch}"))
        .await
}

fn user_by_email<'a>(state: &'a Value, email: &str) -> &'a Value {
    state["users"]
        .as_object()
        .expect("users")
        .values()
        .find(|user| user["email"] == email)
        .expect("the suite user exists")
}

/// How many one-time login links the suite minted for `user_id`.
fn logins_of(state: &Value, user_id: &Value) -> usize {
    state["sessions"]
        .as_object()
        .expect("sessions")
        .values()
        .filter(|link| link["user_id"] == *user_id)
        .count()
}

/// The user a one-time login URL (a redirect to `{suite}/login/{token}`) logs in.
async fn user_of_login(app: &WebApp, answer: &reqwest::Response) -> Value {
    let location = answer.headers()["location"].to_str().expect("ascii");
    let token = location
        .strip_prefix(&format!("{}/login/", app.suite.base_url()))
        .unwrap_or_else(|| panic!("a one-time login URL of the suite: {location}"));
    app.suite_state().await["sessions"][token]["user_id"].clone()
}

/// Opens the suite and answers the one-time login's user id.
async fn login_user(app: &WebApp, launch: &str) -> Value {
    let answer = open_job(app, launch).await;
    assert_eq!(answer.status(), 303, "{:?}", answer.headers());
    user_of_login(app, &answer).await
}

/// A 403 refusal page that names `code`.
async fn assert_refused(answer: reqwest::Response, code: &str) {
    assert_eq!(answer.status(), 403);
    assert!(answer.headers().get("location").is_none());
    let html = answer.text().await.expect("body");
    assert!(html.contains(code), "the page names {code}: {html}");
}

#[tokio::test]
async fn a_launch_with_the_email_of_a_user_linked_to_someone_else_gets_no_login_and_no_role_change()
{
    let (app, acme, _) = app_with_a_job(None).await;
    let boss_id = login_user(&app, &launch_as("u-boss", "boss@acme.test", Some("admin"))).await;
    let before = app.suite_state().await;
    assert_eq!(user_by_email(&before, "boss@acme.test")["role"], "admin");

    for email in ["boss@acme.test", "BOSS@ACME.TEST", "Boss@Acme.Test"] {
        let evil = launch_as("u-evil", email, Some("interviewer"));
        assert_refused(
            open_job(&app, &evil).await,
            "suite_account_linked_elsewhere",
        )
        .await;
    }

    let after = app.suite_state().await;
    let boss = user_by_email(&after, "boss@acme.test");
    assert_eq!(boss["id"], boss_id);
    assert_eq!(boss["role"], "admin", "boss keeps the admin role");
    assert_eq!(
        logins_of(&after, &boss_id),
        logins_of(&before, &boss_id),
        "no one-time login for boss's account"
    );
    let evil_link = equivalence::lookup_by_ats(&app.database.db, acme, EntityKind::User, "u-evil")
        .await
        .expect("lookup");
    assert!(evil_link.is_none(), "u-evil is linked to nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_launch_with_the_suite_s_own_admin_email_gets_no_login_into_it() {
    let (app, acme, _) = app_with_a_job(None).await;
    let before = app.suite_state().await;
    let admin_id = user_by_email(&before, SUITE_ADMIN)["id"].clone();

    for email in [SUITE_ADMIN.to_owned(), SUITE_ADMIN.to_uppercase()] {
        let intern = launch_as("u-intern", &email, Some("interviewer"));
        assert_refused(open_job(&app, &intern).await, "suite_account_taken").await;
    }

    let after = app.suite_state().await;
    let admin = user_by_email(&after, SUITE_ADMIN);
    assert_eq!(admin["role"], "admin", "the suite's admin is not demoted");
    assert_eq!(
        logins_of(&after, &admin_id),
        0,
        "no login into the suite's admin"
    );
    let link = equivalence::lookup_by_ats(&app.database.db, acme, EntityKind::User, "u-intern")
        .await
        .expect("lookup");
    assert!(link.is_none());
    app.stop().await;
}

#[tokio::test]
async fn two_ats_users_racing_for_one_new_email_never_share_the_account() {
    let (app, acme, _) = app_with_a_job(None).await;

    for round in 0..5 {
        let email = format!("new{round}@acme.test");
        let first = launch_as(&format!("u-a{round}"), &email, Some("recruiter"));
        let second = launch_as(&format!("u-b{round}"), &email, Some("recruiter"));
        let (a, b) = tokio::join!(open_job(&app, &first), open_job(&app, &second));

        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [303, 403], "round {round}: one gets the account");
        let state = app.suite_state().await;
        let user = user_by_email(&state, &email);
        assert_eq!(logins_of(&state, &user["id"]), 1);
        let links = [format!("u-a{round}"), format!("u-b{round}")];
        let mut linked = 0;
        for ats_id in &links {
            linked += equivalence::lookup_by_ats(&app.database.db, acme, EntityKind::User, ats_id)
                .await
                .expect("lookup")
                .is_some() as usize;
        }
        assert_eq!(linked, 1, "round {round}: one link");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_popup_raises_a_role_but_never_lowers_it() {
    let (app, _, _) = app_with_a_job(None).await;
    let rita = login_user(
        &app,
        &launch_as("u-rita", "rita@acme.test", Some("interviewer")),
    )
    .await;
    let role_of_rita = |state: Value| user_by_email(&state, "rita@acme.test")["role"].clone();
    assert_eq!(role_of_rita(app.suite_state().await), "reviewer");

    let again = login_user(
        &app,
        &launch_as("u-rita", "rita@acme.test", Some("recruiter")),
    )
    .await;
    assert_eq!(again, rita, "the linked user, not another one");
    assert_eq!(role_of_rita(app.suite_state().await), "manager", "raised");

    for lower in [Some("interviewer"), None, Some("no-such-role")] {
        let opened = login_user(&app, &launch_as("u-rita", "rita@acme.test", lower)).await;
        assert_eq!(opened, rita);
        assert_eq!(
            role_of_rita(app.suite_state().await),
            "manager",
            "{lower:?} does not lower the role"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_linked_user_is_found_by_the_ats_user_id_whatever_email_the_session_carries() {
    let (app, _, _) = app_with_a_job(None).await;
    let ana = login_user(
        &app,
        &launch_as("u-ana", "ana@acme.test", Some("recruiter")),
    )
    .await;

    // The ATS now sends another address for the same ATS user: still ana's suite account.
    let moved = login_user(
        &app,
        &launch_as("u-ana", "ana.new@acme.test", Some("recruiter")),
    )
    .await;

    assert_eq!(moved, ana);
    let state = app.suite_state().await;
    let anas = state["users"]
        .as_object()
        .expect("users")
        .values()
        .filter(|user| user["email"] == "ana.new@acme.test")
        .count();
    assert_eq!(anas, 0, "no second account from the new email");
    app.stop().await;
}

#[tokio::test]
async fn a_user_liaison_created_can_be_linked_again_after_an_unlink() {
    let (app, acme, _) = app_with_a_job(None).await;
    let bea = login_user(
        &app,
        &launch_as("u-bea", "bea@acme.test", Some("recruiter")),
    )
    .await;
    equivalence::unlink(&app.database.db, acme, EntityKind::User, "u-bea")
        .await
        .expect("unlink");

    // The ATS gave Bea a new id: the first link by email to a user Liaison created is allowed.
    let relinked = login_user(
        &app,
        &launch_as("u-bea-2", "BEA@acme.test", Some("recruiter")),
    )
    .await;

    assert_eq!(relinked, bea);
    let link = equivalence::lookup_by_ats(&app.database.db, acme, EntityKind::User, "u-bea-2")
        .await
        .expect("lookup")
        .expect("linked");
    assert_eq!(link.suite_id, bea.as_str().expect("id"));
    app.stop().await;
}

fn oidc_tenant(provider: &Provider) -> String {
    format!(
        "[sso]\nkind = \"oidc\"\nissuer = \"{}\"\nclient_id = \"liaison-test\"\nclient_secret = \"oidc-client-secret\"\n",
        provider.issuer
    )
}

/// Signs in at the provider as `login` (tests/js/oidc-provider.mjs) and answers the callback.
async fn oidc_sign_in(
    app: &WebApp,
    browser: &reqwest::Client,
    provider: &Provider,
    login: &str,
    return_to: &str,
) -> reqwest::Response {
    let auth = authorization_url(app, browser, return_to).await;
    let callback = walk_provider_as(browser, auth, &provider.issuer, login).await;
    browser.get(callback).send().await.expect("callback")
}

#[tokio::test]
async fn an_oidc_sign_in_with_an_unverified_email_is_refused() {
    let app = WebApp::spawn().await;
    let provider = start_provider(&app, "acme").await;
    let acme = app
        .add_tenant(TenantOptions {
            sso: Some(oidc_tenant(&provider)),
            ..TenantOptions::new("acme")
        })
        .await;
    let project = seed_project(&app.suite_client(), "Security").await;
    app.link(acme, EntityKind::Job, "42", &project).await;
    let browser = browser();

    let answer = oidc_sign_in(
        &app,
        &browser,
        &provider,
        "boss+unverified",
        "%2Fopen%2Facme%2Fjobs%2F42",
    )
    .await;

    assert_eq!(answer.status(), 401);
    assert!(answer.headers().get("set-cookie").is_none(), "no session");
    assert!(answer.headers().get("location").is_none());
    let html = answer.text().await.expect("body");
    assert!(html.contains("email_not_verified"), "{html}");
    let state = app.suite_state().await;
    assert!(
        state["sessions"].as_object().expect("sessions").is_empty(),
        "no one-time login"
    );
    provider.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn an_oidc_role_claim_reaches_the_suite_user() {
    let app = WebApp::spawn().await;
    let provider = start_provider(&app, "acme").await;
    let acme = app
        .add_tenant(TenantOptions {
            sso: Some(oidc_tenant(&provider)),
            ..TenantOptions::new("acme")
        })
        .await;
    let project = seed_project(&app.suite_client(), "Security").await;
    app.link(acme, EntityKind::Job, "42", &project).await;
    let browser = browser();

    let signed_in = oidc_sign_in(
        &app,
        &browser,
        &provider,
        "carol+role=admin",
        "%2Fopen%2Facme%2Fjobs%2F42",
    )
    .await;
    assert_eq!(
        signed_in.status(),
        303,
        "{}",
        signed_in.text().await.unwrap_or_default()
    );
    let popup = location(&signed_in, &Url::parse(&app.url("/")).expect("url"));
    // The session itself carries the role (what the admin console's SSO check reads too). It
    // travels in the session cookie; the popup's URL carries only a one-time hand-off code.
    let token = signed_in
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix("liaison_session_acme="))
        .and_then(|rest| rest.split(';').next())
        .expect("the session cookie")
        .to_owned();
    let body = token.split('.').next().expect("body");
    let session: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, body)
            .expect("base64"),
    )
    .expect("json");
    assert_eq!(session["role"], "admin");
    assert_eq!(session["origin"], "oidc");
    let opened = browser.get(popup).send().await.expect("popup");

    assert_eq!(
        opened.status(),
        303,
        "{}",
        opened.text().await.unwrap_or_default()
    );
    let state = app.suite_state().await;
    let carol = user_by_email(&state, "carol@idp.example");
    assert_eq!(
        carol["role"], "admin",
        "the role claim maps through [roles]"
    );
    assert_eq!(logins_of(&state, &carol["id"]), 1);
    provider.process.stop().await;
    app.stop().await;
}
