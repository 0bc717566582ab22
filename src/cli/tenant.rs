//! `liaison tenant apply FILE` and `liaison tenant list`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

use super::{CliError, open_database};
use crate::config::Settings;
use crate::suite::{self, AuthorizationError};
use crate::tenant::{self, ApplyOutcome, TenantConfig};
use crate::time::to_rfc3339;

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create or update one tenant from a TOML file (idempotent).
    Apply { file: PathBuf },
    /// List tenants.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print the URL a suite admin opens to authorise Liaison (suite.auth = "authorization_code").
    AuthorizeSuite { tenant: String },
    /// Print the URL an admin of the tenant's ATS opens to authorise Liaison (for kinds that
    /// authorise by code, e.g. lever with ats.lever.auth = "authorization_code").
    AuthorizeAts { tenant: String },
    /// Register Liaison's webhook subscriptions at the tenant's ATS and suite (idempotent).
    Connect { slug: String },
    /// List Liaison's webhook subscriptions at the tenant's ATS.
    Subscriptions {
        slug: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove Liaison's webhook subscriptions at the tenant's ATS.
    Disconnect { slug: String },
    /// Issue the tenant a new key for an ATS that calls Liaison (Greenhouse Assessment), printed
    /// once; the previous key stops working.
    IssueKey { slug: String },
}

pub async fn run(settings: &Settings, command: TenantCommand) -> Result<(), CliError> {
    match command {
        TenantCommand::AuthorizeSuite { tenant } => authorize_suite(settings, &tenant).await,
        TenantCommand::AuthorizeAts { tenant } => authorize_ats(settings, &tenant).await,
        TenantCommand::Connect { slug } => super::tenant_connect::connect(settings, &slug).await,
        TenantCommand::Subscriptions { slug, json } => {
            super::tenant_connect::list(settings, &slug, json).await
        }
        TenantCommand::Disconnect { slug } => {
            super::tenant_connect::disconnect(settings, &slug).await
        }
        TenantCommand::IssueKey { slug } => issue_key(settings, &slug).await,
        TenantCommand::Apply { file } => {
            let key = settings.require_master_key()?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let mut config =
                TenantConfig::from_toml(&text).map_err(|e| CliError::usage(e.to_string()))?;
            let dir = file.parent().unwrap_or(std::path::Path::new("."));
            crate::script::load::attach_script(&mut config, dir).map_err(CliError::usage)?;
            let db = open_database(settings).await?;
            let (_, outcome) = tenant::apply(&db, &key, &config).await?;
            let verb = match outcome {
                ApplyOutcome::Created => "created",
                ApplyOutcome::Updated => "updated",
            };
            println!("tenant {} {verb}", config.slug);
            if let Some(source) = &config.ats.script_source {
                println!("script sha256 {}", crate::script::source_hash(source));
            }
            Ok(())
        }
        TenantCommand::List { json } => {
            let db = open_database(settings).await?;
            let tenants = tenant::list(&db).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&tenants).context("cannot print JSON")?
                );
            } else {
                for t in tenants {
                    println!(
                        "{}\t{}\t{}\t{}",
                        t.slug,
                        t.ats_kind,
                        t.name,
                        to_rfc3339(t.updated_at)
                    );
                }
            }
            Ok(())
        }
    }
}

async fn issue_key(settings: &Settings, slug: &str) -> Result<(), CliError> {
    let key = settings.require_master_key()?;
    let db = open_database(settings).await?;
    let tenant = tenant::find_ref(&db, slug)
        .await?
        .ok_or_else(|| CliError::not_found(format!("unknown tenant `{slug}`")))?;
    let issued = crate::orders::keys::issue(&db, &key, tenant.id)
        .await
        .context("cannot store the key")?;
    // The only time the key is shown: it is stored sealed.
    println!("{}", secrecy::ExposeSecret::expose_secret(&issued));
    Ok(())
}

async fn authorize_suite(settings: &Settings, slug: &str) -> Result<(), CliError> {
    let key = settings.require_master_key()?;
    let db = open_database(settings).await?;
    let tenant = tenant::find(&db, &key, slug)
        .await?
        .ok_or_else(|| CliError::not_found(format!("unknown tenant `{slug}`")))?;
    let http = suite::build_http_client(&settings.suite_client)
        .map_err(|e| CliError::from(anyhow::Error::new(e)))?;
    let url = suite::start_authorization(&db, &key, &tenant, &settings.public_url, http)
        .await
        .map_err(|error| match error {
            AuthorizationError::NotAuthorizationCode(_) => CliError::usage(error.to_string()),
            other => CliError::from(anyhow::Error::new(other)),
        })?;
    println!("{url}");
    Ok(())
}

async fn authorize_ats(settings: &Settings, slug: &str) -> Result<(), CliError> {
    let key = settings.require_master_key()?;
    let db = open_database(settings).await?;
    let tenant = tenant::find(&db, &key, slug)
        .await?
        .ok_or_else(|| CliError::not_found(format!("unknown tenant `{slug}`")))?;
    let http = crate::ats::http_client::shared_client();
    let url = crate::ats::authorization::start(&db, &key, &tenant, &settings.public_url, http)
        .await
        .map_err(|error| match error {
            AuthorizationError::NotAuthorizationCode(_) => CliError::usage(error.to_string()),
            other => CliError::from(anyhow::Error::new(other)),
        })?;
    println!("{url}");
    Ok(())
}
