//! OIDC against a real, independent provider (`oidc-provider` from npm on loopback): the whole
//! authorization code flow with PKCE, and tampered `state` or `nonce` refused.

use reqwest::Url;

use super::support::{NodeProcess, TenantOptions, WebApp, js_dir, session_in};

pub(crate) struct Provider {
    pub(crate) process: NodeProcess,
    pub(crate) issuer: String,
}

pub(crate) async fn start_provider(app: &WebApp, slug: &str) -> Provider {
    let redirect = app.url(&format!("/sso/{slug}/oidc/callback"));
    let process = NodeProcess::start(
        "oidc-provider.mjs",
        &[&redirect, "liaison-test", "oidc-client-secret"],
        &js_dir(),
    )
    .await;
    let port = process
        .first_line
        .strip_prefix("LISTENING ")
        .expect("the provider's port");
    Provider {
        issuer: format!("http://127.0.0.1:{port}"),
        process,
    }
}

async fn tenant_with(app: &WebApp, provider: &Provider) {
    app.add_tenant(TenantOptions {
        sso: Some(format!(
            "[sso]\nkind = \"oidc\"\nissuer = \"{}\"\nclient_id = \"liaison-test\"\nclient_secret = \"oidc-client-secret\"\n",
            provider.issuer
        )),
        ..TenantOptions::new("acme")
    })
    .await;
}

/// A browser stand-in: a cookie jar, redirects followed by hand.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub(crate) fn location(answer: &reqwest::Response, base: &Url) -> Url {
    let location = answer.headers()["location"].to_str().expect("ascii");
    base.join(location).expect("a URL")
}

/// Follows redirects from `url` until one leaves the provider (back to Liaison).
async fn walk_provider(browser: &reqwest::Client, start: Url, issuer: &str) -> Url {
    walk_provider_as(browser, start, issuer, "alice").await
}

/// `walk_provider`, logging in as `login` (see tests/js/oidc-provider.mjs for the names that
/// change the claims).
pub(crate) async fn walk_provider_as(
    browser: &reqwest::Client,
    start: Url,
    issuer: &str,
    login: &str,
) -> Url {
    let mut url = start;
    for _ in 0..10 {
        if !url.as_str().starts_with(issuer) {
            return url;
        }
        let answer = browser.get(url.clone()).send().await.expect("provider");
        if answer.status().is_redirection() {
            url = location(&answer, &url);
            continue;
        }
        // An interaction page: log in (dev interactions take any name), then consent.
        let body = answer.text().await.expect("page");
        let prompt = if body.contains("name=\"login\"") {
            "login"
        } else {
            "consent"
        };
        let action = url
            .join(&format!("{}/{}", url.path().trim_end_matches('/'), ""))
            .expect("url");
        let form: Vec<(&str, &str)> = if prompt == "login" {
            vec![("prompt", "login"), ("login", login), ("password", "x")]
        } else {
            vec![("prompt", "consent")]
        };
        let submitted = browser
            .post(action)
            .form(&form)
            .send()
            .await
            .expect("interaction");
        assert!(submitted.status().is_redirection(), "{prompt} accepted");
        url = location(&submitted, &url);
    }
    panic!("the provider never sent the browser back");
}

/// Starts sign-in at Liaison and returns the provider's authorization URL.
pub(crate) async fn authorization_url(
    app: &WebApp,
    browser: &reqwest::Client,
    return_to: &str,
) -> Url {
    let start = browser
        .get(app.url(&format!("/sso/acme/login?return_to={return_to}")))
        .send()
        .await
        .expect("login");
    assert_eq!(
        start.status(),
        303,
        "{}",
        start.text().await.unwrap_or_default()
    );
    location(&start, &Url::parse(&app.url("/")).expect("url"))
}

