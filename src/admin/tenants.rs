//! The tenants pages: the list (with the queue at a glance) and one tenant's connections,
//! pollers, subscriptions and latest events.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::Admin;
use super::data::queue::{self as queue_data, TenantDepth};
use super::data::tenants::{self as tenant_data, Listing, SubscriptionCheck, TenantOverview};
use super::page::{AdminError, Chrome, html};
use crate::app::AppState;
use crate::queue::Depth;
use crate::tenant::{self, Tenant, TenantSummary};
use crate::time::to_rfc3339;

#[derive(Template)]
#[template(path = "admin/tenants.html")]
struct TenantsPage {
    chrome: Option<Chrome>,
    tenants: Vec<(TenantSummary, String, Depth)>,
}

/// `GET /admin`.
pub async fn show_tenants_page(
    admin: Admin,
    State(state): State<AppState>,
) -> Result<Response, AdminError> {
    let summaries = tenant::list(&state.db).await?;
    let stats = queue_data::stats(&state.db).await?;
    let depth_of = |slug: &str| {
        stats
            .by_tenant
            .iter()
            .find(|t: &&TenantDepth| t.tenant == slug)
            .map(|t| t.depth.clone())
            .unwrap_or_default()
    };
    let tenants = summaries
        .into_iter()
        .map(|t| {
            let depth = depth_of(&t.slug);
            let updated = to_rfc3339(t.updated_at);
            (t, updated, depth)
        })
        .collect();
    Ok(html(&TenantsPage {
        chrome: Some(admin.chrome("tenants")),
        tenants,
    }))
}

/// The tenant `slug` with its secrets opened (they never reach a page).
pub async fn open_tenant(state: &AppState, slug: &str) -> Result<Arc<Tenant>, AdminError> {
    state
        .tenants()?
        .by_slug_now(slug)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no tenant `{slug}`")))
}

#[derive(Template)]
#[template(path = "admin/tenant.html")]
struct TenantPage {
    chrome: Option<Chrome>,
    t: TenantOverview,
    check: Option<CheckView>,
}

/// A subscription check, flattened for the template.
struct CheckView {
    checked_at: String,
    ats: Vec<tenant_data::Subscription>,
    ats_note: String,
    suite: Vec<tenant_data::Subscription>,
    suite_note: String,
}

impl From<SubscriptionCheck> for CheckView {
    fn from(check: SubscriptionCheck) -> Self {
        let (ats, ats_note) = listing_rows(check.ats);
        let (suite, suite_note) = listing_rows(check.suite);
        Self {
            checked_at: check.checked_at,
            ats,
            ats_note,
            suite,
            suite_note,
        }
    }
}

/// `GET /admin/tenants/{tenant}`.
pub async fn show_tenant_page(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AdminError> {
    let tenant = open_tenant(&state, &slug).await?;
    let t = tenant_data::overview(&state, &tenant).await?;
    Ok(html(&TenantPage {
        chrome: Some(admin.chrome("tenants")),
        t,
        check: None,
    }))
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /admin/tenants/{tenant}/subscriptions/check`: lists the subscriptions at both partners
/// now and shows them on the tenant's page.
#[tracing::instrument(skip_all, fields(tenant = %slug))]
pub async fn check_subscriptions_now(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AdminError> {
    admin.check_csrf(&form.csrf)?;
    let tenant = open_tenant(&state, &slug).await?;
    let check = tenant_data::check_subscriptions(&state, &tenant).await;
    let t = tenant_data::overview(&state, &tenant).await?;
    Ok(html(&TenantPage {
        chrome: Some(admin.chrome("tenants")),
        t,
        check: Some(check.into()),
    }))
}

/// A listing's rows, or what to say instead.
fn listing_rows(listing: Listing) -> (Vec<tenant_data::Subscription>, String) {
    match listing {
        Listing::Listed { subscriptions } if subscriptions.is_empty() => (
            subscriptions,
            "none: run `liaison tenant connect` to register them".to_owned(),
        ),
        Listing::Listed { subscriptions } => (subscriptions, String::new()),
        Listing::NotApplicable { reason } => (Vec::new(), reason),
        Listing::Failed { error } => (Vec::new(), format!("failed: {error}")),
    }
}
