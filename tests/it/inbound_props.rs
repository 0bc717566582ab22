//! Property tests: arbitrary bytes and mutated valid payloads fed to every parser and verifier
//! of the inbound path never panic; through the route they get a 4xx (or are accepted when they
//! happen to be a JSON object), never a 5xx, and a refused body stores nothing.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use liaison::ats::gupy::normalize;
use liaison::ats::signed_json;
use liaison::inbound::body::{BodyFormat, to_json};
use liaison::inbound::suite_events;
use liaison::signature::{Unverified, Verified, shared_token};
use proptest::prelude::*;
use rand::{Rng as _, SeedableRng as _};

use super::helpers::spawn_app;
use super::inbound_support::*;

fn tenant() -> liaison::tenant::Tenant {
    liaison::tenant::Tenant {
        id: liaison::ids::TenantId(1),
        config: liaison::tenant::TenantConfig::from_toml(&gupy_toml("acme", "http://127.0.0.1:9"))
            .expect("valid"),
    }
}

fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(value) {
            map.insert(HeaderName::from_static(name), value);
        }
    }
    map
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

fn parse_everywhere(bytes: &[u8]) {
    let verified = Verified::trusted(
        headers(&[("webhook-id", "msg_1".to_owned())]),
        Bytes::copy_from_slice(bytes),
    );
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let _ = normalize::parse_delivery(&value);
        let _ = signed_json::parse_payload(&value, &BTreeMap::new(), None, "d".into(), None);
        let overrides = BTreeMap::from([("job_name".to_owned(), "/a/0/b".to_owned())]);
        let _ = signed_json::parse_payload(&value, &overrides, Some("en"), "d".into(), Some(1));
        let _ = suite_events::parse(&verified, &value);
    }
    let body = Bytes::copy_from_slice(bytes);
    runtime().block_on(async {
        for format in [
            BodyFormat::Json,
            BodyFormat::Form,
            BodyFormat::Multipart {
                boundary: "XX".into(),
            },
        ] {
            let _ = to_json(&format, &body).await;
        }
    });
}

fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(index, op, value) in edits {
        if bytes.is_empty() {
            bytes.push(value);
            continue;
        }
        let i = index % bytes.len();
        match op % 3 {
            0 => bytes[i] = value,
            1 => {
                bytes.remove(i);
            }
            _ => bytes.insert(i, value),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_a_parser(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        parse_everywhere(&bytes);
    }

    #[test]
    fn mutated_valid_payloads_never_panic_a_parser(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
    ) {
        let valid = match which {
            0 => gupy_delivery("g-1", "application.moved").to_string(),
            1 => serde_json::json!({"type": "application.moved", "application_reference": "a",
                "job_reference": "j", "occurred_at": "2026-11-20T13:05:41Z",
                "candidate": {"email": "a@b.c"}}).to_string(),
            _ => serde_json::json!({"type": "invitation.completed", "timestamp": "2026-11-20T13:05:41Z",
                "data": {"id": "inv_1", "status": "completed"}}).to_string(),
        };
        parse_everywhere(&mutate(valid.into_bytes(), &edits));
    }

    #[test]
    fn arbitrary_headers_never_panic_a_verifier(
        id in ".{0,40}",
        timestamp in ".{0,20}",
        signature in ".{0,120}",
        token in proptest::option::of(".{0,40}"),
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let tenant = tenant();
        let delivery = Unverified::new(
            headers(&[
                ("webhook-id", id),
                ("webhook-timestamp", timestamp),
                ("webhook-signature", signature),
            ]),
            Bytes::from(body),
        );
        let verdict = suite_events::verify(&tenant, &delivery, chrono::Utc::now());
        prop_assert!(verdict.is_err(), "random headers never verify");
        let _ = shared_token::verify(b"secret", token.as_deref());
    }

    #[test]
    fn a_mutated_suite_body_never_verifies(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..4),
    ) {
        let body = br#"{"type":"project.deleted","data":{"id":"prj_1"}}"#.to_vec();
        let mutated = mutate(body.clone(), &edits);
        prop_assume!(mutated != body);
        let secret = liaison::signature::standard_webhooks::WebhookSecret::parse(SUITE_SECRET)
            .expect("secret");
        let now = chrono::Utc::now();
        let signature = liaison::signature::standard_webhooks::sign(&secret, "m", now.timestamp(), &body);
        let delivery = Unverified::new(
            headers(&[
                ("webhook-id", "m".to_owned()),
                ("webhook-timestamp", now.timestamp().to_string()),
                ("webhook-signature", signature),
            ]),
            Bytes::from(mutated),
        );
        prop_assert_eq!(
            suite_events::verify(&tenant(), &delivery, now),
            Err(liaison::signature::VerifyError::InvalidSignature)
        );
    }
}

#[tokio::test]
async fn signed_random_bodies_get_a_4xx_or_are_accepted_and_never_a_5xx() {
    let app = spawn_app().await;
    let tenant = apply(app.db(), &app.master_key, &signed_json_toml("hr", "")).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261123);
    let templates = [
        r#"{"type":"job.created","job_reference":"r1","job_name":"Dev","job_latitude":1.5}"#,
        r#"{"type":"application.moved","application_reference":"a","job_reference":"j"}"#,
    ];
    for round in 0..64 {
        let body: Vec<u8> = if round % 2 == 0 {
            (0..rng.random_range(0..64)).map(|_| rng.random()).collect()
        } else {
            let template = templates[round % templates.len()].as_bytes().to_vec();
            let edits: Vec<(usize, u8, u8)> = (0..rng.random_range(1..4))
                .map(|_| (rng.random_range(0..1024usize), rng.random(), rng.random()))
                .collect();
            mutate(template, &edits)
        };
        let before = inbox(app.db(), tenant).await.len();
        let response = app
            .post_signed_json("hr", "application/json", &body, None)
            .await;
        let status = response.status().as_u16();
        assert!(matches!(status, 202 | 200 | 400), "{status} for {body:?}");
        let after = inbox(app.db(), tenant).await.len();
        if status == 400 {
            assert_eq!(before, after, "a refused body stores nothing");
        }
    }
    app.stop().await;
}
