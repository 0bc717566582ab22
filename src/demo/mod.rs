//! `liaison demo`: Liaison on an embedded SQLite file (or `--database-url`), the Gupy and suite
//! simulators on loopback ports in the same process, a seeded demo tenant, and a short scenario
//! played on the simulators with Liaison doing the sync in between. See `docs/demo.md`.
//!
//! Re-running on the kept database works: the tenant is re-applied to the new simulators with
//! new secrets, and the simulators mint ids above those of any earlier run (their ids start at
//! the current time), so a new run never meets an earlier run's links.

pub mod cert;
pub mod files;
pub mod greenhouse;
pub mod scenario;
pub mod seed;
pub mod urls;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::SecretString;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::{DatabaseUrl, Settings};
use crate::sync::runtime;
use files::DemoFiles;
use liaison_sim::gupy::{self, EmbedTarget, GupySimConfig, RunningGupySim};
use liaison_sim::suite::{self, RunningSuiteSim, SuiteSimConfig};
use scenario::{Progress, Scenario, ScenarioOutcome};
use seed::DemoSecrets;
use urls::Link;

/// What `liaison demo` was asked for.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub bind: SocketAddr,
    /// `None`: an SQLite file in `dir`.
    pub database_url: Option<DatabaseUrl>,
    /// Where the database, the generated secrets and the certificate are kept.
    pub dir: PathBuf,
    /// Serve HTTPS with a self-signed certificate kept in `dir`.
    pub tls: bool,
}

/// Where a secret the demo uses came from: generated (and kept in a file) or configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretSource {
    Generated,
    Configured,
}

/// Liaison and both simulators, serving.
pub struct RunningDemo {
    pub public_url: String,
    pub database_url: DatabaseUrl,
    pub admin_token: SecretString,
    pub admin_token_source: SecretSource,
    pub files: DemoFiles,
    /// The self-signed certificate's file, with `--tls`.
    pub certificate: Option<PathBuf>,
    /// Webhook subscriptions registered at the two simulators.
    pub subscriptions: usize,
    secrets: DemoSecrets,
    /// The second tenant, on the Greenhouse simulator (and its own suite simulator).
    greenhouse: greenhouse::GreenhouseDemo,
    gupy: RunningGupySim,
    suite: RunningSuiteSim,
    http: reqwest::Client,
    shutdown: CancellationToken,
    server: JoinHandle<anyhow::Result<()>>,
    /// The server's outcome, when it ended before `stop` (it failed).
    served: Option<anyhow::Result<()>>,
    background: JoinHandle<anyhow::Result<()>>,
}

