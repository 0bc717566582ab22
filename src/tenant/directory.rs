//! The tenant directory: tenants opened (settings parsed, secrets decrypted) once per process,
//! shared by the webhook path, the embed pages, the flows and the scheduler.
//!
//! Two ways in, for two needs:
//! - [`Directory::by_slug`] (the webhook path, the pages): answers from memory for `SLUG_TTL`,
//!   unknown slugs included, so a flood of requests costs no query; a `tenant apply` is seen
//!   within that delay.
//! - [`Directory::by_id`], [`Directory::by_ids`], [`Directory::all`] (jobs, the scheduler): read
//!   the stored rows now, so a `tenant apply` takes effect at once, but open a tenant again only
//!   when its row changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::{Tenant, is_valid_slug, open};
use crate::crypto::MasterKey;
use crate::ids::TenantId;
use crate::store::entities::tenant as tenant_row;

/// How long a tenant found by slug (or found missing) is answered from memory.
pub const SLUG_TTL: Duration = Duration::from_secs(5);
/// Beyond this many remembered slugs (unknown ones included), the memory starts over.
const MAX_SLUGS: usize = 10_000;

/// When a slug was read, and its tenant (None: no tenant has that slug).
type BySlug = HashMap<String, (Instant, Option<Arc<Tenant>>)>;
/// Opened tenants by id, with the stored row each was opened from.
type Opened = HashMap<i64, (tenant_row::Model, Arc<Tenant>)>;

/// The process's opened tenants. Built only with the master key that opens them; cheap to clone.
#[derive(Clone)]
pub struct Directory {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    key: MasterKey,
    by_slug: Mutex<BySlug>,
    opened: Mutex<Opened>,
}

impl Directory {
    pub fn new(db: DatabaseConnection, key: MasterKey) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                key,
                by_slug: Mutex::default(),
                opened: Mutex::default(),
            }),
        }
    }

    /// The master key the directory opens tenants with (for other sealed values of a tenant).
    pub fn master_key(&self) -> &MasterKey {
        &self.inner.key
    }

    /// The tenant named `slug` (None: no such tenant), as read at most `SLUG_TTL` ago.
    pub async fn by_slug(&self, slug: &str) -> anyhow::Result<Option<Arc<Tenant>>> {
        if let Some((at, tenant)) = lock(&self.inner.by_slug).get(slug)
            && at.elapsed() < SLUG_TTL
        {
            return Ok(tenant.clone());
        }
        // Slugs outside the tenant alphabet cannot exist: no query for them.
        let found = if is_valid_slug(slug) {
            let row = tenant_row::Entity::find()
                .filter(tenant_row::Column::Slug.eq(slug))
                .one(&self.inner.db)
                .await?;
            row.map(|row| self.open_row(row)).transpose()?
        } else {
            None
        };
        let mut by_slug = lock(&self.inner.by_slug);
        if by_slug.len() >= MAX_SLUGS {
            by_slug.clear();
        }
        by_slug.insert(slug.to_owned(), (Instant::now(), found.clone()));
        Ok(found)
    }

    /// The tenant named `slug` as stored now (the console and the admin API, which must show
    /// what was just applied).
    pub async fn by_slug_now(&self, slug: &str) -> anyhow::Result<Option<Arc<Tenant>>> {
        let row = tenant_row::Entity::find()
            .filter(tenant_row::Column::Slug.eq(slug))
            .one(&self.inner.db)
            .await?;
        row.map(|row| self.open_row(row)).transpose()
    }

    /// The tenant `id` as stored now (None: it is gone).
    pub async fn by_id(&self, id: TenantId) -> anyhow::Result<Option<Arc<Tenant>>> {
        let row = tenant_row::Entity::find_by_id(id.0)
            .one(&self.inner.db)
            .await?;
        row.map(|row| self.open_row(row)).transpose()
    }

    /// The tenants `ids` as stored now, in one query. A tenant that is gone or does not open is
    /// left out (its caller finds out why with [`Directory::by_id`]).
    pub async fn by_ids(
        &self,
        ids: &[TenantId],
    ) -> Result<HashMap<TenantId, Arc<Tenant>>, sea_orm::DbErr> {
        let rows = tenant_row::Entity::find()
            .filter(tenant_row::Column::Id.is_in(ids.iter().map(|id| id.0)))
            .all(&self.inner.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let id = TenantId(row.id);
                self.open_row(row).ok().map(|tenant| (id, tenant))
            })
            .collect())
    }

    /// Every tenant as stored now, by slug, each opened or the reason it does not open.
    pub async fn all(&self) -> Result<Vec<(String, anyhow::Result<Arc<Tenant>>)>, sea_orm::DbErr> {
        let rows = tenant_row::Entity::find()
            .order_by_asc(tenant_row::Column::Slug)
            .all(&self.inner.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.slug.clone(), self.open_row(row)))
            .collect())
    }

    /// `row` opened, or the tenant opened from that same row before.
    fn open_row(&self, row: tenant_row::Model) -> anyhow::Result<Arc<Tenant>> {
        if let Some((seen, tenant)) = lock(&self.inner.opened).get(&row.id)
            && *seen == row
        {
            return Ok(tenant.clone());
        }
        let tenant = Arc::new(open(&self.inner.key, &row)?);
        lock(&self.inner.opened).insert(row.id, (row, tenant.clone()));
        Ok(tenant)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
