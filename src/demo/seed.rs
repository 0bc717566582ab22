//! The demo tenant: generated secrets, the simulators' URLs, and Liaison's webhook
//! subscriptions at both partners (what `liaison tenant connect` does). Applied on every run,
//! so it is idempotent: the tenant is updated to this run's simulators and secrets.

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret as _, SecretString};

use super::files::random_secret;
use crate::ats::adapter_for;
use crate::crypto::MasterKey;
use crate::suite::SuiteClients;
use crate::suite::subscription::ensure_suite_subscription;
use crate::tenant::{self, Tenant, TenantConfig};

pub const TENANT: &str = "demo";
pub const INTERVIEW_STEP: &str = "Video interview";
pub const PASS_TAG: &str = "Apto";
pub const FAIL_TAG: &str = "Inapto";
/// The suite simulator's OAuth client id (its secret is generated).
pub const SUITE_CLIENT_ID: &str = "liaison-demo";

/// The secrets of one run, shared between the tenant and the simulators.
pub struct DemoSecrets {
    pub gupy_token: SecretString,
    pub gupy_webhook_secret: SecretString,
    pub suite_client_secret: SecretString,
    pub launch_secret: SecretString,
}

impl DemoSecrets {
    pub fn generate() -> Self {
        let secret = || SecretString::from(random_secret(32));
        Self {
            gupy_token: secret(),
            gupy_webhook_secret: secret(),
            suite_client_secret: secret(),
            launch_secret: secret(),
        }
    }
}

/// The demo tenant's file, pointing at this run's simulators. The ATS simulator's origin may
/// frame the pages (its requisition page embeds them).
pub fn tenant_config(
    secrets: &DemoSecrets,
    gupy_url: &str,
    suite_url: &str,
) -> anyhow::Result<TenantConfig> {
    // Every interpolated value is a URL of ours or an alphanumeric secret: no TOML escaping.
    let text = format!(
        r#"
slug = "{TENANT}"
name = "Demo Corp"

[ats]
kind = "gupy"
base_url = "{gupy_url}"
token = "{gupy_token}"
webhook_secret = "{gupy_webhook_secret}"
interview_step = "{INTERVIEW_STEP}"

[suite]
base_url = "{suite_url}"
app_url = "{suite_url}"
auth = "client_credentials"
client_id = "{SUITE_CLIENT_ID}"
client_secret = "{suite_client_secret}"

[writeback]
mode = "both"
pass_tag = "{PASS_TAG}"
fail_tag = "{FAIL_TAG}"
pass_score = 70

[embed]
launch_secret = "{launch_secret}"
frame_ancestors = ["{gupy_url}"]
"#,
        gupy_token = secrets.gupy_token.expose_secret(),
        gupy_webhook_secret = secrets.gupy_webhook_secret.expose_secret(),
        suite_client_secret = secrets.suite_client_secret.expose_secret(),
        launch_secret = secrets.launch_secret.expose_secret(),
    );
    TenantConfig::from_toml(&text).context("the demo tenant is invalid")
}

/// Applies the tenant and registers Liaison's subscriptions at both simulators. Answers the
/// tenant as stored (with the suite's signing secret) and how many subscriptions exist.
pub async fn seed(
    db: &DatabaseConnection,
    suite_clients: &SuiteClients,
    public_url: &str,
    master_key: &MasterKey,
    config: &TenantConfig,
) -> anyhow::Result<(Tenant, usize)> {
    tenant::apply(db, master_key, config)
        .await
        .context("cannot store the demo tenant")?;
    let tenant = find(db, master_key).await?;
    let adapter = adapter_for(tenant.config.ats.kind);
    let subscriptions = adapter
        .subscriptions(&tenant)
        .context("cannot reach the ATS")?;
    let report = subscriptions
        .ensure(public_url)
        .await
        .context("cannot register the webhooks at the Gupy simulator")?;
    ensure_suite_subscription(db, master_key, suite_clients, &tenant, public_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot register the webhook at the suite simulator: {e}"))?;
    let tenant = find(db, master_key).await?;
    Ok((tenant, report.created.len() + report.existing.len() + 1))
}

async fn find(db: &DatabaseConnection, master_key: &MasterKey) -> anyhow::Result<Tenant> {
    tenant::find(db, master_key, TENANT)
        .await?
        .context("the demo tenant vanished")
}
