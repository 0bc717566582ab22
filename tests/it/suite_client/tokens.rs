//! The token cache: single flight, and one refresh for an expired token.

use futures::future::join_all;
use liaison::suite::PageRequest;

use super::{client_for, counter, test_settings};
use crate::sim_suite::spawn_suite;

#[tokio::test]
async fn a_hundred_concurrent_calls_make_one_token_request() {
    let suite = spawn_suite().await;
    let client = client_for(&suite.base, &test_settings());
    let page = PageRequest::default();

    let results = join_all((0..100).map(|_| client.list_users(&page))).await;

    assert!(results.iter().all(Result::is_ok));
    let state = suite.state().await;
    assert_eq!(
        counter(&state, &["token_requests", "client_credentials"]),
        1
    );
    assert_eq!(counter(&state, &["calls", "GET /v1/users"]), 100);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once() {
    let suite = spawn_suite().await;
    let client = client_for(&suite.base, &test_settings());
    let page = PageRequest::default();
    client.list_users(&page).await.expect("first call");
    suite
        .control("/_sim/tokens/expire", serde_json::json!({}))
        .await;

    let results = join_all((0..20).map(|_| client.list_users(&page))).await;

    assert!(results.iter().all(Result::is_ok));
    let state = suite.state().await;
    assert_eq!(
        counter(&state, &["token_requests", "client_credentials"]),
        2
    );
}
