//! Each partner route's answers: 401 without the tenant's key, 404 for another tenant's
//! interview, 400 in the contract's error shape, 413, 415, and the catalogue.

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::world::{GreenhouseWorld, add_tenant, partner_url};

fn basic(key: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    format!("Basic {encoded}")
}

fn send_test_body(test: &str, url: &str) -> Value {
    json!({
        "partner_test_id": test,
        "candidate": {
            "first_name": "Ana", "last_name": "Lima", "preferred_name": null,
            "resume_url": null, "phone_number": null, "email": "ana@example.com",
            "greenhouse_profile_url": "https://app.greenhouse.io/people/1?application_id=2"
        },
        "sent_by": null,
        "url": url
    })
}

async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("a JSON error");
    assert!(body["error"]["message"].is_string(), "{body}");
    body["error"]["code"].as_str().expect("code").to_owned()
}

#[tokio::test]
async fn greenhouse_routes_refuse_a_missing_or_wrong_key() {
    let world = GreenhouseWorld::new().await;
    world.project("Backend engineer");
    let http = reqwest::Client::new();
    let url = format!("{}/list_tests", partner_url(&world.app));

    let missing = http.get(&url).send().await.expect("call");
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(missing).await, "unauthorized");
    for wrong in [basic("not-the-key"), format!("Bearer {}", world.key)] {
        let response = http
            .get(&url)
            .header("authorization", wrong)
            .send()
            .await
            .expect("call");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let text = response.text().await.expect("body");
        assert!(!text.contains("Backend"), "no tenant data leaks: {text}");
    }
    // A key issued again replaces the old one.
    let old = world.key.clone();
    let new = liaison::orders::keys::issue(world.app.db(), &world.app.master_key, world.tenant.id)
        .await
        .expect("issue");
    let refused = http
        .get(&url)
        .header("authorization", basic(&old))
        .send()
        .await
        .expect("call");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let accepted = http
        .get(&url)
        .header(
            "authorization",
            basic(secrecy::ExposeSecret::expose_secret(&new)),
        )
        .send()
        .await
        .expect("call");
    assert_eq!(accepted.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_catalogue_follows_the_suites_projects() {
    let world = GreenhouseWorld::new().await;
    let partner = world.greenhouse.partner();
    assert!(partner.list_tests().await.expect("tests").is_empty());

    let backend = world.project("Backend engineer");
    let design = world.project("Product designer");
    let tests = partner.list_tests().await.expect("tests");
    let ids: Vec<&str> = tests.iter().map(|t| t.partner_test_id.as_str()).collect();
    assert_eq!(ids, [backend.as_str(), design.as_str()]);
    assert_eq!(tests[0].partner_test_name, "Backend engineer");

    world.archive(&backend);
    let tests = partner.list_tests().await.expect("tests");
    assert_eq!(tests.len(), 1);
    assert_eq!(tests[0].partner_test_id, design);
}

#[tokio::test]
async fn send_test_refuses_bad_bodies_with_the_contracts_answers() {
    let world = GreenhouseWorld::new().await;
    let test = world.project("Backend engineer");
    let http = reqwest::Client::new();
    let url = format!("{}/send_test", partner_url(&world.app));
    let auth = basic(&world.key);
    let post = |content_type: &'static str, body: Vec<u8>| {
        http.post(&url)
            .header("authorization", &auth)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let form = post("text/plain", b"x".to_vec()).await.expect("call");
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(form).await, "unsupported_media_type");

    let huge = vec![b' '; 1024 * 1024 + 1];
    let too_large = post("application/json", huge).await.expect("call");
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(too_large).await, "body_too_large");

    let broken = post("application/json", b"{\"partner_test_id\":".to_vec())
        .await
        .expect("call");
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(broken).await, "malformed_body");

    let mut no_email = send_test_body(&test, "https://app.greenhouse.io/t/1");
    no_email["candidate"]
        .as_object_mut()
        .expect("candidate")
        .remove("email");
    let missing = post("application/json", no_email.to_string().into_bytes())
        .await
        .expect("call");
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(missing).await, "malformed_body");

    let bad_url = send_test_body(&test, "javascript:alert(1)");
    let refused = post("application/json", bad_url.to_string().into_bytes())
        .await
        .expect("call");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(refused).await, "invalid_order");

    // Nothing was stored by any of them.
    let stored = liaison::orders::list(world.app.db(), world.tenant.id, 10)
        .await
        .expect("orders");
    assert!(stored.is_empty());

    let fine = post(
        "application/json; charset=utf-8",
        send_test_body(&test, "https://app.greenhouse.io/t/1")
            .to_string()
            .into_bytes(),
    )
    .await
    .expect("call");
    assert_eq!(fine.status(), StatusCode::OK);
    let body: Value = fine.json().await.expect("json");
    assert!(body["partner_interview_id"].is_string(), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1));
}

