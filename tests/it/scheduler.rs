//! The scheduler runs each tenant task once per interval across all processes: the lease's
//! expiry is when the task is next due, and its holder does not take it again before then.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use liaison::sync::keys::LeaseName;
use liaison::sync::runtime::run_background;
use liaison::sync::state::{release_lease, try_lease};

use super::helpers::spawn_app;
use super::inbound_support::{apply, xml_feed_toml};

#[tokio::test]
async fn a_lease_is_taken_once_until_it_expires_or_is_released() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let take = |owner: &'static str, ttl_ms: i64| {
        try_lease(app.db(), tenant, LeaseName::Poll, owner, ttl_ms)
    };

    assert!(take("a", 60_000).await.expect("lease"));
    assert!(
        !take("a", 60_000).await.expect("lease"),
        "the holder waits for the expiry too"
    );
    assert!(!take("b", 60_000).await.expect("lease"));
    release_lease(app.db(), tenant, LeaseName::Poll, "a")
        .await
        .expect("release");
    assert!(
        take("b", 1).await.expect("lease"),
        "a released lease is free"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        take("a", 60_000).await.expect("lease"),
        "an expired lease is free"
    );
    // Another task's lease of the same tenant is its own.
    assert!(
        try_lease(app.db(), tenant, LeaseName::SubscriptionCheck, "a", 60_000)
            .await
            .expect("lease")
    );
}

async fn empty_feed(State(fetches): State<Arc<AtomicUsize>>) -> &'static str {
    fetches.fetch_add(1, Ordering::SeqCst);
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<jobs>\n</jobs>\n"
}

#[tokio::test]
async fn a_feed_with_a_five_minute_interval_is_fetched_once_over_several_scheduler_ticks() {
    let app = spawn_app().await;
    let fetches = Arc::new(AtomicUsize::new(0));
    let feed = Router::new()
        .route("/feed.xml", get(empty_feed))
        .with_state(fetches.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let feed_url = format!(
        "http://{}/feed.xml",
        listener.local_addr().expect("address")
    );
    tokio::spawn(async move { axum::serve(listener, feed).await });
    // poll_interval_s = 300.
    apply(
        app.db(),
        &app.master_key,
        &xml_feed_toml("feedco", &feed_url),
    )
    .await;

    let stop = app.shutdown.child_token();
    let background = app.state.background().expect("background");
    let running = tokio::spawn(run_background(background, stop.clone()));
    let first = tokio::time::timeout(Duration::from_secs(30), async {
        while fetches.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(first.is_ok(), "the first poll is due at once");
    // The scheduler ticks every second: three more ticks find the poll not due.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    stop.cancel();
    running.await.expect("join").expect("background");
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "fetched once per interval"
    );
}
