//! Tenants in the store. Secrets are sealed with the master key as one JSON map, bound to the
//! tenant's slug, so that a dump of the database carries none of them in clear.

use std::collections::BTreeMap;

use anyhow::Context as _;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::file::TenantConfig;
use crate::crypto::MasterKey;
use crate::ids::TenantId;
use crate::store::entities::tenant;
use crate::time::now_ms;

/// A tenant with its configuration and secrets opened: what flows and pages work with.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: TenantId,
    pub config: TenantConfig,
}

impl Tenant {
    pub fn slug(&self) -> &str {
        &self.config.slug
    }
}

/// Just enough of a tenant to scope a query: no secrets opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantRef {
    pub id: TenantId,
    pub slug: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TenantSummary {
    pub slug: String,
    pub name: String,
    pub ats_kind: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyOutcome {
    Created,
    Updated,
}

/// The associated data of a tenant's sealed secrets (master-key rotation re-seals under it).
pub(crate) fn seal_context(slug: &str) -> String {
    format!("tenant:{slug}")
}

/// The secret fields of a tenant file, by their key in the file.
fn secret_fields(config: &TenantConfig) -> BTreeMap<&'static str, String> {
    let fields: [(&'static str, &Option<SecretString>); 8] = [
        ("ats.token", &config.ats.token),
        ("ats.lever.client_secret", &config.ats.lever.client_secret),
        ("ats.webhook_secret", &config.ats.webhook_secret),
        ("ats.feed_header", &config.ats.feed_header),
        ("suite.client_secret", &config.suite.client_secret),
        ("suite.webhook_secret", &config.suite.webhook_secret),
        ("embed.launch_secret", &config.embed.launch_secret),
        ("sso.client_secret", &config.sso.client_secret),
    ];
    fields
        .into_iter()
        .filter_map(|(key, value)| value.as_ref().map(|v| (key, v.expose_secret().to_owned())))
        .collect()
}

fn restore_secrets(config: &mut TenantConfig, mut secrets: BTreeMap<String, String>) {
    let mut take = |key: &str| secrets.remove(key).map(SecretString::from);
    config.ats.token = take("ats.token");
    config.ats.webhook_secret = take("ats.webhook_secret");
    config.ats.feed_header = take("ats.feed_header");
    config.ats.lever.client_secret = take("ats.lever.client_secret");
    config.suite.client_secret = take("suite.client_secret");
    config.suite.webhook_secret = take("suite.webhook_secret");
    config.embed.launch_secret = take("embed.launch_secret");
    config.sso.client_secret = take("sso.client_secret");
}

/// Creates or updates the tenant named by the file's slug. Idempotent.
pub async fn apply(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    config: &TenantConfig,
) -> anyhow::Result<(TenantId, ApplyOutcome)> {
    let settings = serde_json::to_string(config).context("cannot serialise tenant settings")?;
    let secrets = serde_json::to_vec(&secret_fields(config)).context("cannot serialise secrets")?;
    let sealed = key.seal(&secrets, &seal_context(&config.slug));
    let now = now_ms();

    let existing = tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(&config.slug))
        .one(db)
        .await?;
    if let Some(row) = existing {
        let id = row.id;
        let mut active: tenant::ActiveModel = row.into();
        active.name = Set(config.name.clone());
        active.ats_kind = Set(config.ats.kind.as_str().to_owned());
        active.settings = Set(settings);
        active.sealed_secrets = Set(sealed);
        active.updated_at = Set(now);
        active.update(db).await?;
        return Ok((TenantId(id), ApplyOutcome::Updated));
    }
    let row = tenant::ActiveModel {
        slug: Set(config.slug.clone()),
        name: Set(config.name.clone()),
        ats_kind: Set(config.ats.kind.as_str().to_owned()),
        settings: Set(settings),
        sealed_secrets: Set(sealed),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .with_context(|| format!("cannot create tenant `{}`", config.slug))?;
    Ok((TenantId(row.id), ApplyOutcome::Created))
}

pub async fn list(db: &impl ConnectionTrait) -> anyhow::Result<Vec<TenantSummary>> {
    let rows = tenant::Entity::find()
        .order_by_asc(tenant::Column::Slug)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| TenantSummary {
            slug: row.slug,
            name: row.name,
            ats_kind: row.ats_kind,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
        .collect())
}

/// The ids of the tenants of one ATS kind.
pub async fn ids_of_kind(
    db: &impl ConnectionTrait,
    kind: super::AtsKind,
) -> Result<Vec<TenantId>, sea_orm::DbErr> {
    let ids: Vec<i64> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .filter(tenant::Column::AtsKind.eq(kind.as_str()))
        .order_by_asc(tenant::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().map(TenantId).collect())
}

/// Tenant slugs by id (a small table, read whole), to name the tenants of listed rows.
pub async fn slugs_by_id(
    db: &impl ConnectionTrait,
) -> Result<std::collections::HashMap<i64, String>, sea_orm::DbErr> {
    let rows: Vec<(i64, String)> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .column(tenant::Column::Slug)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The tenant's id for scoping queries, without opening its secrets.
pub async fn find_ref(db: &impl ConnectionTrait, slug: &str) -> anyhow::Result<Option<TenantRef>> {
    let row = tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug))
        .one(db)
        .await?;
    Ok(row.map(|row| TenantRef {
        id: TenantId(row.id),
        slug: row.slug,
    }))
}

/// The tenant with its configuration and opened secrets.
pub async fn find(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    slug: &str,
) -> anyhow::Result<Option<Tenant>> {
    let Some(row) = tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    open(key, &row).map(Some)
}

/// A stored tenant row with its configuration parsed and its secrets opened.
pub fn open(key: &MasterKey, row: &tenant::Model) -> anyhow::Result<Tenant> {
    let slug = &row.slug;
    let mut config: TenantConfig = serde_json::from_str(&row.settings)
        .with_context(|| format!("stored settings of tenant `{slug}` do not parse"))?;
    let secrets = key
        .open(&row.sealed_secrets, &seal_context(&row.slug))
        .with_context(|| format!("cannot open the secrets of tenant `{slug}`"))?;
    let secrets: BTreeMap<String, String> =
        serde_json::from_slice(&secrets).context("sealed secrets do not parse")?;
    restore_secrets(&mut config, secrets);
    Ok(Tenant {
        id: TenantId(row.id),
        config,
    })
}
