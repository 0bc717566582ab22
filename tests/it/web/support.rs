//! A Liaison whose `public_url` is its real address, a suite simulator, tenants pointing at it,
//! data seeded through the suite client, launch tokens, and node helpers for the IdPs.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use liaison::App;
use liaison::config::{Settings, generate_master_key};
use liaison::crypto::MasterKey;
use liaison::equivalence::{self, EntityKind};
use liaison::ids::TenantId;
use liaison::suite::{self, OperationKey, SuiteClient};
use liaison::tenant::{self, TenantConfig};
use liaison::web::WebState;
use liaison_sim::suite::{RunningSuiteSim, SuiteSimConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestDb, test_settings};
use crate::suite_client::{client_for, test_settings as client_settings};

pub struct WebApp {
    pub address: SocketAddr,
    pub database: TestDb,
    pub master_key: MasterKey,
    pub suite: RunningSuiteSim,
    /// Follows no redirect and keeps no cookie: each test says what it carries.
    pub client: reqwest::Client,
    shutdown: CancellationToken,
}

pub struct TenantOptions {
    pub slug: &'static str,
    pub locale: Option<&'static str>,
    pub frame_ancestors: Vec<String>,
    /// Extra TOML for `[sso]`.
    pub sso: Option<String>,
}

impl TenantOptions {
    pub fn new(slug: &'static str) -> Self {
        Self {
            slug,
            locale: None,
            frame_ancestors: vec!["https://ats.example.com".to_owned()],
            sso: None,
        }
    }
}

pub fn launch_secret(slug: &str) -> String {
    format!("launch-{slug}-S3CRET-and-32-bytes-at-least")
}

impl WebApp {
    pub async fn spawn() -> WebApp {
        Self::spawn_with_cache(Duration::from_secs(30)).await
    }

    /// With suite reads fresh for `ttl` (zero: every page view asks the suite).
    pub async fn spawn_with_cache(ttl: Duration) -> WebApp {
        Self::spawn_with(ttl, |_| {}).await
    }

