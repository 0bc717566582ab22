//! Security findings: inbound webhooks, feeds, the HTTP server and what the event debugger shows
//! of them (review rows #16 to #20, #23, #24).

use reqwest::Method;
use serde_json::Value;

use crate::admin_support::newest_event;
use crate::helpers::{TestApp, expect_status, spawn_app};
use crate::inbound_support::{apply, signed_json_toml};

// ---------------------------------------------------------------------------------------------
// #17: the event debugger's masking.

/// The form body of the review (`evt_28`), as a signed-json ATS posted it.
const REVIEW_FORM: &str = "candidate_name=Maria+Silva&candidate_email=maria.silva%40example.com\
&candidate_phone=%2B5511999990000&cpf=123.456.789-00&access_token=tok-SECRET";

/// The JSON body of the review (`evt_29`): each key was shown in clear.
const REVIEW_JSON: &str = r#"{
  "type": "job.updated",
  "job_reference": "J29",
  "job_name": "Data Scientist",
  "name": "Maria Silva",
  "candidate_cpf": "123.456.789-00",
  "auth": "Basic bWFyaWE6cHdkLVNFQ1JFVA==",
  "pwd": "pwd-SECRET",
  "key": "key-SECRET",
  "x_access_key": "xak-SECRET",
  "session": "session-SECRET",
  "login_url": "https://suite.example/login/once-SECRET",
  "note": "the ATS sent bearer lower-SECRET and Basic bWFyaWE6cHdkLVNFQ1JFVA== again"
}"#;

async fn signed_json_app(slug: &str) -> TestApp {
    let app = spawn_app().await;
    apply(app.db(), &app.master_key, &signed_json_toml(slug, "")).await;
    app
}

/// The event debugger's answer (API) for the newest event of `slug`, as text, by default.
async fn shown_event(app: &TestApp, slug: &str) -> String {
    let event = newest_event(app, slug).await;
    let response = app
        .admin(Method::GET, &format!("/api/v1/events/{event}"))
        .send()
        .await
        .expect("get the event");
    assert_eq!(response.status(), 200);
    response.text().await.expect("body")
}

fn assert_hidden(text: &str, raws: &[&str]) {
    for raw in raws {
        assert!(!text.contains(raw), "`{raw}` is shown in {text}");
    }
}

#[tokio::test]
async fn a_form_payload_is_masked_field_by_field_in_the_event_debugger() {
    let app = signed_json_app("formco").await;
    let posted = app
        .post_signed_json(
            "formco",
            "application/x-www-form-urlencoded",
            REVIEW_FORM.as_bytes(),
            None,
        )
        .await;
    assert!(posted.status().is_success(), "{}", posted.status());

    let text = shown_event(&app, "formco").await;
    assert_hidden(
        &text,
        &[
            "tok-SECRET",
            "maria.silva",
            "example.com",
            "Silva",
            "99999",
            "123.456",
        ],
    );
    let detail: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(detail["payload"]["access_token"], "***");
    assert_eq!(detail["payload"]["candidate_email"], "m***@e***.com");
    assert_eq!(detail["payload"]["candidate_phone"], "***00");
    assert_eq!(detail["payload"]["candidate_name"], "M***");
    app.stop().await;
}

#[tokio::test]
async fn a_multipart_payload_is_masked_field_by_field_in_the_event_debugger() {
    let app = signed_json_app("partco").await;
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"candidate_email\"\r\n\r\n\
maria.silva@example.com\r\n--XyZ\r\nContent-Disposition: form-data; name=\"api_token\"\r\n\r\n\
tok-SECRET\r\n--XyZ\r\nContent-Disposition: form-data; name=\"rg\"\r\n\r\n12.345.678-9\r\n--XyZ--\r\n";
    let posted = app
        .post_signed_json(
            "partco",
            "multipart/form-data; boundary=XyZ",
            body.as_bytes(),
            None,
        )
        .await;
    assert!(posted.status().is_success(), "{}", posted.status());

    let text = shown_event(&app, "partco").await;
    assert_hidden(&text, &["tok-SECRET", "maria.silva", "12.345"]);
    let detail: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(detail["payload"]["candidate_email"], "m***@e***.com");
    app.stop().await;
}

