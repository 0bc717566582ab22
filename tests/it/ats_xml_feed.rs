//! `poll_once` for xml-feed tenants, against a loopback HTTP server that generates the feed on
//! the fly: 200,000 jobs stream through in bounded memory; over two polls the changed, new and
//! removed jobs are found exactly; a feed that fails to download or parse changes nothing; a bad
//! job is reported in the event log and skipped.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use futures::StreamExt as _;
use liaison::App;
use liaison::app::AppState;
use liaison::ats::{AdapterError, poll_once};
use liaison::ids::TenantId;
use liaison::store::entities::inbox_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use super::helpers::{TestApp, spawn_app, test_settings};
use super::inbound_support::*;

const JOBS: u64 = 200_000;
const CHUNK: u64 = 2_000;

/// What the feed server serves next.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Phase {
    /// refs 0..200,000, all version 0.
    First = 0,
    /// refs 100..200,100: 0..100 removed, 200,000.. new, every 1,000th changed, one bad job.
    Second = 1,
    /// The second feed cut in the middle of a job.
    Truncated = 2,
    /// A DOCTYPE with an entity bomb.
    EntityBomb = 3,
    /// 500.
    Broken = 4,
}

fn job_xml(i: u64, version: u32) -> String {
    format!(
        "<job data-id=\"{i}\"><name>Job {i} v{version}</name><reference>ref-{i:07}</reference>\
<url>https://example.com/careers/{i}</url><summary>Summary of job {i}, with some text</summary>\
<address>1-7 Cours Valmy, 92800 Puteaux</address><salary><min>4000</min><max>5000</max></salary>\
</job>\n"
    )
}

fn second_version(i: u64) -> u32 {
    u32::from(i.is_multiple_of(1_000) && i < JOBS)
}

fn chunks(
    range: std::ops::Range<u64>,
    version: fn(u64) -> u32,
) -> impl futures::Stream<Item = Bytes> {
    let (start, end) = (range.start, range.end);
    futures::stream::iter((start..end).step_by(CHUNK as usize)).map(move |from| {
        let to = (from + CHUNK).min(end);
        let text: String = (from..to).map(|i| job_xml(i, version(i))).collect();
        Bytes::from(text)
    })
}