    /// With suite reads fresh for `ttl` and settings changed by `configure` before it starts.
    pub async fn spawn_with(ttl: Duration, configure: impl FnOnce(&mut Settings)) -> WebApp {
        let database = TestDb::new().await;
        let master_key_text = generate_master_key();
        let mut settings = test_settings(&database, &master_key_text);
        configure(&mut settings);
        let mut app = App::build_with_db(settings, database.db.clone())
            .await
            .expect("build the app");
        let address = app.local_addr();
        let master_key = MasterKey::from_base64(&master_key_text).expect("key");
        let state = app.state_mut();
        Arc::make_mut(&mut state.settings).public_url = format!("http://{address}");
        state.web = WebState::with_cache_ttl(Some(&master_key), ttl);
        let shutdown = CancellationToken::new();
        tokio::spawn(app.run_until_stopped(shutdown.clone()));
        let suite = liaison_sim::suite::spawn(
            "127.0.0.1:0".parse().expect("addr"),
            SuiteSimConfig::default(),
        )
        .await
        .expect("suite simulator");
        WebApp {
            address,
            database,
            master_key,
            suite,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            shutdown,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub async fn add_tenant(&self, options: TenantOptions) -> TenantId {
        let slug = options.slug;
        let ancestors: Vec<String> = options
            .frame_ancestors
            .iter()
            .map(|origin| format!("\"{origin}\""))
            .collect();
        let locale = options
            .locale
            .map(|locale| format!("locale = \"{locale}\"\n"))
            .unwrap_or_default();
        let text = format!(
            r#"
slug = "{slug}"
name = "Tenant {slug}"

[ats]
kind = "gupy"
base_url = "http://127.0.0.1:9"
token = "gupy-token"
webhook_secret = "gupy-hook"

[suite]
base_url = "{suite}"
client_id = "liaison"
client_secret = "liaison-secret"

[embed]
launch_secret = "{secret}"
frame_ancestors = [{ancestors}]
{locale}
{sso}
"#,
            suite = self.suite.base_url(),
            secret = launch_secret(slug),
            ancestors = ancestors.join(", "),
            sso = options.sso.unwrap_or_default(),
        );
        let config = TenantConfig::from_toml(&text).expect("valid tenant");
        tenant::apply(&self.database.db, &self.master_key, &config)
            .await
            .expect("apply tenant")
            .0
    }

    pub async fn link(&self, tenant: TenantId, kind: EntityKind, ats_id: &str, suite_id: &str) {
        equivalence::link(&self.database.db, tenant, kind, ats_id, suite_id)
            .await
            .expect("link");
    }

    pub fn suite_client(&self) -> SuiteClient {
        client_for(&self.suite.base_url(), &client_settings())
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// `get` of a launch URL, following its `303` back to the page (with the one-time hand-off
    /// code and no cookie, as a frame that keeps none): the page a launch ends on. Refusals are
    /// answered as they are.
    pub async fn get_launched(&self, path: &str) -> reqwest::Response {
        let answer = self.get(path).await;
        if answer.status() != 303 {
            return answer;
        }
        let location = answer.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            !location.contains("launch="),
            "the launch token is not carried on: {location}"
        );
        self.get(&location).await
    }

    /// `get_launched` with an owned path, for many requests at once.
    pub async fn get_launched_owned(&self, path: String) -> reqwest::Response {
        self.get_launched(&path).await
    }

    pub async fn suite_state(&self) -> Value {
        reqwest::get(format!("{}/_sim/state", self.suite.base_url()))
            .await
            .expect("state")
            .json()
            .await
            .expect("json")
    }

    pub async fn suite_faults(&self, faults: Value) {
        let answer = reqwest::Client::new()
            .post(format!("{}/_sim/faults", self.suite.base_url()))
            .json(&faults)
            .send()
            .await
            .expect("faults");
        assert!(answer.status().is_success());
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
    }
}

/// A project with three questions and invitations in several states; answers its id.
pub async fn seed_project(client: &SuiteClient, title: &str) -> String {
    let key = |what: &str| OperationKey::new("test", what, format!("{title}-{what}"));
    let project = client
        .create_project(
            &key("project"),
            &suite::CreateProjectRequest {
                external_ref: Some(format!("ref-{title}")),
                title: title.to_owned(),
                language: "en".to_owned(),
                ..Default::default()
            },
        )
        .await
        .expect("project");
    let project_id = project.id().to_owned();
    let questions = [
        "Tell us about yourself",
        "Why this role?",
        "A hard problem you solved",
    ]
    .iter()
    .enumerate()
    .map(|(i, text)| suite::QuestionRequest {
        text: (*text).to_owned(),
        thinking_seconds: 30 + i as u32,
        answer_seconds: 120,
        retakes: 1,
    })
    .collect::<Vec<_>>();
    client
        .replace_questions(&project_id, &questions)
        .await
        .expect("questions");
    project_id
}

/// A candidate invited to `project_id`; answers the invitation id.
pub async fn seed_invitation(client: &SuiteClient, project_id: &str, email: &str) -> String {
    let key = |what: &str| OperationKey::new("test", what, format!("{email}-{project_id}"));
    let candidate = client
        .create_candidate(
            &key("candidate"),
            &suite::CreateCandidateRequest {
                first_name: "Bia".to_owned(),
                last_name: "Souza".to_owned(),
                email: email.to_owned(),
                locale: "pt-BR".to_owned(),
                ..Default::default()
            },
        )
        .await
        .expect("candidate");
    let invitation = client
        .create_invitation(
            &key("invite"),
            project_id,
            &suite::CreateInvitationRequest {
                candidate_id: candidate.id().to_owned(),
                expires_at: None,
            },
        )
        .await
        .expect("invitation");
    invitation.id().to_owned()
}

/// Plays the candidate finishing and reviewers rating.
pub async fn complete_with_reviews(app: &WebApp, invitation_id: &str, reviews: Value) {
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/_sim/invitations/{invitation_id}/complete",
            app.suite.base_url()
        ))
        .json(&json!({ "reviews": reviews }))
        .send()
        .await
        .expect("complete");
    assert!(
        answer.status().is_success(),
        "{}",
        answer.text().await.unwrap_or_default()
    );
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Standard launch claims for `slug`, each with its own `jti` (a launch token is spent once).
pub fn claims(slug: &str) -> Value {
    json!({"aud": "liaison", "tenant": slug, "sub": "ats-user-7", "email": "rita@acme.test",
           "role": "recruiter", "iat": now(), "exp": now() + 300,
           "jti": format!("jti-{}", rand::random::<u64>())})
}

pub fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

pub fn launch_for(slug: &str) -> String {
    sign(&claims(slug), &launch_secret(slug))
}

/// The session token the page's links and forms carry (`s=...`).
pub fn session_in(html: &str) -> String {
    let marker = "name=\"s\" value=\"";
    let start = html.find(marker).expect("a form with the session") + marker.len();
    html[start..].chars().take_while(|c| *c != '"').collect()
}

pub fn js_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// A node helper under tests/js, killed when dropped.
pub struct NodeProcess {
    child: tokio::process::Child,
    pub first_line: String,
}

impl NodeProcess {
    /// Starts `node script args...` in `dir` and waits for its first stdout line.
    pub async fn start(script: &str, args: &[&str], dir: &std::path::Path) -> NodeProcess {
        let mut child = tokio::process::Command::new("node")
            .arg(js_dir().join(script))
            .args(args)
            .current_dir(dir)
            .env("NODE_PATH", js_dir().join("node_modules"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (tests/js: npm ci)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first_line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the node helper starts in time")
            .expect("read")
            .expect("a first line");
        // Keep draining so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        NodeProcess { child, first_line }
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Where the browser tests write their screenshots when `LIAISON_SCREENSHOTS=1`.
pub fn screenshots_dir() -> Option<std::path::PathBuf> {
    std::env::var("LIAISON_SCREENSHOTS")
        .is_ok_and(|v| v == "1")
        .then(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"))
}

/// Runs the browser script `script` (under tests/js) with `args`, within 60 s; answers the JSON
/// line it ends with. Screenshots go to [`screenshots_dir`] when asked for.
pub async fn run_browser_script(script: &str, args: &[&str]) -> Value {
    let mut command = tokio::process::Command::new("node");
    command
        .arg(js_dir().join(script))
        .args(args)
        .current_dir(js_dir())
        .kill_on_drop(true);
    match screenshots_dir() {
        Some(dir) => command.env("LIAISON_SCREENSHOTS", dir),
        None => command.env_remove("LIAISON_SCREENSHOTS"),
    };
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the browser finishes in time")
        .expect("node runs (tests/js: npm ci)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "browser failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("one JSON line")
}
