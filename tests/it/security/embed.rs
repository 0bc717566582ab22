//! Security findings: embed (#9 replayed launch tokens, #10 time claims and `crit`, #11 empty or
//! short tenant secrets, #12 session tokens in URLs and sign-out, #22 `res`-bound launches).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use liaison::equivalence::EntityKind;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, tenant_toml};
use crate::web::support::{
    TenantOptions, WebApp, claims, launch_for, launch_secret, now, seed_project, session_in, sign,
};

fn with(key: &str, value: Value) -> Value {
    let mut claims = claims("acme");
    claims[key] = value;
    claims
}

/// The refusal code a page shows (`data-code="..."`), if any.
fn code_in(html: &str) -> Option<String> {
    let marker = "data-code=\"";
    let start = html.find(marker)? + marker.len();
    Some(html[start..].chars().take_while(|c| *c != '"').collect())
}

/// The `name=value` pair of a `Set-Cookie` header.
fn cookie_of(answer: &reqwest::Response) -> String {
    answer.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned()
}

fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a csrf field") + marker.len();
    html[start..].chars().take_while(|c| *c != '"').collect()
}

async fn get_with_cookie(app: &WebApp, path: &str, cookie: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("request")
}

async fn acme(app: &WebApp) -> liaison::ids::TenantId {
    app.add_tenant(TenantOptions::new("acme")).await
}

