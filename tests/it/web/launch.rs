//! Launch tokens and sessions: the token matrix, tenant isolation, sessions carried without
//! cookies, and the CSRF-protected sign-out.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use liaison::equivalence::EntityKind;
use serde_json::{Value, json};

use super::support::{
    TenantOptions, WebApp, claims, launch_for, launch_secret, now, seed_project, session_in, sign,
};

fn with(key: &str, value: Value) -> Value {
    let mut claims = claims("acme");
    claims[key] = value;
    claims
}

fn without(key: &str) -> Value {
    let mut claims = claims("acme");
    claims.as_object_mut().expect("object").remove(key);
    claims
}

fn oidc_sso() -> Option<String> {
    Some(
        "[sso]\nkind = \"oidc\"\nissuer = \"http://127.0.0.1:9\"\nclient_id = \"liaison\"\n"
            .to_owned(),
    )
}

#[tokio::test]
async fn a_valid_launch_token_opens_the_page_and_starts_a_partitioned_session() {
    let app = WebApp::spawn().await;
    app.add_tenant(TenantOptions::new("acme")).await;

    let answer = app
        .get_launched(&format!(
            "/embed/acme/jobs/42?launch={}",
            launch_for("acme")
        ))
        .await;

    assert_eq!(answer.status(), 200);
    let headers = answer.headers().clone();
    assert_eq!(
        headers["content-security-policy"]
            .to_str()
            .expect("ascii")
            .rsplit("; ")
            .next(),
        Some("frame-ancestors 'self' https://ats.example.com")
    );
    assert!(headers.get("x-frame-options").is_none());
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let cookie = headers["set-cookie"].to_str().expect("ascii");
    for part in ["Secure", "HttpOnly", "SameSite=None", "Partitioned"] {
        assert!(cookie.contains(part), "{part} missing in {cookie}");
    }
    let html = answer.text().await.expect("body");
    assert!(!html.contains(&launch_secret("acme")));
    // The session travels in the page's own links, for browsers that drop the cookie.
    let token = session_in(&html);
    let again = app.get(&format!("/embed/acme/jobs/42?s={token}")).await;
    assert_eq!(again.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn bad_launch_tokens_get_the_401_sign_in_page() {
    let app = WebApp::spawn().await;
    app.add_tenant(TenantOptions {
        sso: oidc_sso(),
        ..TenantOptions::new("acme")
    })
    .await;
    let secret = launch_secret("acme");
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none_body = URL_SAFE_NO_PAD.encode(claims("acme").to_string());
    let cases = [
        ("expired", sign(&with("exp", json!(now() - 120)), &secret)),
        (
            "future iat",
            sign(&with("iat", json!(now() + 600)), &secret),
        ),
        (
            "exp too far",
            sign(&with("exp", json!(now() + 3600)), &secret),
        ),
        (
            "wrong tenant",
            sign(&with("tenant", json!("globex")), &secret),
        ),
        (
            "wrong audience",
            sign(&with("aud", json!("other")), &secret),
        ),
        ("wrong secret", sign(&claims("acme"), "not-the-secret")),
        ("alg none", format!("{none_header}.{none_body}.")),
        ("missing email", sign(&without("email"), &secret)),
        ("missing sub", sign(&without("sub"), &secret)),
        ("missing exp", sign(&without("exp"), &secret)),
        ("missing aud", sign(&without("aud"), &secret)),
        ("garbage", "garbage".to_owned()),
    ];
    for (case, token) in cases {
        let answer = app
            .get(&format!("/embed/acme/applications/9?launch={token}"))
            .await;
        assert_eq!(answer.status(), 401, "{case}");
        assert!(
            answer.headers()["content-security-policy"]
                .to_str()
                .expect("ascii")
                .contains("frame-ancestors 'self' https://ats.example.com")
        );
        assert!(answer.headers().get("set-cookie").is_none(), "{case}");
        let html = answer.text().await.expect("body");
        assert!(html.contains("Sign in"), "{case}: {html}");
        assert!(
            html.contains("/sso/acme/login?return_to=%2Fembed%2Facme%2Fapplications%2F9"),
            "{case}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn no_token_and_no_session_is_401_and_an_unknown_tenant_is_404() {
    let app = WebApp::spawn().await;
    app.add_tenant(TenantOptions::new("acme")).await;

    assert_eq!(app.get("/embed/acme/jobs/1").await.status(), 401);
    assert_eq!(
        app.get("/embed/acme/jobs/1?s=forged.token").await.status(),
        401
    );
    let malformed = app.get("/embed/acme/jobs/1?launch=a&launch=b").await;
    assert_eq!(malformed.status(), 400);
    assert!(
        malformed.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let unknown = app
        .get(&format!(
            "/embed/nobody/jobs/1?launch={}",
            launch_for("nobody")
        ))
        .await;
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_token_or_session_of_tenant_a_cannot_open_tenant_b_s_pages() {
    let app = WebApp::spawn().await;
    app.add_tenant(TenantOptions::new("acme")).await;
    let globex = app.add_tenant(TenantOptions::new("globex")).await;
    let project = seed_project(&app.suite_client(), "Globex secret role").await;
    app.link(globex, EntityKind::Job, "77", &project).await;

    // A's launch token on B's page, even naming B's real ATS id.
    let answer = app
        .get(&format!(
            "/embed/globex/jobs/77?launch={}",
            launch_for("acme")
        ))
        .await;
    assert_eq!(answer.status(), 401);
    assert!(
        !answer
            .text()
            .await
            .expect("body")
            .contains("Globex secret role")
    );

    // A token claiming B but signed with A's secret.
    let forged = sign(&claims("globex"), &launch_secret("acme"));
    let answer = app
        .get(&format!("/embed/globex/jobs/77?launch={forged}"))
        .await;
    assert_eq!(answer.status(), 401);

    // A's session, in the link or in the cookie.
    let html = app
        .get_launched(&format!(
            "/embed/acme/jobs/77?launch={}",
            launch_for("acme")
        ))
        .await
        .text()
        .await
        .expect("body");
    let session = session_in(&html);
    let answer = app.get(&format!("/embed/globex/jobs/77?s={session}")).await;
    assert_eq!(answer.status(), 401);
    let answer = app
        .client
        .get(app.url("/embed/globex/jobs/77"))
        .header("cookie", format!("liaison_session_globex={session}"))
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status(), 401);
    assert!(
        !answer
            .text()
            .await
            .expect("body")
            .contains("Globex secret role")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_partitioned_cookie_alone_opens_a_page() {
    let app = WebApp::spawn().await;
    app.add_tenant(TenantOptions::new("acme")).await;
    let first = app
        .get(&format!("/embed/acme/jobs/1?launch={}", launch_for("acme")))
        .await;
    let cookie = first.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();

    let answer = app
        .client
        .get(app.url("/embed/acme/applications/5"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("request");

    assert_eq!(answer.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn signing_out_needs_the_form_s_csrf_token() {
    let app = WebApp::spawn().await;
    app.add_tenant(TenantOptions::new("acme")).await;
    let html = app
        .get_launched(&format!("/embed/acme/jobs/1?launch={}", launch_for("acme")))
        .await
        .text()
        .await
        .expect("body");
    let session = session_in(&html);
    let marker = "name=\"csrf\" value=\"";
    let csrf_start = html.find(marker).expect("csrf field") + marker.len();
    let csrf: String = html[csrf_start..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();

    let forged = app
        .client
        .post(app.url("/sso/acme/logout"))
        .form(&[("s", session.as_str()), ("csrf", "forged")])
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), 403);

    let signed_out = app
        .client
        .post(app.url("/sso/acme/logout"))
        .form(&[("s", session.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .expect("request");
    assert_eq!(signed_out.status(), 200);
    assert!(
        signed_out.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .contains("Max-Age=0")
    );
    app.stop().await;
}
