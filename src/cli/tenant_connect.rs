//! `liaison tenant connect T` (register Liaison's webhook subscriptions at the tenant's ATS and
//! suite; idempotent), `tenant subscriptions T` (list them) and `tenant disconnect T` (remove
//! them at the ATS).

use anyhow::Context as _;

use super::{CliError, open_database};
use crate::ats::{AtsAdapter, Delivery, Subscriptions, adapter_for};
use crate::config::Settings;
use crate::suite::SuiteClients;
use crate::suite::subscription::{SuiteSubscription, ensure_suite_subscription};
use crate::tenant::{self, Tenant};

async fn open_tenant(settings: &Settings, slug: &str) -> Result<Tenant, CliError> {
    let key = settings.require_master_key()?;
    let db = open_database(settings).await?;
    tenant::find(&db, &key, slug)
        .await?
        .ok_or_else(|| CliError::not_found(format!("no tenant `{slug}`")))
}

/// The tenant's subscriptions at its ATS (a kind with a subscription API).
fn subscriptions<'a>(
    adapter: &'a dyn AtsAdapter,
    tenant: &'a Tenant,
) -> Result<Box<dyn Subscriptions + 'a>, CliError> {
    adapter
        .subscriptions(tenant)
        .map_err(|e| CliError::usage(e.to_string()))
}

pub async fn connect(settings: &Settings, slug: &str) -> Result<(), CliError> {
    let tenant = open_tenant(settings, slug).await?;
    let public_url = &settings.public_url;
    let adapter = adapter_for(tenant.config.ats.kind);
    let kind = tenant.config.ats.kind.as_str();
    match adapter.delivery() {
        Delivery::Subscribed => {
            let report = subscriptions(adapter.as_ref(), &tenant)?
                .ensure(public_url)
                .await
                .with_context(|| {
                    format!(
                        "cannot register the {} webhook subscriptions",
                        adapter.name()
                    )
                })?;
            for created in &report.created {
                println!("ats: registered {} ({})", created.events, created.id);
            }
            for existing in &report.existing {
                println!(
                    "ats: already registered {} ({})",
                    existing.events, existing.id
                );
            }
        }
        Delivery::ConfiguredAtTheAts => println!(
            "ats: {kind} pushes to {}/webhooks/{slug}/ats; configure it at the ATS",
            public_url.trim_end_matches('/')
        ),
        Delivery::Polled => println!("ats: {kind} is polled; nothing to register"),
        Delivery::PartnerApi { routes } => println!(
            "ats: {kind} calls {}{routes}/... with the key `liaison tenant issue-key {slug}` \
             prints; nothing to register",
            public_url.trim_end_matches('/')
        ),
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
    let adapter = adapter_for(tenant.config.ats.kind);
    let kind = tenant.config.ats.kind.as_str();
    if adapter.delivery() != Delivery::Subscribed {
        return Err(CliError::usage(format!(
            "tenant `{slug}` is {kind}: it has no subscriptions to list"
        )));
    }
    let found = subscriptions(adapter.as_ref(), &tenant)?
        .list(&settings.public_url)
        .await
        .with_context(|| format!("cannot list the {} webhook subscriptions", adapter.name()))?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&found).context("cannot print JSON")?
        );
    } else {
        for s in found {
            println!("{}\t{}\t{}\t{}", s.id, s.events, s.status, s.postback_url);
        }
    }
    Ok(())
}

pub async fn disconnect(settings: &Settings, slug: &str) -> Result<(), CliError> {
    let tenant = open_tenant(settings, slug).await?;
    let adapter = adapter_for(tenant.config.ats.kind);
    let kind = tenant.config.ats.kind.as_str();
    if adapter.delivery() != Delivery::Subscribed {
        println!("ats: nothing registered for a {kind} tenant");
        return Ok(());
    }
    let removed = subscriptions(adapter.as_ref(), &tenant)?
        .remove(&settings.public_url)
        .await
        .with_context(|| format!("cannot remove the {} webhook subscriptions", adapter.name()))?;
    println!("ats: removed {removed} subscriptions");
    Ok(())
}
