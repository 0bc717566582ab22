//! The webhook routes: every answer of the contract's table, for each source.

use liaison::ids::TenantId;
use serde_json::{Value, json};

use super::helpers::{TestApp, expect_status, spawn_app};
use super::inbound_support::*;

async fn gupy_app(slug: &str) -> (TestApp, TenantId) {
    let app = spawn_app().await;
    let id = apply(
        app.db(),
        &app.master_key,
        &gupy_toml(slug, "http://127.0.0.1:9"),
    )
    .await;
    (app, id)
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_gupy_delivery_is_accepted_once_and_a_redelivery_is_a_duplicate() {
    let (app, tenant) = gupy_app("acme").await;
    let body = gupy_delivery("24e99765", "application.moved").to_string();
    let secret = gupy_secret("acme");

    let first = expect_status(
        app.post_gupy("acme", body.as_bytes(), Some(&secret)).await,
        202,
    )
    .await;
    let again = expect_status(
        app.post_gupy("acme", body.as_bytes(), Some(&secret)).await,
        200,
    )
    .await;

    assert_eq!(first["status"], "accepted");
    assert_eq!(again["status"], "duplicate");
    assert_eq!(first["event_id"], again["event_id"]);
    let rows = inbox(app.db(), tenant).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "received");
    assert_eq!(rows[0].event_type, "application.moved");
    assert_eq!(rows[0].occurred_at, Some(1_795_179_941_118));
    assert_eq!(rows[0].payload, body, "the raw payload is kept");
    assert_eq!(format!("evt_{}", rows[0].id), first["event_id"]);
    assert_eq!(job_count(app.db(), tenant).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_gupy_body_without_content_type_is_json() {
    let (app, tenant) = gupy_app("acme").await;
    let body = gupy_delivery("no-ct", "application.created").to_string();
    // `post_gupy` sets no Content-Type header, as Gupy does with clientHeaders.
    let response = app
        .post_gupy("acme", body.as_bytes(), Some(&gupy_secret("acme")))
        .await;
    assert!(response.headers().get("content-type").is_some());
    expect_status(response, 202).await;
    assert_eq!(inbox(app.db(), tenant).await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_same_gupy_delivery_sent_five_times_concurrently_is_stored_once() {
    let (app, tenant) = gupy_app("acme").await;
    let body = gupy_delivery("concurrent-1", "application.moved").to_string();
    let secret = gupy_secret("acme");

    let answers = futures::future::join_all(
        (0..5).map(|_| app.post_gupy("acme", body.as_bytes(), Some(&secret))),
    )
    .await;

    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 202]);
    let mut ids = Vec::new();
    for answer in answers {
        let body: Value = answer.json().await.expect("a JSON answer");
        ids.push(body["event_id"].clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every answer names the one stored event");
    assert_eq!(inbox(app.db(), tenant).await.len(), 1);
    assert_eq!(job_count(app.db(), tenant).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn gupy_authentication_failures_are_401_with_their_code() {
    let (app, tenant) = gupy_app("acme").await;
    let body = gupy_delivery("auth", "application.moved").to_string();

    let missing = expect_status(app.post_gupy("acme", body.as_bytes(), None).await, 401).await;
    let wrong = expect_status(
        app.post_gupy("acme", body.as_bytes(), Some("nope")).await,
        401,
    )
    .await;
    // Another tenant's token is wrong for this one.
    apply(
        app.db(),
        &app.master_key,
        &gupy_toml("other", "http://127.0.0.1:9"),
    )
    .await;
    let other = gupy_secret("other");
    let crossed = expect_status(
        app.post_gupy("acme", body.as_bytes(), Some(&other)).await,
        401,
    )
    .await;

    assert_eq!(error_code(&missing), "missing_signature");
    assert_eq!(error_code(&wrong), "invalid_signature");
    assert_eq!(error_code(&crossed), "invalid_signature");
    assert!(inbox(app.db(), tenant).await.is_empty());
    let metrics = app.get("/metrics").await.text().await.unwrap_or_default();
    assert!(
        metrics.contains(r#"outcome="invalid_signature""#),
        "failed verifications are counted: {metrics}"
    );
    assert!(!metrics.contains(&gupy_secret("acme")));
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_tenant_is_404_on_both_routes() {
    let app = spawn_app().await;
    let body = gupy_delivery("x", "application.moved").to_string();
    let ats = expect_status(
        app.post_gupy("nobody", body.as_bytes(), Some("t")).await,
        404,
    )
    .await;
    let suite = expect_status(
        app.post_suite("nobody", SUITE_SECRET, "msg_1", now_s(), b"{}")
            .await,
        404,
    )
    .await;
    let invalid_slug = expect_status(app.post_gupy("No%20Body", b"{}", Some("t")).await, 404).await;
    assert_eq!(error_code(&ats), "unknown_tenant");
    assert_eq!(error_code(&suite), "unknown_tenant");
    assert_eq!(error_code(&invalid_slug), "unknown_tenant");
    app.stop().await;
}

#[tokio::test]
async fn a_2_mib_body_is_413_on_both_routes() {
    let (app, tenant) = gupy_app("acme").await;
    let big = vec![b' '; 2 * 1024 * 1024];
    let ats = expect_status(
        app.post_gupy("acme", &big, Some(&gupy_secret("acme")))
            .await,
        413,
    )
    .await;
    let suite = expect_status(
        app.post_suite("acme", SUITE_SECRET, "m", now_s(), &big)
            .await,
        413,
    )
    .await;
    assert_eq!(error_code(&ats), "body_too_large");
    assert_eq!(error_code(&suite), "body_too_large");
    // Without Content-Length (chunked), the limit still holds.
    let stream = futures::stream::iter(
        (0..40).map(|_| Ok::<Vec<u8>, std::io::Error>(vec![b' '; 64 * 1024])),
    );
    let chunked = app
        .client
        .post(app.url("/webhooks/acme/ats"))
        .header("X-Liaison-Token", gupy_secret("acme"))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(&expect_status(chunked, 413).await),
        "body_too_large"
    );
    assert!(inbox(app.db(), tenant).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn text_plain_is_415_on_both_routes() {
    let (app, tenant) = gupy_app("acme").await;
    let body = gupy_delivery("plain", "application.moved").to_string();
    let ats = app
        .client
        .post(app.url("/webhooks/acme/ats"))
        .header("Content-Type", "text/plain")
        .header("X-Liaison-Token", gupy_secret("acme"))
        .body(body.clone())
        .send()
        .await
        .expect("request");
    let suite = app
        .client
        .post(app.url("/webhooks/acme/suite"))
        .header("Content-Type", "text/plain")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(&expect_status(ats, 415).await),
        "unsupported_media_type"
    );
    assert_eq!(
        error_code(&expect_status(suite, 415).await),
        "unsupported_media_type"
    );
    assert!(inbox(app.db(), tenant).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn malformed_gupy_bodies_are_400_and_store_nothing() {
    let (app, tenant) = gupy_app("acme").await;
    let secret = gupy_secret("acme");
    let valid = gupy_delivery("bad", "application.moved").to_string();
    let mut wrong_types = gupy_delivery("bad", "application.moved");
    wrong_types["data"]["application"]["id"] = json!("two");
    let mut no_application = gupy_delivery("bad", "application.moved");
    no_application["data"]["application"] = Value::Null;
    let cases: Vec<Vec<u8>> = vec![
        valid.as_bytes()[..valid.len() / 2].to_vec(),
        wrong_types.to_string().into_bytes(),
        no_application.to_string().into_bytes(),
        b"\xff\xfe{\"id\": \"x\"}".to_vec(),
        b"[1, 2, 3]".to_vec(),
        b"".to_vec(),
    ];
    for body in cases {
        let answer = expect_status(app.post_gupy("acme", &body, Some(&secret)).await, 400).await;
        assert_eq!(error_code(&answer), "malformed_body", "{body:?}");
    }
    assert!(inbox(app.db(), tenant).await.is_empty());
    assert_eq!(job_count(app.db(), tenant).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_gupy_action_is_accepted_and_stored_as_ignored() {
    let (app, tenant) = gupy_app("acme").await;
    let body = json!({"id": "u-1", "event": "candidate.teleported", "date": "2026-11-20T13:05:41Z",
                      "data": {"anything": true}});
    expect_status(
        app.post_gupy(
            "acme",
            body.to_string().as_bytes(),
            Some(&gupy_secret("acme")),
        )
        .await,
        202,
    )
    .await;
    let rows = inbox(app.db(), tenant).await;
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].normalized.contains(r#""type":"ignored""#),
        "{}",
        rows[0].normalized
    );
    app.stop().await;
}

async fn signed_app(fields: &str) -> (TestApp, TenantId) {
    let app = spawn_app().await;
    let id = apply(app.db(), &app.master_key, &signed_json_toml("hr", fields)).await;
    (app, id)
}

#[tokio::test]
async fn a_signed_json_job_is_accepted_with_and_without_timestamp() {
    let (app, tenant) = signed_app("").await;
    let plain =
        json!({"type": "job.created", "job_reference": "af42dd", "job_name": "Data scientist"});
    let timed = json!({"id": "dlv-2", "job_reference": "b1", "job_name": "Dev"});

    expect_status(
        app.post_signed_json("hr", "application/json", plain.to_string().as_bytes(), None)
            .await,
        202,
    )
    .await;
    expect_status(
        app.post_signed_json(
            "hr",
            "application/json",
            timed.to_string().as_bytes(),
            Some(now_s()),
        )
        .await,
        202,
    )
    .await;

    let rows = inbox(app.db(), tenant).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].event_type, "job.created");
    assert_eq!(
        rows[0].delivery_id.len(),
        64,
        "no id: the SHA-256 of the body"
    );
    assert_eq!(rows[1].event_type, "job.updated", "no type: a job update");
    assert_eq!(rows[1].delivery_id, "dlv-2", "the body's id");
    app.stop().await;
}

#[tokio::test]
async fn signed_json_refuses_a_tampered_body_a_stale_timestamp_and_no_signature() {
    let (app, tenant) = signed_app("").await;
    let body = json!({"type": "job.closed", "job_reference": "af42dd"}).to_string();
    let signature =
        liaison::signature::hmac_sha256::sign(SIGNED_JSON_SECRET.as_bytes(), None, body.as_bytes());
    let tampered = body.replace("af42dd", "af42de");
    let send = |body: String, signature: Option<String>| {
        let mut request = app
            .client
            .post(app.url("/webhooks/hr/ats"))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("X-Liaison-Signature", signature);
        }
        request.send()
    };

    let forged = expect_status(
        send(tampered, Some(signature.clone()))
            .await
            .expect("request"),
        401,
    )
    .await;
    let unsigned = expect_status(send(body.clone(), None).await.expect("request"), 401).await;
    let stale = expect_status(
        app.post_signed_json(
            "hr",
            "application/json",
            body.as_bytes(),
            Some(now_s() - 301),
        )
        .await,
        401,
    )
    .await;
    let future = expect_status(
        app.post_signed_json(
            "hr",
            "application/json",
            body.as_bytes(),
            Some(now_s() + 301),
        )
        .await,
        401,
    )
    .await;

    assert_eq!(error_code(&forged), "invalid_signature");
    assert_eq!(error_code(&unsigned), "missing_signature");
    assert_eq!(error_code(&stale), "stale_timestamp");
    assert_eq!(error_code(&future), "stale_timestamp");
    assert!(inbox(app.db(), tenant).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn signed_json_form_and_multipart_fields_become_json_keys() {
    let (app, tenant) = signed_app("").await;
    let form =
        b"type=application.moved&application_reference=a1&job_reference=j1&step=Video+interview";
    expect_status(
        app.post_signed_json("hr", "application/x-www-form-urlencoded", form, None)
            .await,
        202,
    )
    .await;
    let multipart =
        b"--BOUND\r\nContent-Disposition: form-data; name=\"job_reference\"\r\n\r\nm1\r\n\
--BOUND\r\nContent-Disposition: form-data; name=\"job_name\"\r\n\r\nMultipart job\r\n--BOUND--\r\n";
    expect_status(
        app.post_signed_json("hr", "multipart/form-data; boundary=BOUND", multipart, None)
            .await,
        202,
    )
    .await;

    let rows = inbox(app.db(), tenant).await;
    assert_eq!(rows.len(), 2);
    let moved: Value = serde_json::from_str(&rows[0].normalized).expect("json");
    assert_eq!(moved["body"]["step"], "Video interview");
    let job: Value = serde_json::from_str(&rows[1].normalized).expect("json");
    assert_eq!(job["body"]["title"], "Multipart job");
    app.stop().await;
}

#[tokio::test]
async fn signed_json_reads_overridden_fields_and_the_delivery_header() {
    let (app, tenant) =
        signed_app("[ats.fields]\njob_name = \"/title\"\njob_reference = \"/ref/id\"").await;
    let body = json!({"title": "Pointer job", "ref": {"id": 77}}).to_string();
    // The delivery header counts only when the signature covers it (`v2`, security review #16).
    let timestamp = now_s().to_string();
    let signature = liaison::signature::hmac_sha256::sign_v2(
        SIGNED_JSON_SECRET.as_bytes(),
        "hdr-1",
        &timestamp,
        body.as_bytes(),
    );
    let send = || {
        app.client
            .post(app.url("/webhooks/hr/ats"))
            .header("Content-Type", "application/json")
            .header("X-Liaison-Signature", signature.clone())
            .header("X-Liaison-Timestamp", timestamp.clone())
            .header("X-Liaison-Delivery", "hdr-1")
            .body(body.clone())
            .send()
    };
    expect_status(send().await.expect("request"), 202).await;
    expect_status(send().await.expect("request"), 200).await;
    let rows = inbox(app.db(), tenant).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].delivery_id, "hdr-1");
    let job: Value = serde_json::from_str(&rows[0].normalized).expect("json");
    assert_eq!(job["body"]["ats_job_id"], "77");
    assert_eq!(job["body"]["title"], "Pointer job");
    app.stop().await;
}

#[tokio::test]
async fn signed_json_wrong_types_are_400() {
    let (app, tenant) = signed_app("").await;
    for body in [
        json!({"type": "job.created", "job_reference": {"a": 1}, "job_name": "x"}),
        json!({"type": "job.created", "job_reference": "r", "job_name": "x", "job_latitude": "north"}),
        json!({"type": "application.moved", "application_reference": "a", "job_reference": "j",
               "occurred_at": "yesterday"}),
        json!("just a string"),
    ] {
        let answer = expect_status(
            app.post_signed_json("hr", "application/json", body.to_string().as_bytes(), None)
                .await,
            400,
        )
        .await;
        assert_eq!(error_code(&answer), "malformed_body", "{body}");
    }
    assert!(inbox(app.db(), tenant).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_suite_event_is_accepted_once_with_standard_webhooks() {
    let (app, tenant) = gupy_app("acme").await;
    let body = json!({"type": "invitation.completed", "timestamp": "2026-11-20T13:05:41Z",
                      "data": {"id": "inv_1", "project_id": "prj_1", "candidate_id": "can_1",
                               "status": "completed"}})
    .to_string();

    let first = app
        .post_suite("acme", SUITE_SECRET, "msg_1", now_s(), body.as_bytes())
        .await;
    let again = app
        .post_suite("acme", SUITE_SECRET, "msg_1", now_s(), body.as_bytes())
        .await;
    expect_status(first, 202).await;
    expect_status(again, 200).await;

    let rows = inbox(app.db(), tenant).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].source, "suite");
    assert_eq!(rows[0].delivery_id, "msg_1");
    assert_eq!(rows[0].subject.as_deref(), Some("suite:invitation:inv_1"));
    app.stop().await;
}

#[tokio::test]
async fn suite_authentication_failures_are_401() {
    let (app, tenant) = gupy_app("acme").await;
    let body = json!({"type": "project.deleted", "data": {"id": "prj_1"}}).to_string();
    let other = liaison::signature::standard_webhooks::WebhookSecret::generate();

    let wrong = app
        .post_suite("acme", other.expose(), "m1", now_s(), body.as_bytes())
        .await;
    let stale = app
        .post_suite("acme", SUITE_SECRET, "m2", now_s() - 301, body.as_bytes())
        .await;
    let future = app
        .post_suite("acme", SUITE_SECRET, "m3", now_s() + 301, body.as_bytes())
        .await;
    let unsigned = app
        .client
        .post(app.url("/webhooks/acme/suite"))
        .header("Content-Type", "application/json")
        .body(body.clone())
        .send()
        .await
        .expect("request");

    assert_eq!(
        error_code(&expect_status(wrong, 401).await),
        "invalid_signature"
    );
    assert_eq!(
        error_code(&expect_status(stale, 401).await),
        "stale_timestamp"
    );
    assert_eq!(
        error_code(&expect_status(future, 401).await),
        "stale_timestamp"
    );
    assert_eq!(
        error_code(&expect_status(unsigned, 401).await),
        "missing_signature"
    );
    assert!(inbox(app.db(), tenant).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn one_of_several_suite_signatures_is_enough() {
    let (app, tenant) = gupy_app("acme").await;
    let body = br#"{"type": "user.updated", "data": {"id": "usr_1", "email": "a@b.c"}}"#;
    let secret =
        liaison::signature::standard_webhooks::WebhookSecret::parse(SUITE_SECRET).expect("secret");
    let ts = now_s();
    let good = liaison::signature::standard_webhooks::sign(&secret, "msg_9", ts, body);
    let response = app
        .client
        .post(app.url("/webhooks/acme/suite"))
        .header("Content-Type", "application/json")
        .header("webhook-id", "msg_9")
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", format!("v1,bm90IHRoaXMgb25l {good}"))
        .body(body.to_vec())
        .send()
        .await
        .expect("request");
    expect_status(response, 202).await;
    assert_eq!(inbox(app.db(), tenant).await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn malformed_suite_bodies_are_400_and_unknown_types_ignored() {
    let (app, tenant) = gupy_app("acme").await;
    let truncated = app
        .post_suite("acme", SUITE_SECRET, "b1", now_s(), br#"{"type": "proj"#)
        .await;
    let wrong = app
        .post_suite(
            "acme",
            SUITE_SECRET,
            "b2",
            now_s(),
            br#"{"type": "project.deleted", "data": {"id": 4}}"#,
        )
        .await;
    let invalid_utf8 = app
        .post_suite("acme", SUITE_SECRET, "b3", now_s(), b"{\"type\": \"\xff\"}")
        .await;
    assert_eq!(
        error_code(&expect_status(truncated, 400).await),
        "malformed_body"
    );
    assert_eq!(
        error_code(&expect_status(wrong, 400).await),
        "malformed_body"
    );
    assert_eq!(
        error_code(&expect_status(invalid_utf8, 400).await),
        "malformed_body"
    );
    assert!(inbox(app.db(), tenant).await.is_empty());

    let unknown = app
        .post_suite(
            "acme",
            SUITE_SECRET,
            "b4",
            now_s(),
            br#"{"type": "planet.exploded", "data": {}}"#,
        )
        .await;
    expect_status(unknown, 202).await;
    assert_eq!(inbox(app.db(), tenant).await.len(), 1);
    app.stop().await;
}

#[test]
fn the_standard_webhooks_published_vector_verifies_and_another_secret_does_not() {
    use axum::http::{HeaderMap, HeaderValue};
    use liaison::inbound::suite_events;
    use liaison::signature::Unverified;

    let tenant = liaison::tenant::Tenant {
        id: TenantId(1),
        config: liaison::tenant::TenantConfig::from_toml(&gupy_toml("acme", "http://127.0.0.1:9"))
            .expect("valid"),
    };
    let delivery = |signature: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(
            "webhook-id",
            HeaderValue::from_static("msg_p5jXN8AQM9LWM0D4loKWxJek"),
        );
        headers.insert("webhook-timestamp", HeaderValue::from_static("1614265330"));
        headers.insert(
            "webhook-signature",
            HeaderValue::from_str(signature).expect("ascii"),
        );
        Unverified::new(
            headers,
            bytes::Bytes::from_static(br#"{"test": 2432232314}"#),
        )
    };
    let at = chrono::DateTime::from_timestamp(1_614_265_330, 0).expect("a time");

    let published = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert_eq!(
        suite_events::verify(&tenant, &delivery(published), at),
        Ok(())
    );

    let other = liaison::signature::standard_webhooks::WebhookSecret::generate();
    let foreign = liaison::signature::standard_webhooks::sign(
        &other,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330,
        br#"{"test": 2432232314}"#,
    );
    assert_eq!(
        suite_events::verify(&tenant, &delivery(&foreign), at),
        Err(liaison::signature::VerifyError::InvalidSignature)
    );
}
