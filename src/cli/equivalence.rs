//! `liaison equivalence list|get|put|delete`.

use anyhow::Context as _;
use clap::{ArgGroup, Args, Subcommand};
use serde_json::json;

use super::{CliError, open_database};
use crate::config::Settings;
use crate::equivalence::{
    self, EntityKind, Equivalence, EquivalenceError, LinkOutcome, ListFilter,
};
use crate::ids::TenantId;
use crate::tenant;
use crate::time::to_rfc3339;

#[derive(Debug, Subcommand)]
pub enum EquivalenceCommand {
    /// List a tenant's equivalences, one per line.
    List {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        kind: Option<EntityKind>,
        #[arg(long)]
        json: bool,
    },
    /// Show one equivalence, by ATS id or by suite id.
    #[command(group(ArgGroup::new("id").required(true).args(["ats_id", "suite_id"])))]
    Get {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        kind: EntityKind,
        #[arg(long)]
        ats_id: Option<String>,
        #[arg(long)]
        suite_id: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Bind an ATS id to a suite id; refuses an id already bound to another.
    Put {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        kind: EntityKind,
        #[arg(long)]
        ats_id: String,
        #[arg(long)]
        suite_id: String,
    },
    /// Remove the binding of an ATS id.
    Delete {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        kind: EntityKind,
        #[arg(long)]
        ats_id: String,
    },
}

#[derive(Debug, Args)]
pub struct TenantArg {
    /// The tenant's slug.
    #[arg(long = "tenant")]
    slug: String,
}

fn line(row: &Equivalence) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}",
        row.kind,
        row.ats_id,
        row.suite_id,
        to_rfc3339(row.created_at),
        to_rfc3339(row.synced_at)
    )
}

fn to_json(row: &Equivalence) -> serde_json::Value {
    json!({
        "kind": row.kind,
        "ats_id": row.ats_id,
        "suite_id": row.suite_id,
        "created_at": to_rfc3339(row.created_at),
        "synced_at": to_rfc3339(row.synced_at),
    })
}

async fn tenant_id(
    db: &sea_orm::DatabaseConnection,
    arg: &TenantArg,
) -> Result<TenantId, CliError> {
    tenant::find_ref(db, &arg.slug)
        .await?
        .map(|t| t.id)
        .ok_or_else(|| CliError::not_found(format!("unknown tenant `{}`", arg.slug)))
}

pub async fn run(settings: &Settings, command: EquivalenceCommand) -> Result<(), CliError> {
    let db = open_database(settings).await?;
    match command {
        EquivalenceCommand::List { tenant, kind, json } => {
            let tenant = tenant_id(&db, &tenant).await?;
            let filter = ListFilter {
                kind,
                ..Default::default()
            };
            let mut cursor = None;
            let mut rows = Vec::new();
            loop {
                let page = equivalence::list(&db, tenant, &filter, 1_000, cursor).await?;
                rows.extend(page.data);
                match page.next_cursor.and_then(|c| c.parse().ok()) {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            if json {
                let rows: Vec<_> = rows.iter().map(to_json).collect();
                println!(
                    "{}",
                    serde_json::to_string(&rows).context("cannot print JSON")?
                );
            } else {
                rows.iter().for_each(|row| println!("{}", line(row)));
            }
            Ok(())
        }
        EquivalenceCommand::Get {
            tenant,
            kind,
            ats_id,
            suite_id,
            json,
        } => {
            let tenant = tenant_id(&db, &tenant).await?;
            let row = match (&ats_id, &suite_id) {
                (Some(ats_id), _) => equivalence::lookup_by_ats(&db, tenant, kind, ats_id).await?,
                (None, Some(suite_id)) => {
                    equivalence::lookup_by_suite(&db, tenant, kind, suite_id).await?
                }
                (None, None) => return Err(CliError::usage("give --ats-id or --suite-id")),
            };
            let row =
                row.ok_or_else(|| CliError::not_found(format!("no such {kind} equivalence")))?;
            if json {
                println!("{}", to_json(&row));
            } else {
                println!("{}", line(&row));
            }
            Ok(())
        }
        EquivalenceCommand::Put {
            tenant,
            kind,
            ats_id,
            suite_id,
        } => {
            let tenant = tenant_id(&db, &tenant).await?;
            match equivalence::link(&db, tenant, kind, &ats_id, &suite_id).await {
                Ok(LinkOutcome::Created) => println!("linked {kind} {ats_id} -> {suite_id}"),
                Ok(LinkOutcome::AlreadyLinked) => {
                    println!("already linked {kind} {ats_id} -> {suite_id}")
                }
                Err(
                    error @ (EquivalenceError::AtsIdTaken { .. }
                    | EquivalenceError::SuiteIdTaken { .. }),
                ) => {
                    return Err(CliError::conflict(error.to_string()));
                }
                Err(EquivalenceError::InvalidId) => {
                    return Err(CliError::usage(EquivalenceError::InvalidId.to_string()));
                }
                Err(EquivalenceError::Db(error)) => return Err(error.into()),
            }
            Ok(())
        }
        EquivalenceCommand::Delete {
            tenant,
            kind,
            ats_id,
        } => {
            let tenant = tenant_id(&db, &tenant).await?;
            match equivalence::unlink(&db, tenant, kind, &ats_id).await? {
                Some(row) => println!("deleted {kind} {ats_id} -> {}", row.suite_id),
                None => {
                    return Err(CliError::not_found(format!(
                        "no {kind} equivalence for `{ats_id}`"
                    )));
                }
            }
            Ok(())
        }
    }
}