/// The address to reach a bound socket from this machine.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// The simulators' ids start here: the current time in milliseconds, so that every run mints ids
/// no earlier run used (a run would have to mint more ids than the milliseconds it lasts to catch
/// up with the next; whole seconds were not enough: two runs in one second shared their ids).
fn fresh_id_offset() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Starts everything and seeds the tenant; serves until `shutdown` is cancelled.
pub async fn start(
    mut settings: Settings,
    options: DemoOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<RunningDemo> {
    let files = DemoFiles::open(&options.dir)?;
    settings.database_url = options
        .database_url
        .clone()
        .unwrap_or_else(|| files.database_url());
    settings.bind = options.bind.to_string();
    let admin_token_source = match settings.admin_token {
        Some(_) => SecretSource::Configured,
        None => SecretSource::Generated,
    };
    settings.master_key = Some(files.master_key(settings.master_key.as_ref())?);
    settings.admin_token = Some(files.admin_token(settings.admin_token.as_ref())?);
    let scheme = if options.tls { "https" } else { "http" };
    let certificate = if options.tls {
        let cert = cert::ensure(&files, options.bind.ip())?;
        settings.tls_cert = Some(cert.cert_path.clone());
        settings.tls_key = Some(cert.key_path.clone());
        Some(cert)
    } else {
        settings.tls_cert = None;
        settings.tls_key = None;
        None
    };
    settings.public_url = format!("{scheme}://{}", reachable(options.bind));
    settings.validate()?;
    let master_key = settings.require_master_key()?;

    let mut app = App::build(settings.clone())
        .await
        .context("cannot start Liaison")?;
    let public_url = format!("{scheme}://{}", reachable(app.local_addr()));
    settings.public_url = public_url.clone();
    app.state_mut().settings = Arc::new(settings.clone());

    let secrets = DemoSecrets::generate();
    let trust_pem = certificate.as_ref().map(|c| c.cert_pem.clone());
    let greenhouse_trust_pem = trust_pem.clone();
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let id_offset = fresh_id_offset();
    let suite = suite::spawn(
        loopback,
        SuiteSimConfig {
            client_id: seed::SUITE_CLIENT_ID.to_owned(),
            client_secret: secrecy::ExposeSecret::expose_secret(&secrets.suite_client_secret)
                .to_owned(),
            id_offset: u64::try_from(id_offset).unwrap_or_default(),
            trust_pem: trust_pem.clone(),
            ..SuiteSimConfig::default()
        },
    )
    .await?;
    let gupy = gupy::spawn(
        loopback,
        GupySimConfig {
            token: secrecy::ExposeSecret::expose_secret(&secrets.gupy_token).to_owned(),
            company_name: "Demo Corp".to_owned(),
            id_offset,
            trust_pem,
            embed: Some(EmbedTarget {
                liaison_url: public_url.clone(),
                tenant: seed::TENANT.to_owned(),
                launch_secret: secrets.launch_secret.clone(),
            }),
            ..GupySimConfig::default()
        },
    )
    .await?;

    let config = seed::tenant_config(&secrets, &gupy.url(), &suite.base_url())?;
    let state = app.state();
    let (_, subscriptions) = seed::seed(
        &state.db,
        &state.suite_clients,
        &state.settings.public_url,
        &master_key,
        &config,
    )
    .await?;

    let greenhouse = greenhouse::start(
        state,
        &master_key,
        loopback,
        secrecy::ExposeSecret::expose_secret(&secrets.suite_client_secret),
        u64::try_from(id_offset).unwrap_or_default(),
        greenhouse_trust_pem,
    )
    .await?;

    let background = state.background()?;
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    let background = tokio::spawn(runtime::run_background(background, shutdown.clone()));

    let mut http = reqwest::Client::builder().timeout(Duration::from_secs(10));
    if let Some(cert) = &certificate {
        http = http.add_root_certificate(
            reqwest::Certificate::from_pem(cert.cert_pem.as_bytes())
                .context("cannot read the demo certificate")?,
        );
    }
    Ok(RunningDemo {
        public_url,
        database_url: settings.database_url.clone(),
        admin_token: settings.admin_token.clone().unwrap_or_default(),
        admin_token_source,
        files,
        certificate: certificate.map(|c| c.cert_path),
        subscriptions,
        secrets,
        greenhouse,
        gupy,
        suite,
        http: http
            .build()
            .context("cannot build the demo's HTTP client")?,
        shutdown,
        server,
        served: None,
        background,
    })
}

impl RunningDemo {
    pub fn gupy_url(&self) -> String {
        self.gupy.url()
    }

    pub fn suite_url(&self) -> String {
        self.suite.base_url()
    }

    /// The Greenhouse simulator of the second tenant (`greenhouse::TENANT`).
    pub fn greenhouse_url(&self) -> String {
        self.greenhouse.greenhouse.url()
    }

    /// The suite simulator of the second tenant.
    pub fn greenhouse_suite(&self) -> &liaison_sim::suite::RunningSuiteSim {
        &self.greenhouse.suite
    }

    /// An HTTP client that trusts the demo's certificate (with `--tls`).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Plays the scenario, writing one progress line per step to `out`.
    pub async fn play(
        &self,
        out: &mut (dyn FnMut(&str) + Send),
    ) -> anyhow::Result<ScenarioOutcome> {
        let gupy_url = self.gupy_url();
        let suite_url = self.suite_url();
        let embed_url = |kind: &str, id: i64| {
            urls::launch_url(
                &self.public_url,
                &self.secrets.launch_secret,
                &urls::embed_path(kind, id),
            )
        };
        let scenario = Scenario {
            http: &self.http,
            gupy_url: &gupy_url,
            suite_url: &suite_url,
            interview_step: seed::INTERVIEW_STEP,
            pass_tag: seed::PASS_TAG,
            fail_tag: seed::FAIL_TAG,
            embed_url: &embed_url,
        };
        let mut progress = Progress {
            total: scenario::STEPS,
            out,
        };
        scenario.play(&mut progress).await
    }

    /// The URLs to open (launch links signed now).
    pub fn links(&self, outcome: Option<&ScenarioOutcome>) -> Vec<Link> {
        urls::links(
            &self.public_url,
            &self.secrets.launch_secret,
            &self.gupy_url(),
            &self.suite_url(),
            outcome,
        )
    }

    /// Resolves when the demo is asked to stop (Ctrl-C), or when Liaison's server ends.
    pub async fn stopped(&mut self) {
        if self.served.is_some() {
            return;
        }
        tokio::select! {
            () = self.shutdown.cancelled() => {}
            served = &mut self.server => {
                self.served = Some(served.unwrap_or_else(|e| Err(anyhow::anyhow!("Liaison's server panicked: {e}"))));
                self.shutdown.cancel();
            }
        }
    }

    /// Stops Liaison (letting in-flight work finish) and both simulators.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let served = match self.served {
            Some(served) => served,
            None => self.server.await.context("Liaison's server panicked")?,
        };
        served?;
        self.background.await.context("the workers panicked")??;
        self.gupy.stop().await?;
        self.suite.shutdown().await?;
        self.greenhouse.greenhouse.stop().await?;
        self.greenhouse.suite.shutdown().await?;
        Ok(())
    }
}
