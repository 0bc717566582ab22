//! A tenant as the console shows it: its connections (no secrets), where partners deliver to,
//! its pollers' cursors and schedule leases, its event and job counts; and, on request, the
//! webhook subscriptions as the ATS and the suite list them now.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::app::AppState;
use crate::ats::{AtsSubscription, Delivery, adapter_for, webhook_url as ats_webhook_url};
use crate::ids::TenantId;
use crate::store::entities::{lease, sync_state};
use crate::suite::PageRequest;
use crate::suite::subscription::webhook_url;
use crate::sync::events_log::{self, EventSummary};
use crate::tenant::Tenant;
use crate::time::{now_ms, to_rfc3339};

#[derive(Clone, Debug, Serialize)]
pub struct Cursor {
    pub source: String,
    pub cursor: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LeaseView {
    /// `poll`, `subscription_check`, ...: the task it schedules.
    pub name: String,
    pub owner: Option<String>,
    /// When the task is next due (the lease's expiry).
    pub expires_at: String,
    pub active: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Count {
    pub status: String,
    pub count: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct TenantOverview {
    pub slug: String,
    pub name: String,
    pub ats_kind: String,
    pub ats_base_url: Option<String>,
    pub suite_base_url: String,
    pub suite_app_url: String,
    pub suite_auth: String,
    pub sso: String,
    pub poll_interval_s: Option<u64>,
    /// Where the ATS delivers (None for kinds that are polled).
    pub ats_webhook_url: Option<String>,
    pub suite_webhook_url: String,
    /// Whether Liaison holds the suite subscription's signing secret (`tenant connect` stores it).
    pub suite_webhook_secret_held: bool,
    pub poll_cursors: Vec<Cursor>,
    /// `cursor:*` values of the sync engine's state.
    pub sync_cursors: Vec<Cursor>,
    pub leases: Vec<LeaseView>,
    /// xml-feed: jobs in the last committed feed snapshot.
    pub feed_snapshot_jobs: Option<i64>,
    pub events_by_status: Vec<Count>,
    pub jobs_by_status: Vec<Count>,
    pub last_events: Vec<EventSummary>,
    /// Connection health: for each side, the last successful call, the last failure and the
    /// last event received (ms since the epoch).
    pub health: crate::health::TenantHealth,
    /// The same, as rows for the page.
    #[serde(skip)]
    pub health_rows: Vec<HealthRow>,
}

pub async fn overview(state: &AppState, tenant: &Tenant) -> Result<TenantOverview, DbErr> {
    let db = &state.db;
    let config = &tenant.config;
    let public_url = &state.settings.public_url;
    let adapter = adapter_for(config.ats.kind);
    let ats_webhook_url = adapter
        .delivery()
        .pushes()
        .then(|| ats_webhook_url(public_url, tenant.slug()));
    let now = now_ms();
    let leases = lease::Entity::find()
        .filter(lease::Column::TenantId.eq(tenant.id.0))
        .order_by_asc(lease::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|l| LeaseView {
            name: l.name,
            owner: l.owner,
            expires_at: to_rfc3339(l.expires_at),
            active: l.expires_at > now,
        })
        .collect();
    let sync_cursors = sync_state::Entity::find()
        .filter(sync_state::Column::TenantId.eq(tenant.id.0))
        .filter(sync_state::Column::Key.starts_with("cursor:"))
        .order_by_asc(sync_state::Column::Key)
        .all(db)
        .await?
        .into_iter()
        .map(|s| Cursor {
            source: s.key,
            cursor: s.value,
            updated_at: to_rfc3339(s.updated_at),
        })
        .collect();
    let feed_snapshot_jobs = match adapter.snapshot_table() {
        Some(table) => Some(count_rows(db, table, tenant.id.0).await?),
        None => None,
    };
    let health = crate::health::tenant_health(&state.db, tenant.id.0).await?;
    Ok(TenantOverview {
        slug: tenant.slug().to_owned(),
        name: config.name.clone(),
        ats_kind: config.ats.kind.as_str().to_owned(),
        ats_base_url: config.ats.base_url.clone(),
        suite_base_url: config.suite.base_url.clone(),
        suite_app_url: config.suite.app_url().to_owned(),
        suite_auth: format!("{:?}", config.suite.auth).to_lowercase(),
        sso: format!("{:?}", config.sso.kind).to_lowercase(),
        poll_interval_s: config.ats.poll_interval_s,
        ats_webhook_url,
        suite_webhook_url: webhook_url(public_url, tenant.slug()),
        suite_webhook_secret_held: config.suite.webhook_secret.is_some(),
        poll_cursors: poll_cursors(db, tenant.id.0).await?,
        sync_cursors,
        leases,
        feed_snapshot_jobs,
        events_by_status: counts(db, tenant.id.0, true).await?,
        jobs_by_status: counts(db, tenant.id.0, false).await?,
        last_events: events_log::list(db, tenant.id, None, 10, None).await?.data,
        health_rows: health_rows(&health),
        health,
    })
}

async fn counts(db: &impl ConnectionTrait, tenant: i64, events: bool) -> Result<Vec<Count>, DbErr> {
    let rows: Vec<(String, i64)> = if events {
        crate::inbox::status_counts_of_tenant(db, TenantId(tenant)).await?
    } else {
        crate::queue::status_counts_of_tenant(db, TenantId(tenant)).await?
    };
    let mut out: Vec<Count> = rows
        .into_iter()
        .map(|(status, count)| Count { status, count })
        .collect();
    out.sort_by(|a, b| a.status.cmp(&b.status));
    Ok(out)
}

async fn poll_cursors(db: &impl ConnectionTrait, tenant: i64) -> Result<Vec<Cursor>, DbErr> {
    let table = Alias::new("poll_cursors");
    let select = Query::select()
        .columns([
            Alias::new("source"),
            Alias::new("cursor"),
            Alias::new("updated_at"),
        ])
        .from(table)
        .and_where(Expr::col(Alias::new("tenant_id")).eq(tenant))
        .order_by(Alias::new("source"), sea_orm::Order::Asc)
        .to_owned();
    let mut out = Vec::new();
    for row in db.query_all(&select).await? {
        out.push(Cursor {
            source: row.try_get("", "source")?,
            cursor: row.try_get("", "cursor")?,
            updated_at: to_rfc3339(row.try_get("", "updated_at")?),
        });
    }
    Ok(out)
}

async fn count_rows(db: &impl ConnectionTrait, table: &str, tenant: i64) -> Result<i64, DbErr> {
    let select = Query::select()
        .expr_as(Expr::col(Alias::new("id")).count(), Alias::new("n"))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("tenant_id")).eq(tenant))
        .to_owned();
    match db.query_one(&select).await? {
        Some(row) => row.try_get("", "n"),
        None => Ok(0),
    }
}

/// One subscription as a partner lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Subscription {
    pub id: String,
    pub events: String,
    pub status: String,
    pub url: String,
}

