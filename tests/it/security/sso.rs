//! Security findings: sso (review rows #8, #13, #14, #15). Real parts only: Liaison on a loopback
//! port, the `saml-idp` IdP from npm, a loopback metadata server and a wiremock OIDC issuer that
//! count what they serve, and the `liaison` binary for `tenant apply`.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use liaison::ids::TenantId;
use liaison::store::entities::sso_login;
use liaison::web::session::{Session, SessionOrigin};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::admin_support::browser;
use crate::helpers::{spawn_app, spawn_app_with, tenant_toml};
use crate::web::saml::{
    Idp, post_acs, post_acs_with_cookie, signed_response_for, sp_entity_id, start_idp, tenant_with,
};
use crate::web::support::{TenantOptions, WebApp};

const ERROR_CODE: &str = "x-liaison-error";

/// A client whose requests leave from `source` (any 127.0.0.0/8 address is this machine).
fn client_from(source: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(source))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().expect("pair").to_owned()
}

/// The `Set-Cookie` of `response` that sets `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// A loopback server that serves `body` at `/metadata` and counts the requests.
async fn counting_metadata_server(body: String) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let router = axum::Router::new().route(
        "/metadata",
        axum::routing::get(move || {
            let counter = counter.clone();
            let body = body.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                body
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{address}/metadata"), count)
}

/// A SAML tenant `acme` whose IdP metadata (the real IdP's) comes from a counting server.
async fn saml_tenant_behind_counting_metadata(app: &WebApp) -> (Idp, Arc<AtomicUsize>, TenantId) {
    let idp = start_idp(app, &sp_entity_id(app)).await;
    let metadata = reqwest::get(format!("{}/metadata", idp.base))
        .await
        .expect("metadata")
        .text()
        .await
        .expect("xml");
    let (url, count) = counting_metadata_server(metadata).await;
    let tenant = app
        .add_tenant(TenantOptions {
            sso: Some(format!(
                "[sso]\nkind = \"saml\"\nidp_metadata_url = \"{url}\"\n"
            )),
            ..TenantOptions::new("acme")
        })
        .await;
    (idp, count, tenant)
}

// Finding #8: the admin console's SSO hand-off.

#[tokio::test]
async fn the_admin_sso_finish_url_works_once_and_only_in_the_browser_that_signed_in() {
    let app = WebApp::spawn_with(Duration::from_secs(30), |settings| {
        settings.admin.sso_tenant = Some("acme".to_owned());
    })
    .await;
    let idp = start_idp(&app, &sp_entity_id(&app)).await;
    tenant_with(&app, &idp).await;
    // The IdP states a `role` attribute; `admin` maps to the suite role admin.
    let added = reqwest::Client::new()
        .post(format!("{}/metadata", idp.base))
        .form(&[("attributeName", "role"), ("displayName", "Role")])
        .send()
        .await
        .expect("add the role attribute");
    assert!(added.status().is_success() || added.status().is_redirection());
    let (response, relay) = signed_response_for(
        &app,
        &idp,
        "boss@idp.example",
        "%2Fadmin%2Fsso%2Ffinish",
        &[("role", "admin")],
    )
    .await;

    let acs = post_acs(&app, &response, &relay).await;

    assert_eq!(acs.status(), 303);
    let location = acs.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        location.starts_with("/admin/sso/finish?code="),
        "{location}"
    );
    assert!(
        set_cookie(&acs, "liaison_session_acme").is_none(),
        "an admin sign-in mints no tenant session"
    );
    let binding = set_cookie(&acs, "liaison_admin_sso").expect("the binding cookie");
    assert!(
        binding.contains("HttpOnly") && binding.contains("Max-Age=60"),
        "{binding}"
    );
    let finish = |cookie: Option<String>| {
        let mut request = browser().get(app.url(&location));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    // The URL alone (another browser, a proxy log) opens nothing, and does not spend the code.
    assert_eq!(finish(None).await.expect("get").status(), 403);
    let first = finish(Some(cookie_pair(&binding))).await.expect("get");
    assert_eq!(first.status(), 303);
    let console = set_cookie(&first, "liaison_admin").expect("a console session");
    let page = browser()
        .get(app.url("/admin"))
        .header("cookie", cookie_pair(&console))
        .send()
        .await
        .expect("get");
    assert_eq!(page.status(), 200);
    // A second use of the same URL, even from the same browser, is refused.
    let again = finish(Some(cookie_pair(&binding))).await.expect("get");
    assert_eq!(again.status(), 403);
    assert!(set_cookie(&again, "liaison_admin").is_none());
    idp.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_tenant_sso_session_token_no_longer_opens_the_console() {
    let app = spawn_app_with(|settings| {
        settings.admin.sso_tenant = Some("acme".to_owned());
    })
    .await;
    app.add_tenant("acme").await;
    let mut session = Session::new(
        "acme",
        "sso:u1".into(),
        "boss@acme.test".into(),
        SessionOrigin::Saml,
        chrono::Utc::now().timestamp(),
    );
    session.role = Some("admin".to_owned());
    let token = app.state.web.keys().sign(&session);

    for query in [format!("s={token}"), format!("code={token}")] {
        let answer = browser()
            .get(app.url(&format!("/admin/sso/finish?{query}")))
            .send()
            .await
            .expect("get");

        assert_eq!(answer.status(), 403, "{query}");
        assert!(answer.headers().get("set-cookie").is_none());
    }
    app.stop().await;
}

// Finding #13: SAML sign-in bound to the browser that started it.

#[tokio::test]
async fn a_saml_post_without_the_browser_binding_cookie_is_refused() {
    let app = WebApp::spawn().await;
    let idp = start_idp(&app, &sp_entity_id(&app)).await;
    tenant_with(&app, &idp).await;
    let (response, relay) = signed_response_for(&app, &idp, "saml.user@idp.example", "", &[]).await;
    let (_, other_relay) = signed_response_for(&app, &idp, "saml.user@idp.example", "", &[]).await;

    // Auto-posted into a browser that never started this sign-in (login CSRF).
    let without = post_acs_with_cookie(&app, &response, &relay, None).await;
    assert_eq!(without.status(), 401);
    assert_eq!(without.headers()[ERROR_CODE], "saml_not_bound");
    // A browser that started another sign-in.
    let other = format!("liaison_saml_acme={other_relay}");
    let crossed = post_acs_with_cookie(&app, &response, &relay, Some(&other)).await;
    assert_eq!(crossed.status(), 401);
    assert_eq!(crossed.headers()[ERROR_CODE], "saml_not_bound");

    // The browser that started it signs in, and its binding is cleared.
    let bound = post_acs(&app, &response, &relay).await;
    assert_eq!(bound.status(), 200);
    let cleared = set_cookie(&bound, "liaison_saml_acme").expect("cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    idp.process.stop().await;
    app.stop().await;
}

// Finding #14: limits on unauthenticated SSO requests.

#[tokio::test]
async fn sign_in_starts_beyond_a_client_s_allowance_get_429_with_retry_after() {
    let app = WebApp::spawn().await;
    let (idp, _, _) = saml_tenant_behind_counting_metadata(&app).await;
    let one = client_from(Ipv4Addr::new(127, 0, 0, 1));
    let login = app.url("/sso/acme/login");

    // 30 at once are allowed, then one more every 2 seconds.
    let mut statuses = Vec::new();
    let limited = loop {
        let answer = one.get(&login).send().await.expect("login");
        if answer.status() != 303 || statuses.len() == 40 {
            break answer;
        }
        statuses.push(answer.status());
    };

    assert_eq!(limited.status(), 429, "after {} starts", statuses.len());
    assert!((30..=33).contains(&statuses.len()), "{}", statuses.len());
    assert_eq!(limited.headers()[ERROR_CODE], "sso_rate_limited");
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // The assertion consumer shares the allowance; another client is not affected.
    let acs = one
        .post(app.url("/sso/acme/saml/acs"))
        .form(&[("SAMLResponse", "x"), ("RelayState", "y")])
        .send()
        .await
        .expect("acs");
    assert_eq!(acs.status(), 429);
    let two = client_from(Ipv4Addr::new(127, 0, 0, 2));
    assert_eq!(two.get(&login).send().await.expect("login").status(), 303);
    assert_eq!(
        sso_login::Entity::find()
            .count(&app.database.db)
            .await
            .expect("count"),
        statuses.len() as u64 + 1,
        "refused starts store nothing"
    );
    idp.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn thirty_saml_sign_in_starts_fetch_the_idp_metadata_once() {
    let app = WebApp::spawn().await;
    let (idp, fetches, _) = saml_tenant_behind_counting_metadata(&app).await;
    let clients = [2, 3, 4].map(|last| client_from(Ipv4Addr::new(127, 0, 0, last)));

    let starts = (0..30).map(|i| clients[i % 3].get(app.url("/sso/acme/login")).send());
    let answers = futures::future::join_all(starts).await;

    for answer in answers {
        assert_eq!(answer.expect("login").status(), 303);
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    // The assertion consumer uses the same copy.
    let (response, relay) = signed_response_for(&app, &idp, "saml.user@idp.example", "", &[]).await;
    assert_eq!(post_acs(&app, &response, &relay).await.status(), 200);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    idp.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn thirty_oidc_sign_in_starts_fetch_discovery_and_jwks_once() {
    let issuer = MockServer::start().await;
    let base = issuer.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "jwks_uri": format!("{base}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })))
        .expect(1)
        .mount(&issuer)
        .await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": []})))
        .expect(1)
        .mount(&issuer)
        .await;
    let app = WebApp::spawn().await;
    app.add_tenant(TenantOptions {
        sso: Some(format!(
            "[sso]\nkind = \"oidc\"\nissuer = \"{base}\"\nclient_id = \"liaison-test\"\n"
        )),
        ..TenantOptions::new("acme")
    })
    .await;
    let clients = [2, 3, 4].map(|last| client_from(Ipv4Addr::new(127, 0, 0, last)));

    for i in 0..30 {
        let answer = clients[i % 3]
            .get(app.url("/sso/acme/login"))
            .send()
            .await
            .expect("login");
        assert_eq!(answer.status(), 303);
    }

    issuer.verify().await;
    app.stop().await;
}

#[tokio::test]
async fn pending_sign_ins_are_capped_per_tenant_and_expired_ones_purged() {
    let app = WebApp::spawn_with(Duration::from_secs(30), |settings| {
        settings.sso.max_pending_logins = 5;
    })
    .await;
    let (idp, _, tenant) = saml_tenant_behind_counting_metadata(&app).await;
    let now = chrono::Utc::now().timestamp_millis();
    sso_login::ActiveModel {
        tenant_id: Set(tenant.0),
        kind: Set("saml".to_owned()),
        state: Set("_expired".to_owned()),
        nonce: Set(None),
        sealed_verifier: Set(None),
        return_to: Set(String::new()),
        created_at: Set(now - 61_000),
        expires_at: Set(now - 1_000),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(&app.database.db)
    .await
    .expect("an expired sign-in");

    for _ in 0..5 {
        assert_eq!(app.get("/sso/acme/login").await.status(), 303);
    }
    let refused = app.get("/sso/acme/login").await;

    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()[ERROR_CODE], "sso_too_many_pending");
    assert!(refused.headers().contains_key("retry-after"));
    let rows = sso_login::Entity::find()
        .all(&app.database.db)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 5, "the expired row is gone and the cap held");
    assert!(rows.iter().all(|row| row.state != "_expired"));
    idp.process.stop().await;
    app.stop().await;
}

// Finding #15: the SAML metadata URL is validated.

#[tokio::test]
async fn tenant_apply_refuses_a_metadata_url_that_is_not_https_naming_the_key() {
    let app = spawn_app().await;
    let apply = |url: &str| {
        let file = tempfile::NamedTempFile::new().expect("temp");
        let text = format!(
            "{}\n[sso]\nkind = \"saml\"\nidp_metadata_url = \"{url}\"\n",
            tenant_toml("samlco")
        );
        std::fs::write(file.path(), text).expect("write");
        app.cli(&["tenant", "apply", file.path().to_str().expect("utf-8")])
    };

    for bad in [
        "http://idp.example.com/metadata",
        "gopher://x/y",
        "not a url",
    ] {
        let output = apply(bad);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("sso.idp_metadata_url"), "{bad}: {stderr}");
    }
    for good in [
        "https://idp.example.com/metadata",
        "http://127.0.0.1:9/metadata",
    ] {
        let output = apply(good);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{good}: {stderr}");
    }
    app.stop().await;
}
