//! Security findings: admin (issue 20, review rows #4 to #7; issue 15's browser test 1).
//!
//! #4 the console's token sign-in from a real Chromium (referrer policy, the sign-in form's
//! pre-session CSRF cookie, loopback names of the same server); #5 the sign-in's origin check
//! never trusts `Host`; #6 console sessions are server side: sign-out and a new admin token end
//! them; #7 failed admin tokens are throttled per client address.

use std::net::{IpAddr, Ipv4Addr};
use std::process::Stdio;
use std::time::Duration;

use liaison::app::App;
use liaison::config::Settings;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio_util::sync::CancellationToken;

use crate::admin_support::{
    browser, complete_all, dead_letter_all, login_form, newest_event, post_login, receive_delivery,
    session_cookie, sign_in,
};
use crate::helpers::{ADMIN_TOKEN, TestApp, spawn_app, spawn_app_with, test_settings};
use crate::inbound_support::gupy_delivery;

fn base(app: &TestApp) -> String {
    format!("http://{}", app.address)
}

/// A client whose connections come from `ip` (any 127.x address reaches a loopback server).
fn client_from(ip: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(ip))
        .build()
        .expect("client")
}

/// Posts the sign-in form with a valid cookie and CSRF token and the given extra headers.
async fn login_with_headers(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let http = browser();
    let form = login_form(&http, &base(app)).await;
    let mut request = http
        .post(app.url("/admin/login"))
        .header("cookie", &form.cookie)
        .form(&[("token", ADMIN_TOKEN), ("next", ""), ("csrf", &form.csrf)]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("login")
}

// ---- #4: sign-in from a real browser -------------------------------------------------------

#[tokio::test]
async fn console_pages_send_a_same_origin_referrer_policy_so_browsers_send_their_origin() {
    let app = spawn_app().await;

    let response = app.get("/admin/login").await;

    assert_eq!(response.headers()["referrer-policy"], "same-origin");
    let html = response.text().await.expect("body");
    assert!(
        html.contains(r#"<meta name="referrer" content="same-origin">"#),
        "{html}"
    );
    assert!(!html.contains("no-referrer"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn the_sign_in_form_needs_the_cookie_and_token_of_its_page() {
    let app = spawn_app().await;
    let http = browser();
    let form = login_form(&http, &base(&app)).await;

    let without_token = http
        .post(app.url("/admin/login"))
        .header("cookie", &form.cookie)
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .expect("login");
    let without_cookie = http
        .post(app.url("/admin/login"))
        .form(&[("token", ADMIN_TOKEN), ("csrf", form.csrf.as_str())])
        .send()
        .await
        .expect("login");
    let other = login_form(&http, &base(&app)).await;
    let crossed = http
        .post(app.url("/admin/login"))
        .header("cookie", &other.cookie)
        .form(&[("token", ADMIN_TOKEN), ("csrf", form.csrf.as_str())])
        .send()
        .await
        .expect("login");

    for response in [without_token, without_cookie, crossed] {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(session_cookie(&response).is_none());
    }
    let cookie = login_form(&http, &base(&app)).await.cookie;
    assert!(cookie.starts_with("liaison_admin_login="), "{cookie}");
    app.stop().await;
}

#[tokio::test]
async fn a_same_origin_browser_post_signs_in_at_public_url_and_at_its_loopback_names() {
    let app = spawn_app().await;
    let port = app.address.port();
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let origin = format!("http://{host}");

        let response = login_with_headers(
            &app,
            &[
                ("host", host.as_str()),
                ("origin", origin.as_str()),
                ("sec-fetch-site", "same-origin"),
            ],
        )
        .await;

        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{host}");
        assert!(session_cookie(&response).is_some(), "{host}");
    }
    app.stop().await;
}

#[tokio::test]
async fn origin_null_and_cross_site_posts_are_still_refused() {
    let app = spawn_app().await;
    let own = base(&app);
    for headers in [
        vec![("origin", "null")],
        vec![("origin", "null"), ("sec-fetch-site", "same-origin")],
        vec![("origin", own.as_str()), ("sec-fetch-site", "cross-site")],
        vec![("origin", own.as_str()), ("sec-fetch-site", "same-site")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "https://evil.example")],
        vec![("origin", "http://127.0.0.1:1")],
    ] {
        let response = login_with_headers(&app, &headers).await;

        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert!(session_cookie(&response).is_none(), "{headers:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_origin_listed_in_extra_origins_may_post_the_sign_in_form() {
    let app = spawn_app_with(|settings| {
        settings.admin.extra_origins = vec!["https://liaison.internal:8443".to_owned()];
    })
    .await;

    let listed = login_with_headers(&app, &[("origin", "https://liaison.internal:8443")]).await;
    let unlisted = login_with_headers(&app, &[("origin", "https://liaison.internal")]).await;

    assert_eq!(listed.status(), StatusCode::SEE_OTHER);
    assert_eq!(unlisted.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

/// Where `node` runs the browser helpers.
fn js_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// A script tenant whose console page the browser tries: its slug and the request to paste.
struct ScriptTry<'a> {
    tenant: &'a str,
    sample: &'a str,
}

/// Runs `admin-console-check.mjs`; when it says `STEP replay-started`, plays the worker (every
/// due job succeeds) and lets it go on.
async fn run_console_in_browser(
    app: &TestApp,
    bases: &[String],
    paths: &[String],
    sample: &str,
    replay_event: &str,
    script: &ScriptTry<'_>,
) -> Value {
    let mut command = tokio::process::Command::new("node");
    command
        .env("LIAISON_SAMPLE", sample)
        .env("LIAISON_SCRIPT_TENANT", script.tenant)
        .env("LIAISON_SCRIPT_SAMPLE", script.sample)
        .env("LIAISON_REPLAY_EVENT", replay_event)
        .arg(js_dir().join("admin-console-check.mjs"))
        .arg(ADMIN_TOKEN)
        .arg(bases.join(","))
        .args(paths)
        .current_dir(js_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if std::env::var("LIAISON_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        command.env("LIAISON_SCREENSHOTS", dir);
    } else {
        command.env_remove("LIAISON_SCREENSHOTS");
    }
    let mut child = command.spawn().expect("node runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let talk = async {
        let mut last = String::new();
        while let Some(line) = stdout.next_line().await.expect("read the browser's output") {
            if line == "STEP replay-started" {
                complete_all(app).await;
                stdin.write_all(b"go\n").await.expect("tell the browser");
            }
            last = line;
        }
        last
    };
    let last = tokio::time::timeout(Duration::from_secs(90), talk)
        .await
        .expect("the browser finishes in time");
    let output = child.wait_with_output().await.expect("node ends");
    assert!(
        output.status.success(),
        "browser failed: {last}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&last).expect("one JSON line")
}

#[tokio::test]
async fn chromium_signs_in_with_the_token_opens_every_console_page_and_cannot_go_back_after_sign_out()
 {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    receive_delivery(&app, "acme", "dlv-browser-1").await;
    complete_all(&app).await;
    // Three events whose jobs failed for good: one to replay alone, two left for "replay all".
    for id in ["dlv-dead-1", "dlv-dead-2", "dlv-dead-3"] {
        receive_delivery(&app, "acme", id).await;
    }
    dead_letter_all(&app).await;
    let event = newest_event(&app, "acme").await;
    // A script tenant with one run to show, whose script the browser then tries.
    let script_toml = crate::ats_script::script_toml(
        "scripted",
        "acme.js",
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "",
    );
    crate::ats_script::apply_script_tenant(&app, &script_toml).await;
    let moved = crate::ats_script::application("Video interview", "2026-11-20T14:00:00Z");
    let delivered = crate::ats_script::post(&app, "scripted", crate::ats_script::ACME_KEY, &moved)
        .await
        .status();
    assert_eq!(delivered, StatusCode::OK);
    let port = app.address.port();
    // `public_url` is http://127.0.0.1:<port>; the same server is also reached as localhost.
    let bases = [
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
    ];
    let paths: Vec<String> = [
        "/admin".to_owned(),
        "/admin/tenants/acme".to_owned(),
        "/admin/events?tenant=acme&status=processed&source=ats".to_owned(),
        format!("/admin/events/{event}"),
        "/admin/queue".to_owned(),
        "/admin/equivalences?tenant=acme".to_owned(),
        "/admin/tenants/acme/orders".to_owned(),
        "/admin/tenants/acme/mappings".to_owned(),
        "/admin/tenants/scripted/mappings".to_owned(),
    ]
    .into();

    let sample = gupy_delivery("dlv-preview", "application.moved").to_string();

    let script_sample = serde_json::json!({
        "headers": {"x-acme-key": crate::ats_script::ACME_KEY},
        "body": crate::ats_script::application("Video interview", "2026-11-21T09:00:00Z"),
    })
    .to_string();
    let script = ScriptTry {
        tenant: "scripted",
        sample: &script_sample,
    };
    let result =
        run_console_in_browser(&app, &bases, &paths, &sample, &event.to_string(), &script).await;

    assert_eq!(result["error"], Value::Null, "{result}");
    for (sign_in, base) in result["signIns"]
        .as_array()
        .expect("sign-ins")
        .iter()
        .zip(&bases)
    {
        assert_eq!(sign_in["post"]["origin"], base.as_str(), "{result}");
        assert_eq!(sign_in["post"]["status"], 303, "{result}");
        assert_eq!(sign_in["console"], true, "{result}");
        assert_eq!(sign_in["url"], format!("{base}/admin"), "{result}");
    }
    assert_eq!(result["signIns"].as_array().map(Vec::len), Some(2));
    let pages = result["pages"].as_array().expect("pages");
    assert_eq!(pages.len(), paths.len(), "{result}");
    for page in pages {
        assert_eq!(page["status"], 200, "{page}");
        assert_eq!(page["console"], true, "{page}");
    }
    assert_eq!(result["preview"]["console"], true, "{result}");
    assert_eq!(result["preview"]["wouldBecome"], true, "{result}");
    // The script console: the delivery's run is listed, and "Preview" ran `catch` on the pasted
    // request in the browser.
    let tried = &result["scriptPreview"];
    assert_eq!(tried["console"], true, "{result}");
    assert_eq!(tried["heading"], 1, "{result}");
    assert!(tried["runs"].as_u64().unwrap_or(0) >= 1, "{result}");
    let events = tried["events"].as_str().unwrap_or_default();
    assert!(
        events.contains("application_changed") && events.contains("app-1"),
        "{result}"
    );
    // "Replay this event": its dead job is back in the queue, and the page says so.
    let replay = &result["replay"];
    assert_eq!(
        replay["before"]["jobs"],
        serde_json::json!(["dead"]),
        "{replay:#}"
    );
    assert!(
        replay["event"]["url"]
            .as_str()
            .is_some_and(|url| url.ends_with(&format!("/admin/events/{event}?replay=requeued"))),
        "{replay:#}"
    );
    assert_eq!(
        replay["event"]["notice"],
        "The event's jobs are back in the queue."
    );
    assert_eq!(replay["event"]["status"], "received");
    assert_eq!(replay["event"]["jobs"], serde_json::json!(["pending"]));
    // "Replay all dead letters" (the two left): a progress page that refreshes itself until
    // the worker has run them.
    assert_eq!(replay["button"], "Replay 2 dead letters", "{replay:#}");
    let started = &replay["started"];
    assert!(
        started["url"]
            .as_str()
            .is_some_and(|url| url.contains("/admin/replays/rpl_")),
        "{replay:#}"
    );
    assert_eq!(
        started["status"],
        "In progress (this page refreshes itself): 2 jobs sent back — 0 done, 2 pending, 0 running, 0 dead again."
    );
    assert_eq!(started["progress"], "0");
    assert_eq!(started["refreshes"], true);
    let finished = &replay["finished"];
    assert_eq!(finished["url"], started["url"], "the same page, refreshed");
    assert_eq!(
        finished["status"],
        "Finished: 2 jobs sent back — 2 done, 0 pending, 0 running, 0 dead again."
    );
    assert_eq!(finished["progress"], "100");
    assert_eq!(finished["refreshes"], false);
    assert_eq!(replay["after"]["jobs"], serde_json::json!(["done"]));
    assert_eq!(result["signedOut"]["signInForm"], true, "{result}");
    assert_eq!(result["back"]["console"], false, "{result}");
    assert_eq!(result["back"]["signInForm"], true, "{result}");
    app.stop().await;
}

// ---- #5: the origin check does not trust Host -------------------------------------------

#[tokio::test]
async fn a_spoofed_host_does_not_make_a_foreign_origin_acceptable() {
    let app = spawn_app().await;

    let spoofed = login_with_headers(
        &app,
        &[("origin", "http://evil.example"), ("host", "evil.example")],
    )
    .await;
    let spoofed_https = login_with_headers(
        &app,
        &[
            ("origin", "https://evil.example:8443"),
            ("host", "evil.example:8443"),
        ],
    )
    .await;

    assert_eq!(spoofed.status(), StatusCode::FORBIDDEN);
    assert_eq!(spoofed_https.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&spoofed).is_none());
    app.stop().await;
}

// ---- #6: server-side sessions --------------------------------------------------------------

async fn get_with_cookie(app: &TestApp, cookie: &str, path: &str) -> StatusCode {
    browser()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("get")
        .status()
}

#[tokio::test]
async fn a_cookie_kept_after_sign_out_opens_nothing() {
    let app = spawn_app().await;
    let console = sign_in(&app).await;
    assert_eq!(get_with_cookie(&app, &console.cookie, "/admin").await, 200);
    assert_eq!(
        get_with_cookie(&app, &console.cookie, "/api/v1/tenants").await,
        200
    );

    let (status, location) = console.post("/admin/logout", &[]).await;

    assert_eq!(status, 303);
    assert_eq!(location, "/admin/login");
    assert_eq!(get_with_cookie(&app, &console.cookie, "/admin").await, 401);
    assert_eq!(
        get_with_cookie(&app, &console.cookie, "/api/v1/tenants").await,
        401
    );
    app.stop().await;
}

/// Stops `app` and starts it again on the same database and master key with `token` as the
/// admin token.
async fn restart_with_token(app: TestApp, token: &str) -> TestApp {
    app.shutdown.cancel();
    let _ = app.server.await;
    let mut settings: Settings = test_settings(&app.database, &app.master_key_text);
    settings.admin_token = Some(SecretString::from(token.to_owned()));
    let built = App::build_with_db(settings, app.database.db.clone())
        .await
        .expect("build the app again");
    let address = built.local_addr();
    let state = built.state().clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(built.run_until_stopped(shutdown.clone()));
    TestApp {
        address,
        shutdown,
        server,
        state,
        ..app
    }
}

#[tokio::test]
async fn a_new_admin_token_ends_every_console_session() {
    let app = spawn_app().await;
    let console = sign_in(&app).await;
    let app = restart_with_token(app, ADMIN_TOKEN).await;
    assert_eq!(
        get_with_cookie(&app, &console.cookie, "/admin").await,
        200,
        "a restart alone keeps sessions"
    );

    let app = restart_with_token(app, "another-admin-token-after-rotation").await;

    assert_eq!(get_with_cookie(&app, &console.cookie, "/admin").await, 401);
    assert_eq!(
        get_with_cookie(&app, &console.cookie, "/api/v1/tenants").await,
        401
    );
    app.stop().await;
}

#[tokio::test]
async fn expired_sessions_are_purged_as_new_ones_open() {
    use liaison::admin::sessions::{self, NewSession};
    use sea_orm::EntityTrait;

    let app = spawn_app().await;
    for sid in ["old-1", "old-2"] {
        sessions::open(
            app.db(),
            NewSession {
                sid,
                who: "token",
                token_epoch: "e",
                lifetime_ms: -1,
            },
        )
        .await
        .expect("open");
    }
    assert!(
        !sessions::is_live(app.db(), "old-1", "e")
            .await
            .expect("read")
    );

    sign_in(&app).await;

    let rows = liaison::store::entities::admin_session::Entity::find()
        .all(app.db())
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].who, "token");
    app.stop().await;
}

// ---- #7: throttled guessing ----------------------------------------------------------------

#[tokio::test]
async fn the_eleventh_wrong_token_in_a_minute_is_answered_429_with_retry_after() {
    let app = spawn_app().await;
    let http = browser();
    for attempt in 1..=10 {
        let response = post_login(&http, &base(&app), "wrong-admin-token-guess", "").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "try {attempt}");
    }

    let eleventh = post_login(&http, &base(&app), "wrong-admin-token-guess", "").await;
    let right_but_throttled = post_login(&http, &base(&app), ADMIN_TOKEN, "").await;

    assert_eq!(eleventh.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = eleventh.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(right_but_throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(session_cookie(&right_but_throttled).is_none());
    let elsewhere = post_login(
        &client_from(Ipv4Addr::new(127, 0, 0, 2)),
        &base(&app),
        ADMIN_TOKEN,
        "",
    )
    .await;
    assert_eq!(elsewhere.status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

#[tokio::test]
async fn wrong_api_bearer_tokens_are_throttled_per_client_and_the_right_one_works_elsewhere() {
    let app = spawn_app().await;
    let guesser = client_from(Ipv4Addr::new(127, 0, 0, 3));
    let call = |client: &reqwest::Client, token: &str| {
        client
            .get(app.url("/api/v1/tenants"))
            .bearer_auth(token)
            .send()
    };
    for attempt in 1..=10 {
        let response = call(&guesser, "wrong-bearer-token-guess")
            .await
            .expect("call");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "try {attempt}");
    }

    let eleventh = call(&guesser, "wrong-bearer-token-guess")
        .await
        .expect("call");
    let right_from_guesser = call(&guesser, ADMIN_TOKEN).await.expect("call");
    let right_elsewhere = call(&client_from(Ipv4Addr::new(127, 0, 0, 4)), ADMIN_TOKEN)
        .await
        .expect("call");

    assert_eq!(eleventh.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(eleventh.headers().contains_key("retry-after"));
    let body: Value = eleventh.json().await.expect("json");
    assert_eq!(body["error"]["code"], "too_many_attempts");
    assert_eq!(right_from_guesser.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(right_elsewhere.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_throttled_client_may_sign_in_again_after_the_window() {
    let app = spawn_app_with(|settings| {
        settings.admin.sign_in_attempts = 2;
        settings.admin.sign_in_window_seconds = 1;
    })
    .await;
    let http = browser();
    for _ in 0..2 {
        post_login(&http, &base(&app), "wrong-admin-token-guess", "").await;
    }
    let throttled = post_login(&http, &base(&app), ADMIN_TOKEN, "").await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers()["retry-after"], "1");

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let after = post_login(&http, &base(&app), ADMIN_TOKEN, "").await;

    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(session_cookie(&after).is_some());
    app.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_throttled_alone() {
    let app = spawn_app_with(|settings| {
        settings.admin.trusted_proxies = vec!["127.0.0.5".to_owned()];
    })
    .await;
    let proxy = client_from(Ipv4Addr::new(127, 0, 0, 5));
    let call = |client: &reqwest::Client, forwarded_for: &str, token: &str| {
        client
            .get(app.url("/api/v1/tenants"))
            .header("x-forwarded-for", forwarded_for)
            .bearer_auth(token)
            .send()
    };
    for _ in 0..10 {
        call(&proxy, "198.51.100.1", "wrong-bearer-token-guess")
            .await
            .expect("call");
    }

    let guesser = call(&proxy, "198.51.100.1", ADMIN_TOKEN)
        .await
        .expect("call");
    let neighbour = call(&proxy, "198.51.100.2", ADMIN_TOKEN)
        .await
        .expect("call");
    let spoofer = client_from(Ipv4Addr::new(127, 0, 0, 6));
    for _ in 0..10 {
        call(&spoofer, "198.51.100.3", "wrong-bearer-token-guess")
            .await
            .expect("call");
    }
    let spoofed_elsewhere = call(&spoofer, "198.51.100.4", ADMIN_TOKEN)
        .await
        .expect("call");

    assert_eq!(guesser.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(neighbour.status(), StatusCode::OK);
    assert_eq!(
        spoofed_elsewhere.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "an untrusted peer's X-Forwarded-For is ignored"
    );
    app.stop().await;
}