#[tokio::test]
async fn a_full_authorization_code_flow_ends_with_a_session() {
    let app = WebApp::spawn().await;
    let provider = start_provider(&app, "acme").await;
    tenant_with(&app, &provider).await;
    let browser = browser();

    let auth = authorization_url(&app, &browser, "%2Fembed%2Facme%2Fjobs%2F42").await;
    let query: std::collections::HashMap<_, _> = auth.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(query.contains_key("nonce") && query.contains_key("state"));
    let callback = walk_provider(&browser, auth, &provider.issuer).await;
    assert!(callback.path().ends_with("/sso/acme/oidc/callback"));
    let done = browser.get(callback).send().await.expect("callback");

    assert_eq!(done.status(), 200, "signed in");
    assert!(
        done.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .contains("Partitioned")
    );
    let html = done.text().await.expect("body");
    assert!(html.contains("liaison-signed-in"));
    assert!(html.contains(&format!("data-origin=\"http://{}\"", app.address)));
    let continue_at = html
        .find("/embed/acme/jobs/42?h=")
        .expect("a way back to the page");
    let handoff: String = html[continue_at + 22..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let page = app.get(&format!("/embed/acme/jobs/42?h={handoff}")).await;
    assert_eq!(page.status(), 200);
    assert!(!session_in(&page.text().await.expect("body")).is_empty());
    provider.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn the_signed_in_page_speaks_the_browser_s_language() {
    let app = WebApp::spawn().await;
    let provider = start_provider(&app, "acme").await;
    tenant_with(&app, &provider).await;
    let browser = browser();
    let auth = authorization_url(&app, &browser, "%2Fembed%2Facme%2Fjobs%2F42").await;
    let callback = walk_provider(&browser, auth, &provider.issuer).await;

    let done = browser
        .get(callback)
        .header("accept-language", "pt-BR,pt;q=0.9,en;q=0.8")
        .send()
        .await
        .expect("callback");

    assert_eq!(done.status(), 200);
    let html = done.text().await.expect("body");
    assert!(html.contains("<html lang=\"pt-BR\""), "{html}");
    assert!(
        html.contains(liaison::web::i18n::PT_BR.signed_in_heading),
        "{html}"
    );
    provider.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_tampered_state_is_refused() {
    let app = WebApp::spawn().await;
    let provider = start_provider(&app, "acme").await;
    tenant_with(&app, &provider).await;
    let browser = browser();
    let auth = authorization_url(&app, &browser, "").await;
    let mut callback = walk_provider(&browser, auth, &provider.issuer).await;
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                format!("{v}x")
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    callback.query_pairs_mut().clear().extend_pairs(pairs);

    let answer = browser.get(callback).send().await.expect("callback");

    assert_eq!(answer.status(), 401);
    assert!(answer.headers().get("set-cookie").is_none());
    provider.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_tampered_nonce_is_refused() {
    let app = WebApp::spawn().await;
    let provider = start_provider(&app, "acme").await;
    tenant_with(&app, &provider).await;
    let browser = browser();
    let mut auth = authorization_url(&app, &browser, "").await;
    // The provider signs whatever nonce it is given: Liaison must notice it is not its own.
    let pairs: Vec<(String, String)> = auth
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "nonce" {
                "attacker-nonce".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    auth.query_pairs_mut().clear().extend_pairs(pairs);
    let callback = walk_provider(&browser, auth, &provider.issuer).await;

    let answer = browser.get(callback).send().await.expect("callback");

    assert_eq!(answer.status(), 401);
    assert!(answer.headers().get("set-cookie").is_none());
    provider.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let app = WebApp::spawn().await;
    let provider = start_provider(&app, "acme").await;
    tenant_with(&app, &provider).await;
    let browser = browser();
    let auth = authorization_url(&app, &browser, "").await;
    let callback = walk_provider(&browser, auth, &provider.issuer).await;
    let first = browser
        .get(callback.clone())
        .send()
        .await
        .expect("callback");
    assert_eq!(first.status(), 200);

    let again = browser.get(callback).send().await.expect("callback");

    assert_eq!(again.status(), 401);
    provider.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_callback_opened_in_another_browser_is_refused() {
    let app = WebApp::spawn().await;
    let provider = start_provider(&app, "acme").await;
    tenant_with(&app, &provider).await;
    let attacker = browser();
    let auth = authorization_url(&app, &attacker, "").await;
    let callback = walk_provider(&attacker, auth, &provider.issuer).await;

    // Login CSRF: the attacker's callback planted in the victim's browser.
    let victim = browser();
    let answer = victim.get(callback.clone()).send().await.expect("callback");

    assert_eq!(answer.status(), 401);
    assert!(answer.headers().get("set-cookie").is_none());
    // The sign-in was not spent by the refused attempt.
    assert_eq!(
        attacker
            .get(callback)
            .send()
            .await
            .expect("callback")
            .status(),
        200
    );
    provider.process.stop().await;
    app.stop().await;
}
