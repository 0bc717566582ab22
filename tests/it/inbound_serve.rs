//! A real `liaison serve` process: it answers 202 to a webhook and, killed with SIGKILL right
//! after the answer, has the event in its database.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use liaison::config::{DatabaseUrl, generate_master_key};
use liaison::crypto::MasterKey;
use liaison::store;
use liaison::store::entities::inbox_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::inbound_support::*;
use super::support::wait_until;

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test]
async fn an_accepted_event_survives_a_sigkill_right_after_the_answer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = DatabaseUrl(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("serve.db").display()
    ));
    let key_text = generate_master_key();
    let key = MasterKey::from_base64(&key_text).expect("key");
    let db = store::connect(&url).await.expect("connect");
    store::migrate(&db).await.expect("migrate");
    let tenant = apply(&db, &key, &gupy_toml("acme", "http://127.0.0.1:9")).await;
    db.close().await.ok();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(["serve", "--no-workers"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", url.expose())
        .env("LIAISON_MASTER_KEY", &key_text)
        .env("LIAISON_BIND", format!("127.0.0.1:{port}"))
        .env("LIAISON_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start liaison serve");
    let mut server = KillOnDrop(child);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    wait_until(
        Duration::from_secs(30),
        "liaison serve to listen",
        || async {
            let ok = client.get(format!("{base}/healthz")).send().await.ok()?;
            ok.status().is_success().then_some(())
        },
    )
    .await;

    let body = gupy_delivery("sigkill-1", "application.moved").to_string();
    let answer = client
        .post(format!("{base}/webhooks/acme/ats"))
        .header("X-Liaison-Token", gupy_secret("acme"))
        .body(body)
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status().as_u16(), 202);
    server.0.kill().expect("SIGKILL");
    server.0.wait().expect("reaped");

    let db = store::connect(&url).await.expect("reopen");
    let rows = inbox_event::Entity::find()
        .filter(inbox_event::Column::TenantId.eq(tenant.0))
        .filter(inbox_event::Column::DeliveryId.eq("sigkill-1"))
        .all(&db)
        .await
        .expect("read");
    assert_eq!(rows.len(), 1, "the answered event is in the database");
    assert_eq!(job_count(&db, tenant).await, 1, "with its job");
}