#[tokio::test]
async fn a_replayed_launch_token_is_refused_with_a_code() {
    // Security #9.
    let app = WebApp::spawn().await;
    acme(&app).await;
    let path = format!("/embed/acme/jobs/42?launch={}", launch_for("acme"));

    let first = app.get(&path).await;
    let second = app.get(&path).await;

    assert_eq!(first.status(), 303, "a launch redirects");
    let location = first.headers()["location"].to_str().expect("ascii");
    assert!(location.starts_with("/embed/acme/jobs/42?h="), "{location}");
    assert!(!location.contains("launch="), "{location}");
    assert_eq!(second.status(), 401);
    let html = second.text().await.expect("body");
    assert_eq!(code_in(&html).as_deref(), Some("launch_replayed"), "{html}");
    assert!(html.contains("already used"), "{html}");

    // Without a `jti`, the token itself is spent; racing copies: exactly one wins.
    let mut bare = claims("acme");
    bare.as_object_mut().expect("object").remove("jti");
    let bare = sign(&bare, &launch_secret("acme"));
    let path = format!("/embed/acme/applications/7?launch={bare}");
    let answers = futures::future::join_all((0..6).map(|_| app.get(&path))).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_reload_after_a_launch_works_through_the_cookie_and_the_hand_off_code_once() {
    // Security #9 and #12.
    let app = WebApp::spawn().await;
    acme(&app).await;
    let path = format!("/embed/acme/jobs/42?launch={}", launch_for("acme"));
    let launched = app.get(&path).await;
    assert_eq!(launched.status(), 303);
    let cookie = cookie_of(&launched);
    let location = launched.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();

    // The browser follows the redirect with its cookie, then reloads the page.
    let landed = get_with_cookie(&app, &location, &cookie).await;
    let reloaded = get_with_cookie(&app, "/embed/acme/jobs/42", &cookie).await;
    // The same launch URL again, in the same browser: its own session goes on.
    let again = app
        .client
        .get(app.url(&path))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");

    assert_eq!(landed.status(), 200);
    assert_eq!(reloaded.status(), 200);
    assert_eq!(again.status(), 303);
    assert_eq!(again.headers()["location"], "/embed/acme/jobs/42");
    // The hand-off code was spent when the cookie's page was served: worthless in any log.
    let replayed = app.get(&location).await;
    assert_eq!(replayed.status(), 401);
    assert_eq!(
        code_in(&replayed.text().await.expect("body")).as_deref(),
        Some("handoff_used")
    );

    // A frame that keeps no cookie is served once through the code.
    let launched = app
        .get(&format!(
            "/embed/acme/jobs/42?launch={}",
            launch_for("acme")
        ))
        .await;
    let location = launched.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(app.get(&location).await.status(), 200);
    assert_eq!(app.get(&location).await.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn a_launch_session_ends_soon_after_its_token() {
    // Security #9: at most 30 minutes, and at most 20 minutes after the token's `exp`.
    let app = WebApp::spawn().await;
    acme(&app).await;
    let token = sign(&with("exp", json!(now() + 60)), &launch_secret("acme"));

    let launched = app
        .get(&format!("/embed/acme/jobs/42?launch={token}"))
        .await;

    let cookie = launched.headers()["set-cookie"].to_str().expect("ascii");
    let max_age: i64 = cookie
        .split("; ")
        .find_map(|part| part.strip_prefix("Max-Age="))
        .expect("Max-Age")
        .parse()
        .expect("number");
    assert!(
        (60 + 20 * 60 - 5..=60 + 20 * 60).contains(&max_age),
        "{cookie}"
    );
    app.stop().await;
}

#[tokio::test]
async fn launch_tokens_beyond_ten_minutes_not_yet_valid_or_with_crit_are_refused() {
    // Security #10.
    let app = WebApp::spawn().await;
    acme(&app).await;
    let secret = launch_secret("acme");
    let crit = {
        let token = sign(&claims("acme"), &secret);
        let body = token.split('.').nth(1).expect("body").to_owned();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT","crit":["x-ext"]}"#);
        let input = format!("{header}.{body}");
        let tag = jsonwebtoken::crypto::sign(
            input.as_bytes(),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
            jsonwebtoken::Algorithm::HS256,
        )
        .expect("mac");
        format!("{input}.{tag}")
    };
    let cases = [
        (
            "exp +630 s",
            sign(&with("exp", json!(now() + 630)), &secret),
            "launch_too_long",
        ),
        (
            "nbf +3600 s",
            sign(&with("nbf", json!(now() + 3600)), &secret),
            "launch_not_yet_valid",
        ),
        ("crit header", crit, "launch_crit_header"),
    ];
    for (case, token, code) in cases {
        let answer = app.get(&format!("/embed/acme/jobs/1?launch={token}")).await;
        assert_eq!(answer.status(), 401, "{case}");
        let html = answer.text().await.expect("body");
        assert_eq!(code_in(&html).as_deref(), Some(code), "{case}");
    }
    let ten_minutes = sign(&with("exp", json!(now() + 600)), &secret);
    let answer = app
        .get(&format!("/embed/acme/jobs/1?launch={ten_minutes}"))
        .await;
    assert_eq!(answer.status(), 303, "exactly ten minutes is fine");
    app.stop().await;
}

#[tokio::test]
async fn tenant_apply_refuses_empty_or_short_secrets_naming_the_key() {
    // Security #11.
    let app = spawn_app().await;
    let good = tenant_toml("weak");
    let signed_json = good
        .replace("kind = \"gupy\"", "kind = \"signed-json\"")
        .replace("token = \"gupy-token-weak-S3CRET\"\n", "");
    let cases = [
        (
            good.replace("launch-weak-S3CRET-and-32-bytes-at-least", ""),
            "embed.launch_secret",
        ),
        (
            good.replace("launch-weak-S3CRET-and-32-bytes-at-least", "launch-weak"),
            "embed.launch_secret",
        ),
        (
            signed_json.replace("gupy-hook-weak-S3CRET", ""),
            "ats.webhook_secret",
        ),
        (
            signed_json.replace("gupy-hook-weak-S3CRET", "x"),
            "ats.webhook_secret",
        ),
        (
            good.replace("suite-client-weak-S3CRET", ""),
            "suite.client_secret",
        ),
    ];
    for (text, key) in cases {
        let file = tempfile::NamedTempFile::new().expect("temp");
        std::fs::write(file.path(), &text).expect("write");
        let output = app.cli(&["tenant", "apply", file.path().to_str().expect("utf-8")]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{key}: {stderr}");
        assert!(stderr.contains(&format!("`{key}`")), "{key}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    assert!(
        liaison::tenant::list(app.db())
            .await
            .expect("list")
            .is_empty(),
        "nothing was written"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_session_is_refused_after_sign_out() {
    // Security #12.
    let app = WebApp::spawn().await;
    acme(&app).await;
    let launched = app
        .get(&format!("/embed/acme/jobs/1?launch={}", launch_for("acme")))
        .await;
    let cookie = cookie_of(&launched);
    let html = get_with_cookie(&app, "/embed/acme/jobs/1", &cookie)
        .await
        .text()
        .await
        .expect("body");
    let session = session_in(&html);
    let csrf = csrf_in(&html);

    let signed_out = app
        .client
        .post(app.url("/sso/acme/logout"))
        .header("cookie", &cookie)
        .form(&[("s", session.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .expect("request");
    assert_eq!(signed_out.status(), 200);

    let by_token = app.get(&format!("/embed/acme/jobs/1?s={session}")).await;
    assert_eq!(by_token.status(), 401);
    assert_eq!(
        code_in(&by_token.text().await.expect("body")).as_deref(),
        Some("session_signed_out")
    );
    let by_cookie = get_with_cookie(&app, "/embed/acme/jobs/1", &cookie).await;
    assert_eq!(by_cookie.status(), 401);
    let popup = app
        .client
        .post(app.url("/open/acme/jobs/1"))
        .form(&[("s", session.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .expect("request");
    assert_eq!(popup.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn a_launch_bound_to_one_page_opens_no_other() {
    // Security #22.
    let app = WebApp::spawn().await;
    let tenant = acme(&app).await;
    let project = seed_project(&app.suite_client(), "Bound role").await;
    app.link(tenant, EntityKind::Job, "J1", &project).await;
    let bound = sign(&with("res", json!("jobs/J1")), &launch_secret("acme"));

    let launched = app
        .get(&format!("/embed/acme/jobs/J1?launch={bound}"))
        .await;
    assert_eq!(launched.status(), 303);
    let cookie = cookie_of(&launched);
    let own = get_with_cookie(&app, "/embed/acme/jobs/J1", &cookie).await;
    let other = get_with_cookie(&app, "/embed/acme/applications/A999", &cookie).await;

    assert_eq!(own.status(), 200);
    let html = own.text().await.expect("body");
    assert_eq!(other.status(), 403);
    assert_eq!(
        code_in(&other.text().await.expect("body")).as_deref(),
        Some("wrong_resource")
    );
    // Nor its popup, nor another page's launch with the same binding.
    let popup = app
        .client
        .post(app.url("/open/acme/jobs/J2"))
        .form(&[("s", session_in(&html)), ("csrf", csrf_in(&html))])
        .send()
        .await
        .expect("request");
    assert_eq!(popup.status(), 403);
    let elsewhere = sign(&with("res", json!("jobs/J1")), &launch_secret("acme"));
    let answer = app
        .get(&format!("/embed/acme/applications/A1?launch={elsewhere}"))
        .await;
    assert_eq!(answer.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn the_open_in_suite_button_carries_no_session_token_in_its_url() {
    // Security #12.
    let app = WebApp::spawn().await;
    let tenant = acme(&app).await;
    let project = seed_project(&app.suite_client(), "Popup role").await;
    app.link(tenant, EntityKind::Job, "42", &project).await;
    let page = app
        .get_launched(&format!(
            "/embed/acme/jobs/42?launch={}",
            launch_for("acme")
        ))
        .await;
    let html = page.text().await.expect("body");
    let session = session_in(&html);

    assert!(html.contains("action=\"/open/acme/jobs/42\""), "{html}");
    assert!(!html.contains("?s="), "no session in any URL of the page");
    assert!(!html.contains("href=\"/open/acme/jobs/42?"));

    // The button posts the session in the body; without the CSRF token it is refused.
    let forged = app
        .client
        .post(app.url("/open/acme/jobs/42"))
        .form(&[("s", session.as_str()), ("csrf", "forged")])
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), 403);
    let opened = app
        .client
        .post(app.url("/open/acme/jobs/42"))
        .form(&[("s", session.as_str()), ("csrf", csrf_in(&html).as_str())])
        .send()
        .await
        .expect("request");
    assert_eq!(opened.status(), 200);
    assert_eq!(opened.headers()["referrer-policy"], "no-referrer");
    let body = opened.text().await.expect("body");
    let login = format!("{}/login/", app.suite.base_url());
    assert!(
        body.contains(&format!("http-equiv=\"refresh\" content=\"0;url={login}")),
        "{body}"
    );
    assert!(!body.contains(&session));
    app.stop().await;
}
