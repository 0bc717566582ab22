//! `liaison tenant connect T` (register Liaison's webhook subscriptions at the tenant's ATS and
//! suite; idempotent), `tenant subscriptions T` (list them) and `tenant disconnect T` (remove
//! them at the ATS).

use anyhow::Context as _;

use super::{CliError, open_database};
use crate::ats::gupy::{GupyClient, subscriptions};
use crate::ats::http_client::shared_client;
use crate::config::Settings;
use crate::suite::SuiteClients;
use crate::suite::subscription::{SuiteSubscription, ensure_suite_subscription};
use crate::tenant::{self, AtsKind, Tenant};

async fn open_tenant(settings: &Settings, slug: &str) -> Result<Tenant, CliError> {
    let key = settings.require_master_key()?;
    let db = open_database(settings).await?;
    tenant::find(&db, &key, slug)
        .await?
        .ok_or_else(|| CliError::not_found(format!("no tenant `{slug}`")))
}

fn gupy_client(tenant: &Tenant) -> Result<GupyClient, CliError> {
    GupyClient::for_tenant(shared_client(), tenant).map_err(|e| CliError::usage(e.to_string()))
}

pub async fn connect(settings: &Settings, slug: &str) -> Result<(), CliError> {
    let tenant = open_tenant(settings, slug).await?;
    let public_url = &settings.public_url;
    match tenant.config.ats.kind {
        AtsKind::Gupy => {
            let client = gupy_client(&tenant)?;
            let report = subscriptions::ensure_subscriptions(&client, &tenant, public_url)
                .await
                .context("cannot register the Gupy webhook subscriptions")?;
            for created in &report.created {
                println!(
                    "ats: registered {} ({})",
                    created.action.as_str(),
                    created.id
                );
            }
            for existing in &report.existing {
                println!(
                    "ats: already registered {} ({})",
                    existing.action.as_str(),
                    existing.id
                );
            }
        }
        AtsKind::SignedJson => println!(
            "ats: signed-json pushes to {}/webhooks/{slug}/ats; configure it at the ATS",
            public_url.trim_end_matches('/')
        ),
        AtsKind::XmlFeed => println!("ats: xml-feed is polled; nothing to register"),
    }
    connect_suite(settings, &tenant).await
}

/// The suite half of `tenant connect`: subscribe Liaison to every suite event and keep the
/// signing secret (sealed) as the tenant's `suite.webhook_secret`.
async fn connect_suite(settings: &Settings, tenant: &Tenant) -> Result<(), CliError> {
    let key = settings.require_master_key()?;
    let db = open_database(settings).await?;
    let clients = SuiteClients::new(settings, db.clone(), Some(key.clone()))
        .map_err(|e| CliError::usage(e.to_string()))?;
    let outcome = ensure_suite_subscription(&db, &key, &clients, tenant, &settings.public_url)
        .await
        .map_err(|e| CliError::from(anyhow::anyhow!("cannot subscribe at the suite: {e}")))?;
    match outcome {
        SuiteSubscription::Registered { id } => println!("suite: registered all events ({id})"),
        SuiteSubscription::AlreadyRegistered { id } => println!("suite: already registered ({id})"),
    }
    Ok(())
}

pub async fn list(settings: &Settings, slug: &str, json: bool) -> Result<(), CliError> {
    let tenant = open_tenant(settings, slug).await?;
    if tenant.config.ats.kind != AtsKind::Gupy {
        return Err(CliError::usage(format!(
            "tenant `{slug}` is {}: it has no subscriptions to list",
            tenant.config.ats.kind.as_str()
        )));
    }
    let found =
        subscriptions::list_subscriptions(&gupy_client(&tenant)?, &tenant, &settings.public_url)
            .await
            .context("cannot list the Gupy webhook subscriptions")?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&found).context("cannot print JSON")?
        );
    } else {
        for s in found {
            println!(
                "{}\t{}\t{}\t{}",
                s.id,
                s.action.as_str(),
                s.status,
                s.postback_url
            );
        }
    }
    Ok(())
}

pub async fn disconnect(settings: &Settings, slug: &str) -> Result<(), CliError> {
    let tenant = open_tenant(settings, slug).await?;
    if tenant.config.ats.kind != AtsKind::Gupy {
        println!(
            "ats: nothing registered for a {} tenant",
            tenant.config.ats.kind.as_str()
        );
        return Ok(());
    }
    let removed =
        subscriptions::remove_subscriptions(&gupy_client(&tenant)?, &tenant, &settings.public_url)
            .await
            .context("cannot remove the Gupy webhook subscriptions")?;
    println!("ats: removed {removed} subscriptions");
    Ok(())
}
