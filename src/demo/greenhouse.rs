//! The demo's second tenant, `demo-greenhouse`: a Greenhouse Assessment customer on the
//! Greenhouse simulator, with its own suite simulator (so neither tenant sees the other's
//! suite events). Liaison issues it a key; the simulator holds it, as Greenhouse would.

use std::net::SocketAddr;

use anyhow::Context as _;
use liaison_sim::greenhouse::{self, GreenhouseSimConfig, RunningGreenhouseSim};
use liaison_sim::suite::{self, RunningSuiteSim, SuiteSimConfig};
use secrecy::ExposeSecret as _;

use crate::app::AppState;
use crate::crypto::MasterKey;
use crate::suite::subscription::ensure_suite_subscription;
use crate::tenant::{self, TenantConfig};

pub const TENANT: &str = "demo-greenhouse";

/// The Greenhouse simulator and the tenant's suite simulator, serving.
pub struct GreenhouseDemo {
    pub greenhouse: RunningGreenhouseSim,
    pub suite: RunningSuiteSim,
}

/// Starts both simulators, applies the tenant, issues its key and registers the suite webhook.
/// With `--tls`, both trust the demo's certificate (`trust_pem`): they call Liaison over HTTPS.
pub async fn start(
    state: &AppState,
    master_key: &MasterKey,
    loopback: SocketAddr,
    client_secret: &str,
    id_offset: u64,
    trust_pem: Option<String>,
) -> anyhow::Result<GreenhouseDemo> {
    let suite = suite::spawn(
        loopback,
        SuiteSimConfig {
            client_id: super::seed::SUITE_CLIENT_ID.to_owned(),
            client_secret: client_secret.to_owned(),
            id_offset,
            trust_pem: trust_pem.clone(),
            ..SuiteSimConfig::default()
        },
    )
    .await?;
    let text = format!(
        r#"
slug = "{TENANT}"
name = "Demo Corp (Greenhouse)"

[ats]
kind = "greenhouse-assessment"

[suite]
base_url = "{suite_url}"
app_url = "{suite_url}"
client_id = "{client_id}"
client_secret = "{client_secret}"
"#,
        suite_url = suite.base_url(),
        client_id = super::seed::SUITE_CLIENT_ID,
    );
    let config = TenantConfig::from_toml(&text).context("the Greenhouse demo tenant is invalid")?;
    let db = &state.db;
    tenant::apply(db, master_key, &config)
        .await
        .context("cannot store the Greenhouse demo tenant")?;
    let stored = tenant::find(db, master_key, TENANT)
        .await?
        .context("the Greenhouse demo tenant vanished")?;
    let key = crate::orders::keys::issue(db, master_key, stored.id)
        .await
        .context("cannot issue the Greenhouse demo key")?;
    let public_url = &state.settings.public_url;
    ensure_suite_subscription(db, master_key, &state.suite_clients, &stored, public_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot register the webhook at the suite simulator: {e}"))?;
    let greenhouse = greenhouse::spawn(
        loopback,
        GreenhouseSimConfig {
            partner_base_url: format!("{public_url}/partners/greenhouse"),
            key: key.expose_secret().to_owned(),
            own_url: String::new(),
            trust_pem,
        },
    )
    .await?;
    Ok(GreenhouseDemo { greenhouse, suite })
}
