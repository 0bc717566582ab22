//! `spawn_app()`: Liaison on a random loopback port over a fresh database, and a client with
//! helpers per route. The back end comes from `LIAISON_TEST_DATABASE_URL`: unset, a temporary
//! SQLite file; a PostgreSQL URL, a fresh database created through that maintenance connection
//! (an unreachable PostgreSQL fails the test loudly, it never skips).

use std::net::SocketAddr;
use std::path::PathBuf;

use liaison::App;
use liaison::config::{DatabaseUrl, Settings, generate_master_key};
use liaison::crypto::MasterKey;
use liaison::ids::TenantId;
use liaison::store;
use liaison::tenant::{self, TenantConfig};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// A fresh, migrated database; the SQLite file lives as long as this value.
pub struct TestDb {
    pub url: DatabaseUrl,
    pub db: DatabaseConnection,
    pub sqlite_file: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let (url, sqlite_file, dir) = match std::env::var("LIAISON_TEST_DATABASE_URL") {
            Ok(maintenance) if !maintenance.is_empty() => {
                (fresh_postgres(&maintenance).await, None, None)
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let file = dir.path().join("liaison.db");
                let url = DatabaseUrl(format!("sqlite://{}?mode=rwc", file.display()));
                (url, Some(file), Some(dir))
            }
        };
        let db = store::connect(&url)
            .await
            .expect("connect to the test database");
        store::migrate(&db)
            .await
            .expect("migrate the test database");
        TestDb {
            url,
            db,
            sqlite_file,
            _dir: dir,
        }
    }
}

async fn fresh_postgres(maintenance: &str) -> DatabaseUrl {
    let admin = sea_orm::Database::connect(maintenance)
        .await
        .unwrap_or_else(|e| panic!("LIAISON_TEST_DATABASE_URL is set but unreachable: {e}"));
    let name = format!("liaison_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create the test database");
    admin.close().await.ok();
    let mut url = url::Url::parse(maintenance).expect("a PostgreSQL URL");
    url.set_path(&name);
    DatabaseUrl(url.to_string())
}

pub struct TestApp {
    pub address: SocketAddr,
    pub database: TestDb,
    pub master_key: MasterKey,
    pub master_key_text: String,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
    pub server: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// The running app's state (its database, suite clients, inbox), for driving workers.
    pub state: liaison::app::AppState,
}

pub fn test_settings(database: &TestDb, master_key: &str) -> Settings {
    let mut settings = Settings::defaults();
    settings.database_url = database.url.clone();
    settings.bind = "127.0.0.1:0".to_owned();
    settings.master_key = Some(SecretString::from(master_key.to_owned()));
    settings.admin_token = Some(SecretString::from(ADMIN_TOKEN.to_owned()));
    settings.validate().expect("test settings are valid");
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `spawn_app` with settings adjusted first. `public_url` is the app's own address, so that
/// partners (simulators) can call it back.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDb::new().await;
    let master_key_text = generate_master_key();
    let mut settings = test_settings(&database, &master_key_text);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    settings.bind = format!("127.0.0.1:{port}");
    settings.public_url = format!("http://127.0.0.1:{port}");
    configure(&mut settings);
    let app = App::build_with_db(settings, database.db.clone())
        .await
        .expect("build the app");
    let address = app.local_addr();
    let state = app.state().clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    TestApp {
        address,
        database,
        master_key: MasterKey::from_base64(&master_key_text).expect("key"),
        master_key_text,
        client: reqwest::Client::new(),
        shutdown,
        server,
        state,
    }
}

/// A valid tenant file for `slug`, with distinctive secrets a test can look for.
pub fn tenant_toml(slug: &str) -> String {
    format!(
        r#"
slug = "{slug}"
name = "Tenant {slug}"

[ats]
kind = "gupy"
base_url = "http://127.0.0.1:9"
token = "gupy-token-{slug}-S3CRET"
webhook_secret = "gupy-hook-{slug}-S3CRET"

[suite]
base_url = "http://127.0.0.1:9"
client_id = "liaison"
client_secret = "suite-client-{slug}-S3CRET"
webhook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

[embed]
launch_secret = "launch-{slug}-S3CRET-and-32-bytes-at-least"
frame_ancestors = ["https://ats.example.com"]
"#
    )
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.database.db
    }

    pub async fn add_tenant(&self, slug: &str) -> TenantId {
        let config = TenantConfig::from_toml(&tenant_toml(slug)).expect("valid tenant");
        tenant::apply(self.db(), &self.master_key, &config)
            .await
            .expect("apply tenant")
            .0
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
    }

    /// Runs the `liaison` binary against this app's database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LIAISON_DATABASE_URL", self.database.url.expose())
            .env("LIAISON_MASTER_KEY", &self.master_key_text)
            .env("LIAISON_LOG", "warn")
            .current_dir(std::env::temp_dir())
            .output()
            .expect("run the liaison binary")
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.server.await;
    }
}

/// Asserts a response's status, printing the body when it differs.
pub async fn expect_status(response: reqwest::Response, status: u16) -> serde_json::Value {
    let actual = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}