#[tokio::test]
async fn the_reviews_json_keys_are_masked_in_the_event_debugger() {
    let app = signed_json_app("jsonco").await;
    let posted = app
        .post_signed_json("jsonco", "application/json", REVIEW_JSON.as_bytes(), None)
        .await;
    assert_eq!(posted.status(), 202);

    let text = shown_event(&app, "jsonco").await;
    assert_hidden(
        &text,
        &[
            "SECRET",
            "bWFyaWE6",
            "Silva",
            "123.456",
            "suite.example/login",
        ],
    );
    let detail: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(detail["payload"]["name"], "M***");
    assert_eq!(detail["payload"]["job_name"], "Data Scientist");

    // Secrets stay hidden when personal data is revealed.
    let event = newest_event(&app, "jsonco").await;
    let shown = expect_status(
        app.admin(
            Method::GET,
            &format!("/api/v1/events/{event}?unmask=personal"),
        )
        .send()
        .await
        .expect("get"),
        200,
    )
    .await;
    assert_hidden(&shown.to_string(), &["SECRET", "bWFyaWE6"]);
    assert_eq!(shown["payload"]["name"], "Maria Silva");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// #18: the feed client and redirects.

/// A loopback HTTP server on its own port (so its own origin); answers `router`.
async fn serve_on_loopback(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

const ONE_JOB_FEED: &str = "<?xml version=\"1.0\"?><jobs><job data-id=\"1\"><name>Dev</name>\
<reference>R1</reference></job></jobs>";

/// A feed host that answers `/feed.xml` with a redirect to `elsewhere`, and `/same.xml` with
/// a redirect to its own `/real.xml` (which needs the feed header).
fn redirecting_feed(elsewhere: String) -> axum::Router {
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::IntoResponse;
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/feed.xml",
            get(move || {
                let to = elsewhere.clone();
                async move { (StatusCode::FOUND, [(header::LOCATION, to)]) }
            }),
        )
        .route(
            "/same.xml",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/real.xml")]) }),
        )
        .route(
            "/real.xml",
            get(|headers: HeaderMap| async move {
                if headers.get("x-api-key").is_some_and(|v| v == "feed-key") {
                    ONE_JOB_FEED.into_response()
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }),
        )
}

#[tokio::test]
async fn a_feed_redirect_to_another_origin_fails_the_poll_without_sending_the_feed_header() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::http::HeaderMap;
    use liaison::ats::poll_once;

    // The other origin counts the requests it gets and those that carry the secret header.
    let requests = Arc::new(AtomicUsize::new(0));
    let with_secret = Arc::new(AtomicUsize::new(0));
    let (seen, leaked) = (requests.clone(), with_secret.clone());
    let other = serve_on_loopback(axum::Router::new().route(
        "/internal/feed.xml",
        axum::routing::get(move |headers: HeaderMap| {
            seen.fetch_add(1, Ordering::SeqCst);
            if headers.contains_key("x-api-key") {
                leaked.fetch_add(1, Ordering::SeqCst);
            }
            async { ONE_JOB_FEED }
        }),
    ))
    .await;
    let feed = serve_on_loopback(redirecting_feed(format!(
        "http://{other}/internal/feed.xml"
    )))
    .await;
    let app = spawn_app().await;
    let toml = crate::inbound_support::xml_feed_toml("feedco", &format!("http://{feed}/feed.xml"));
    apply(app.db(), &app.master_key, &toml).await;
    let tenant = crate::inbound_support::open(app.db(), &app.master_key, "feedco").await;

    let outcome = poll_once(&app.state.pollers(), &tenant).await;

    let error = outcome.expect_err("a cross-origin redirect fails the poll");
    assert!(
        error.to_string().contains("redirects to another origin"),
        "{error}"
    );
    assert_eq!(
        with_secret.load(Ordering::SeqCst),
        0,
        "the feed header leaked"
    );
    assert_eq!(
        requests.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_feed_redirect_within_its_origin_is_still_followed_with_the_feed_header() {
    use liaison::ats::poll_once;

    let feed = serve_on_loopback(redirecting_feed("http://127.0.0.1:9/".to_owned())).await;
    let app = spawn_app().await;
    let toml =
        crate::inbound_support::xml_feed_toml("samefeed", &format!("http://{feed}/same.xml"));
    apply(app.db(), &app.master_key, &toml).await;
    let tenant = crate::inbound_support::open(app.db(), &app.master_key, "samefeed").await;

    let report = poll_once(&app.state.pollers(), &tenant)
        .await
        .expect("a same-origin redirect is followed");

    assert_eq!(report.seen, 1);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// #20: slow clients (slowloris).

/// Reads from `stream` until the server closes it; Err when it is still open after `within`.
async fn closed_within(
    stream: &mut tokio::net::TcpStream,
    within: std::time::Duration,
) -> Result<Vec<u8>, &'static str> {
    use tokio::io::AsyncReadExt as _;
    let mut received = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    match read {
        Ok(()) => Ok(received),
        Err(_) => Err("the connection is still open"),
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected_after_the_header_timeout() {
    use tokio::io::AsyncWriteExt as _;
    let app = crate::helpers::spawn_app_with(|s| s.http.header_read_timeout_s = 1).await;
    let mut slow = tokio::net::TcpStream::connect(app.address)
        .await
        .expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: liaison\r\nX-Slow: ")
        .await
        .expect("write a partial request");

    let outcome = closed_within(&mut slow, std::time::Duration::from_secs(5)).await;

    let received = outcome.expect("closed by the header-read timeout");
    assert!(
        !received.starts_with(b"HTTP/1.1 200"),
        "no request was served"
    );
    // The server still answers everyone else.
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
    use tokio::io::AsyncWriteExt as _;
    let app = crate::helpers::spawn_app_with(|s| s.http.header_read_timeout_s = 1).await;
    let mut idle = tokio::net::TcpStream::connect(app.address)
        .await
        .expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: liaison\r\n\r\n")
        .await
        .expect("write a request");

    let received = closed_within(&mut idle, std::time::Duration::from_secs(5))
        .await
        .expect("closed once idle for the timeout");

    assert!(
        received.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&received)
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// #16: signed-json's delivery id.

/// Posts `body` to `slug` with `signature` and the given optional headers; the status and body.
async fn post_signed(
    app: &TestApp,
    slug: &str,
    body: &str,
    signature: &str,
    timestamp: Option<&str>,
    delivery: Option<&str>,
) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url(&format!("/webhooks/{slug}/ats")))
        .header("Content-Type", "application/json")
        .header("X-Liaison-Signature", signature)
        .body(body.to_owned());
    if let Some(timestamp) = timestamp {
        request = request.header("X-Liaison-Timestamp", timestamp);
    }
    if let Some(delivery) = delivery {
        request = request.header("X-Liaison-Delivery", delivery);
    }
    let response = request.send().await.expect("post");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn job_body(reference: &str, name: &str) -> String {
    serde_json::json!({"type": "job.updated", "job_reference": reference, "job_name": name})
        .to_string()
}

#[tokio::test]
async fn a_captured_delivery_replayed_under_new_delivery_ids_creates_no_new_event() {
    use liaison::signature::hmac_sha256::sign;
    let app = spawn_app().await;
    let tenant = apply(app.db(), &app.master_key, &signed_json_toml("replayco", "")).await;
    let secret = crate::inbound_support::SIGNED_JSON_SECRET.as_bytes();
    let body = job_body("J1", "Data Scientist");
    let plain = sign(secret, None, body.as_bytes());
    let ts = crate::inbound_support::now_s().to_string();
    let timed = sign(secret, Some(&ts), body.as_bytes());

    let (first, _) = post_signed(&app, "replayco", &body, &plain, None, Some("dlv-1")).await;
    let (timed_first, _) =
        post_signed(&app, "replayco", &body, &timed, Some(&ts), Some("dlv-t")).await;
    let mut replays = Vec::new();
    for n in 0..3 {
        let evil = format!("evil-{n}");
        replays.push(
            post_signed(&app, "replayco", &body, &plain, None, Some(&evil))
                .await
                .0,
        );
        replays.push(
            post_signed(&app, "replayco", &body, &timed, Some(&ts), Some(&evil))
                .await
                .0,
        );
    }

    assert_eq!((first, timed_first), (202, 202));
    assert_eq!(replays, vec![200; 6], "replays are duplicates");
    assert_eq!(
        crate::inbound_support::inbox(app.db(), tenant).await.len(),
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn a_pre_empted_delivery_id_does_not_drop_a_later_different_event() {
    use liaison::signature::hmac_sha256::sign;
    let app = spawn_app().await;
    let tenant = apply(app.db(), &app.master_key, &signed_json_toml("preco", "")).await;
    let secret = crate::inbound_support::SIGNED_JSON_SECRET.as_bytes();
    let captured = job_body("J1", "Data Scientist");
    let captured_signature = sign(secret, None, captured.as_bytes());
    post_signed(
        &app,
        "preco",
        &captured,
        &captured_signature,
        None,
        Some("dlv-1"),
    )
    .await;

    // Someone holding the captured delivery takes the sender's next id first...
    post_signed(
        &app,
        "preco",
        &captured,
        &captured_signature,
        None,
        Some("dlv-2"),
    )
    .await;
    // ...then the sender's real dlv-2, another event, arrives.
    let legit = job_body("J2", "Backend developer");
    let (status, answer) = post_signed(
        &app,
        "preco",
        &legit,
        &sign(secret, None, legit.as_bytes()),
        None,
        Some("dlv-2"),
    )
    .await;

    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "accepted");
    assert_eq!(
        crate::inbound_support::inbox(app.db(), tenant).await.len(),
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn a_v2_signature_authenticates_the_delivery_id_and_refuses_another_one() {
    use liaison::signature::hmac_sha256::sign_v2;
    let app = spawn_app().await;
    let tenant = apply(app.db(), &app.master_key, &signed_json_toml("v2co", "")).await;
    let secret = crate::inbound_support::SIGNED_JSON_SECRET.as_bytes();
    let body = job_body("J1", "Data Scientist");
    let ts = crate::inbound_support::now_s().to_string();
    let signature = sign_v2(secret, "dlv-1", &ts, body.as_bytes());

    let (first, _) = post_signed(&app, "v2co", &body, &signature, Some(&ts), Some("dlv-1")).await;
    let (again, _) = post_signed(&app, "v2co", &body, &signature, Some(&ts), Some("dlv-1")).await;
    let (renamed, refused) =
        post_signed(&app, "v2co", &body, &signature, Some(&ts), Some("evil-1")).await;
    let (without_timestamp, _) =
        post_signed(&app, "v2co", &body, &signature, None, Some("dlv-1")).await;

    assert_eq!((first, again), (202, 200));
    assert_eq!(renamed, 401);
    assert_eq!(refused["error"]["code"], "invalid_signature");
    assert_eq!(without_timestamp, 401);
    let rows = crate::inbound_support::inbox(app.db(), tenant).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].delivery_id, "dlv-1");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// #24: control characters in ids.

#[tokio::test]
async fn a_nul_or_control_character_in_an_id_is_refused_with_400_and_nothing_is_stored() {
    use liaison::signature::hmac_sha256::sign;
    let app = spawn_app().await;
    let tenant = apply(app.db(), &app.master_key, &signed_json_toml("nulco", "")).await;
    let secret = crate::inbound_support::SIGNED_JSON_SECRET.as_bytes();
    let json = [
        r#"{"type":"job.updated","job_reference":"J4\u0000x","job_name":"Dev"}"#,
        r#"{"id":"dlv\u0000","type":"job.updated","job_reference":"J5","job_name":"Dev"}"#,
        r#"{"type":"application.moved","application_reference":"A\u0007","job_reference":"J6"}"#,
        r#"{"type":"job.closed","job_reference":"J\u001b7"}"#,
    ];
    let mut answers = Vec::new();
    for body in json {
        answers.push(
            post_signed(
                &app,
                "nulco",
                body,
                &sign(secret, None, body.as_bytes()),
                None,
                None,
            )
            .await,
        );
    }
    // A raw NUL in a form value.
    let form = b"type=job.updated&job_reference=J8&job_name=De\0v";
    let response = app
        .post_signed_json("nulco", "application/x-www-form-urlencoded", form, None)
        .await;
    answers.push((
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    ));

    for (status, answer) in &answers {
        assert_eq!(*status, 400, "{answer}");
        assert_eq!(answer["error"]["code"], "malformed_body", "{answer}");
    }
    assert!(
        crate::inbound_support::inbox(app.db(), tenant)
            .await
            .is_empty()
    );
    // The suite's webhooks are checked alike.
    let body = br#"{"type":"project.deleted","data":{"id":"prj\u0000"}}"#;
    let suite = app
        .post_suite(
            "nulco",
            crate::inbound_support::SUITE_SECRET,
            "msg-nul",
            crate::inbound_support::now_s(),
            body,
        )
        .await;
    assert_eq!(suite.status(), 400);
    assert!(
        crate::inbound_support::inbox(app.db(), tenant)
            .await
            .is_empty()
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// #23: `/metrics` behind an optional bearer token.

#[tokio::test]
async fn with_a_metrics_token_metrics_need_it() {
    const TOKEN: &str = "metrics-token-0123456789";
    let app = crate::helpers::spawn_app_with(|s| {
        s.metrics_token = Some(secrecy::SecretString::from(TOKEN.to_owned()));
    })
    .await;
    let scrape = |authorization: Option<String>| {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send()
    };

    let without = scrape(None).await.expect("scrape");
    let wrong = scrape(Some("Bearer metrics-token-wrong-000000".into()))
        .await
        .expect("scrape");
    let right = scrape(Some(format!("Bearer {TOKEN}")))
        .await
        .expect("scrape");

    assert_eq!(without.status(), 401);
    assert_eq!(wrong.status(), 401);
    let body = expect_status(without, 401).await;
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(right.status(), 200);
    assert!(right.text().await.expect("body").contains("# EOF"));
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// #19: outbound calls to link-local and cloud metadata addresses.

/// `liaison tenant apply` of `toml` against `app`'s database, with extra environment.
fn apply_with_cli(app: &TestApp, toml: &str, env: &[(&str, &str)]) -> std::process::Output {
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), toml).expect("write");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_liaison"));
    command
        .args(["tenant", "apply", file.path().to_str().expect("utf-8")])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", app.database.url.expose())
        .env("LIAISON_MASTER_KEY", &app.master_key_text)
        .env("LIAISON_LOG", "warn")
        .current_dir(std::env::temp_dir());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run the liaison binary")
}

fn listed_slugs(app: &TestApp) -> String {
    String::from_utf8_lossy(&app.cli(&["tenant", "list"]).stdout).into_owned()
}

#[tokio::test]
async fn tenant_apply_refuses_a_suite_base_url_on_the_cloud_metadata_address() {
    let app = spawn_app().await;
    let toml = crate::helpers::tenant_toml("meta").replace(
        "[suite]\nbase_url = \"http://127.0.0.1:9\"",
        "[suite]\nbase_url = \"http://169.254.169.254/latest\"",
    );
    assert!(toml.contains("169.254.169.254"), "the fixture changed");

    let output = apply_with_cli(&app, &toml, &[]);

    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("`suite.base_url`"), "{message}");
    assert!(message.contains("metadata"), "{message}");
    assert_eq!(message.lines().count(), 1, "one line: {message}");
    assert!(
        !listed_slugs(&app).contains("meta"),
        "the tenant was stored"
    );
    app.stop().await;
}

#[tokio::test]
async fn tenant_apply_refuses_link_local_feed_and_identity_provider_hosts_naming_the_key() {
    let app = spawn_app().await;
    let feed = crate::inbound_support::xml_feed_toml("feedll", "http://169.254.10.20/jobs.xml");
    let oidc = format!(
        "{}\n[sso]\nkind = \"oidc\"\nissuer = \"http://[fe80::1]:8080/realms/x\"\n\
         client_id = \"liaison\"\n",
        crate::helpers::tenant_toml("oidcll")
    );
    let saml = format!(
        "{}\n[sso]\nkind = \"saml\"\nidp_metadata_url = \"https://[::ffff:169.254.169.254]/md\"\n",
        crate::helpers::tenant_toml("samlll")
    );
    for (toml, key, slug) in [
        (feed, "`ats.base_url`", "feedll"),
        (oidc, "`sso.issuer`", "oidcll"),
        (saml, "`sso.idp_metadata_url`", "samlll"),
    ] {
        let output = apply_with_cli(&app, &toml, &[]);
        let message = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{key}: {message}");
        assert!(message.contains(key), "{key}: {message}");
        assert_eq!(message.lines().count(), 1, "one line: {message}");
        assert!(!listed_slugs(&app).contains(slug), "{slug} was stored");
    }
    app.stop().await;
}

#[tokio::test]
async fn outbound_allow_link_local_lets_an_operator_apply_such_a_tenant() {
    let app = spawn_app().await;
    let toml = crate::inbound_support::xml_feed_toml("feedok", "http://169.254.10.20/jobs.xml");

    let output = apply_with_cli(
        &app,
        &toml,
        &[("LIAISON_OUTBOUND_ALLOW_LINK_LOCAL", "true")],
    );

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(listed_slugs(&app).contains("feedok"));
    app.stop().await;
}

#[tokio::test]
async fn the_outbound_clients_still_reach_a_loopback_partner_by_name() {
    // `localhost` goes through the guarded resolver (an IP literal would not): loopback stays
    // allowed, so the simulators and the demo keep working.
    let partner = serve_on_loopback(
        axum::Router::new().route("/ping", axum::routing::get(|| async { "pong" })),
    )
    .await;
    let url = format!("http://localhost:{}/ping", partner.port());
    let ats = liaison::ats::http_client::shared_client();
    let suite =
        liaison::suite::build_http_client(&liaison::config::Settings::defaults().suite_client)
            .expect("suite client");
    let oidc = liaison::sso::oidc::http_client();
    for client in [ats, suite] {
        let answer = client.get(&url).send().await.expect("reached by name");
        assert_eq!(answer.text().await.expect("body"), "pong");
    }
    let answer = oidc.get(&url).send().await.expect("reached by name");
    assert_eq!(answer.text().await.expect("body"), "pong");
}

#[tokio::test]
async fn the_guarded_resolver_refuses_a_name_whose_addresses_are_all_link_local() {
    use liaison::outbound::{Refusal, TargetPolicy, filter};

    // No name resolves to 169.254.169.254 on a loopback-only machine: the resolver's filter is
    // fed the answer such a name would get (A and AAAA).
    let answer = vec![
        "169.254.169.254:0".parse().expect("addr"),
        "[fd00:ec2::254]:0".parse().expect("addr"),
    ];
    let refused =
        filter("metadata.google.internal", answer, TargetPolicy::default()).expect_err("refused");
    assert_eq!(refused.reason, Refusal::Metadata);
    assert!(refused.to_string().contains("metadata.google.internal"));
    let allowed = TargetPolicy {
        allow_link_local: true,
        deny_private: false,
    };
    let kept = filter(
        "metadata.google.internal",
        vec!["169.254.169.254:0".parse().expect("addr")],
        allowed,
    )
    .expect("allowed by outbound.allow_link_local");
    assert_eq!(kept.len(), 1);
}