/// The live listing of one partner: its subscriptions that deliver to Liaison, or why not.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum Listing {
    Listed { subscriptions: Vec<Subscription> },
    NotApplicable { reason: String },
    Failed { error: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct SubscriptionCheck {
    pub checked_at: String,
    pub ats: Listing,
    pub suite: Listing,
}

/// The ATS half of the check, as far as its kind has a subscription API.
async fn list_ats_subscriptions(tenant: &Tenant, public_url: &str) -> Listing {
    let adapter = adapter_for(tenant.config.ats.kind);
    let kind = tenant.config.ats.kind.as_str();
    match adapter.delivery() {
        Delivery::Subscribed => {}
        Delivery::ConfiguredAtTheAts => {
            return Listing::NotApplicable {
                reason: format!("{kind} has no subscription API: the ATS is configured by hand"),
            };
        }
        Delivery::Polled => {
            return Listing::NotApplicable {
                reason: format!("{kind} is polled"),
            };
        }
        Delivery::PartnerApi { routes } => {
            return Listing::NotApplicable {
                reason: format!("{kind} calls Liaison's partner routes ({routes}/...)"),
            };
        }
    }
    let listed = match adapter.subscriptions(tenant) {
        Ok(subscriptions) => subscriptions.list(public_url).await,
        Err(error) => Err(error),
    };
    match listed {
        Ok(found) => Listing::Listed {
            subscriptions: found
                .into_iter()
                .map(|s: AtsSubscription| Subscription {
                    id: s.id,
                    events: s.events,
                    status: s.status,
                    url: s.postback_url,
                })
                .collect(),
        },
        Err(error) => Listing::Failed {
            error: error.to_string(),
        },
    }
}

/// Asks the ATS and the suite, now, which subscriptions deliver to this tenant's URLs.
pub async fn check_subscriptions(state: &AppState, tenant: &Tenant) -> SubscriptionCheck {
    let public_url = &state.settings.public_url;
    let ats = list_ats_subscriptions(tenant, public_url).await;
    let url = webhook_url(public_url, tenant.slug());
    let suite = match state.suite_clients.for_tenant(tenant) {
        Ok(client) => match client.list_webhooks(&PageRequest::default()).await {
            Ok(page) => Listing::Listed {
                subscriptions: page
                    .data
                    .into_iter()
                    .filter(|w| w.url == url)
                    .map(|w| Subscription {
                        id: w.id,
                        events: w.events.join(", "),
                        status: "active".to_owned(),
                        url: w.url,
                    })
                    .collect(),
            },
            Err(error) => Listing::Failed {
                error: error.to_string(),
            },
        },
        Err(error) => Listing::Failed {
            error: error.to_string(),
        },
    };
    SubscriptionCheck {
        checked_at: to_rfc3339(now_ms()),
        ats,
        suite,
    }
}

/// One side of the connection health, with times ready to show.
#[derive(Clone, Debug)]
pub struct HealthRow {
    pub side: &'static str,
    pub last_ok_at: String,
    pub last_error_at: String,
    pub last_error: String,
    pub last_inbound_at: String,
}

fn health_rows(health: &crate::health::TenantHealth) -> Vec<HealthRow> {
    let when = |ms: Option<i64>| ms.map(to_rfc3339).unwrap_or_else(|| "never".to_owned());
    [("ATS", &health.ats), ("Suite", &health.suite)]
        .into_iter()
        .map(|(side, h)| HealthRow {
            side,
            last_ok_at: when(h.last_ok_at),
            last_error_at: when(h.last_error_at),
            last_error: h.last_error.clone().unwrap_or_default(),
            last_inbound_at: when(h.last_inbound_at),
        })
        .collect()
}