#[tokio::test]
async fn test_status_is_404_for_unknown_and_other_tenants_interviews() {
    let world = GreenhouseWorld::new().await;
    let test = world.project("Backend engineer");
    let (_, other_key) = add_tenant(&world.app, "other", &world.suite.base_url()).await;
    let http = reqwest::Client::new();
    let base = partner_url(&world.app);

    let theirs: Value = http
        .post(format!("{base}/send_test"))
        .header("authorization", basic(&other_key))
        .json(&send_test_body(&test, "https://app.greenhouse.io/t/other"))
        .send()
        .await
        .expect("call")
        .json()
        .await
        .expect("json");
    let their_id = theirs["partner_interview_id"].as_str().expect("id");

    let status = |id: String, key: String| {
        http.get(format!("{base}/test_status"))
            .query(&[("partner_interview_id", id)])
            .header("authorization", basic(&key))
            .send()
    };
    let other_tenant = status(their_id.to_owned(), world.key.clone())
        .await
        .expect("call");
    assert_eq!(other_tenant.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(other_tenant).await, "not_found");
    for unknown in ["ord_999999", "garbage", ""] {
        let response = status(unknown.to_owned(), world.key.clone())
            .await
            .expect("call");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{unknown}");
    }
    let without = http
        .get(format!("{base}/test_status"))
        .header("authorization", basic(&world.key))
        .send()
        .await
        .expect("call");
    assert_eq!(without.status(), StatusCode::BAD_REQUEST);

    let own = status(their_id.to_owned(), other_key).await.expect("call");
    assert_eq!(own.status(), StatusCode::OK);
    let body: Value = own.json().await.expect("json");
    assert_ne!(body["partner_status"], "complete");
}

#[tokio::test]
async fn response_error_is_acknowledged_and_kept_for_the_console() {
    let world = GreenhouseWorld::new().await;
    let report = liaison_sim::greenhouse::wire::ResponseError {
        api_call: "test_status".to_owned(),
        errors: vec!["partner_profile_url is missing".to_owned()],
        partner_test_id: None,
        partner_test_name: None,
        partner_interview_id: Some("ord_1".to_owned()),
        candidate_email: None,
    };
    world
        .greenhouse
        .partner()
        .response_error(&report)
        .await
        .expect("200");
    let kept = liaison::orders::reports::newest(world.app.db(), world.tenant.id, 10)
        .await
        .expect("reports");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].api_call, "test_status");
    assert!(kept[0].body.contains("partner_profile_url is missing"));
}

#[tokio::test]
async fn an_issued_key_still_works_after_a_master_key_rotation() {
    let world = GreenhouseWorld::new().await;
    let new = liaison::crypto::MasterKey::from_base64(&liaison::config::generate_master_key())
        .expect("key");
    let counts = liaison::rekey::rotate(world.app.db(), &world.app.master_key, &new)
        .await
        .expect("rotate");
    assert_eq!(counts.get(liaison::rekey::SealedColumn::PartnerKey), 1);
    let found = liaison::orders::keys::authenticate(world.app.db(), &new, &world.key)
        .await
        .expect("lookup");
    assert_eq!(found, Some(world.tenant.id));
    let old =
        liaison::orders::keys::authenticate(world.app.db(), &world.app.master_key, &world.key)
            .await
            .expect("lookup");
    assert_eq!(old, None);
}