async fn serve_feed(State(phase): State<Arc<AtomicU8>>, headers: HeaderMap) -> Response {
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some("feed-key") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let head = futures::stream::iter([Bytes::from_static(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<jobs>\n",
    )]);
    let tail = futures::stream::iter([Bytes::from_static(b"</jobs>\n")]);
    let bad = futures::stream::iter([Bytes::from_static(
        b"<job data-id=\"999999\"><reference>bad-1</reference></job>\n",
    )]);
    let body = match phase.load(Ordering::SeqCst) {
        0 => Body::from_stream(
            head.chain(chunks(0..JOBS, |_| 0))
                .chain(tail)
                .map(Ok::<_, std::io::Error>),
        ),
        1 => Body::from_stream(
            head.chain(chunks(100..JOBS + 100, second_version))
                .chain(bad)
                .chain(tail)
                .map(Ok::<_, std::io::Error>),
        ),
        2 => Body::from_stream(
            head.chain(chunks(100..JOBS / 2, second_version))
                .chain(futures::stream::iter([Bytes::from_static(
                    b"<job data-id=\"1\"><na",
                )]))
                .map(Ok::<_, std::io::Error>),
        ),
        3 => Body::from(
            "<?xml version=\"1.0\"?><!DOCTYPE jobs [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>\
<jobs><job><name>&b;</name><reference>x</reference></job></jobs>",
        ),
        _ => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    body.into_response()
}

async fn spawn_feed() -> (String, Arc<AtomicU8>) {
    let phase = Arc::new(AtomicU8::new(Phase::First as u8));
    let router = Router::new()
        .route("/feed.xml", get(serve_feed))
        .with_state(phase.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/feed.xml"), phase)
}

async fn poll_state(app: &TestApp) -> (App, AppState) {
    let settings = test_settings(&app.database, &app.master_key_text);
    let built = App::build_with_db(settings, app.db().clone())
        .await
        .expect("build");
    let state = built.state().clone();
    (built, state)
}

async fn polled_since(app: &TestApp, tenant: TenantId, after_id: i64) -> Vec<inbox_event::Model> {
    inbox_event::Entity::find()
        .filter(inbox_event::Column::TenantId.eq(tenant.0))
        .filter(inbox_event::Column::Id.gt(after_id))
        .all(app.db())
        .await
        .expect("read the inbox")
}

fn job_ids(rows: &[inbox_event::Model], event_type: &str) -> BTreeSet<String> {
    rows.iter()
        .filter(|r| r.event_type == event_type)
        .map(|r| {
            let normalized: Value = serde_json::from_str(&r.normalized).expect("json");
            normalized["body"]["ats_job_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn refs(range: impl Iterator<Item = u64>) -> BTreeSet<String> {
    range.map(|i| format!("ref-{i:07}")).collect()
}

#[tokio::test]
async fn a_200k_job_feed_streams_through_and_two_polls_find_changes_exactly() {
    let app = spawn_app().await;
    let (url, phase) = spawn_feed().await;
    let tenant_id = apply(app.db(), &app.master_key, &xml_feed_toml("feed", &url)).await;
    let tenant = open(app.db(), &app.master_key, "feed").await;
    let (_app, state) = poll_state(&app).await;

    let first = poll_once(&state.pollers(), &tenant)
        .await
        .expect("first poll");
    let last_id = polled_since(&app, tenant_id, 0)
        .await
        .iter()
        .map(|r| r.id)
        .max()
        .unwrap_or(0);
    for failing in [Phase::Truncated, Phase::EntityBomb, Phase::Broken] {
        phase.store(failing as u8, Ordering::SeqCst);
        let outcome = poll_once(&state.pollers(), &tenant).await;
        assert!(outcome.is_err(), "a failed feed is an error");
        assert!(
            polled_since(&app, tenant_id, last_id).await.is_empty(),
            "and changes nothing"
        );
    }
    phase.store(Phase::Second as u8, Ordering::SeqCst);
    let second = poll_once(&state.pollers(), &tenant)
        .await
        .expect("second poll");
    let again = poll_once(&state.pollers(), &tenant)
        .await
        .expect("third poll");

    assert_eq!(
        (first.seen, first.new, first.stored),
        (JOBS, JOBS, JOBS),
        "{first:?}"
    );
    assert!(first.parser_peak_bytes < 256 * 1024, "bounded: {first:?}");
    assert_eq!(
        (second.new, second.changed, second.removed, second.skipped),
        (100, 199, 100, 1),
        "{second:?}"
    );
    assert_eq!(
        again.stored, 0,
        "an unchanged feed costs nothing: {again:?}"
    );
    let rows = polled_since(&app, tenant_id, last_id).await;
    let expected_upserts: BTreeSet<String> = refs((1_000..JOBS).step_by(1_000))
        .into_iter()
        .chain(refs(JOBS..JOBS + 100))
        .collect();
    assert_eq!(job_ids(&rows, "job.polled"), expected_upserts);
    assert_eq!(job_ids(&rows, "job.left_feed"), refs(0..100));
    let skipped: Vec<_> = rows
        .iter()
        .filter(|r| r.event_type == "liaison.feed_job_skipped")
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].status, "processed");
    assert!(
        skipped[0].payload.contains("bad-1"),
        "{}",
        skipped[0].payload
    );
    assert_eq!(rows.len(), 100 + 199 + 100 + 1);
    assert_eq!(job_count(app.db(), tenant_id).await, JOBS + 399);
    app.stop().await;
}

#[tokio::test]
async fn a_feed_that_fails_to_download_is_a_transient_error_and_stores_nothing() {
    let app = spawn_app().await;
    let (url, phase) = spawn_feed().await;
    let tenant_id = apply(app.db(), &app.master_key, &xml_feed_toml("feed", &url)).await;
    let tenant = open(app.db(), &app.master_key, "feed").await;
    let (_app, state) = poll_state(&app).await;
    phase.store(Phase::Broken as u8, Ordering::SeqCst);
    assert!(matches!(
        poll_once(&state.pollers(), &tenant).await,
        Err(AdapterError::Transient(_))
    ));
    assert!(inbox(app.db(), tenant_id).await.is_empty());
    app.stop().await;
}
