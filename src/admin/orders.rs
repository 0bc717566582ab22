//! The orders page: what an embedded-assessment ATS (Greenhouse Assessment) ordered for the
//! tenant, where each order stands, whether the tenant has a key, and the errors the ATS reported
//! about Liaison's answers. Candidates' emails are masked as everywhere in the console; no key
//! is ever shown.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::Admin;
use super::data::masking::{Reveal, mask_email, mask_json, mask_text};
use super::page::{AdminError, Chrome, html};
use super::tenants::open_tenant;
use crate::app::AppState;
use crate::orders::{self, Order};
use crate::time::to_rfc3339;

/// Newest orders shown.
const SHOWN: u64 = 200;

#[derive(Template)]
#[template(path = "admin/orders.html")]
struct OrdersPage {
    chrome: Option<Chrome>,
    slug: String,
    ats_kind: String,
    has_key: bool,
    orders: Vec<OrderRow>,
    reports: Vec<ReportRow>,
}

struct OrderRow {
    id: String,
    created_at: String,
    test_id: String,
    email: String,
    status: String,
    invitation_id: String,
    score: String,
    reported_at: String,
    last_error: String,
}

struct ReportRow {
    at: String,
    api_call: String,
    body: String,
}

fn row(order: Order) -> OrderRow {
    OrderRow {
        id: order.id.to_string(),
        created_at: to_rfc3339(order.created_at),
        test_id: order.test_id,
        email: mask_email(&order.candidate.email),
        status: order.status.to_string(),
        invitation_id: order.invitation_id.unwrap_or_default(),
        score: order
            .result
            .and_then(|r| r.score)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        reported_at: order.reported_at.map(to_rfc3339).unwrap_or_default(),
        last_error: mask_text(&order.last_error.unwrap_or_default(), Reveal::Nothing),
    }
}

/// `GET /admin/tenants/{tenant}/orders`.
pub async fn show_orders_page(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AdminError> {
    let tenant = open_tenant(&state, &slug).await?;
    let db = &state.db;
    let list = orders::list(db, tenant.id, SHOWN).await?;
    let reports = orders::reports::newest(db, tenant.id, 50).await?;
    let has_key = orders::keys::exists(db, tenant.id).await?;
    Ok(html(&OrdersPage {
        chrome: Some(admin.chrome("tenants")),
        slug: tenant.slug().to_owned(),
        ats_kind: tenant.config.ats.kind.as_str().to_owned(),
        has_key,
        orders: list.into_iter().map(row).collect(),
        reports: reports
            .into_iter()
            .map(|r| ReportRow {
                at: to_rfc3339(r.created_at),
                api_call: r.api_call,
                body: serde_json::from_str(&r.body)
                    .map(|body| mask_json(&body, Reveal::Nothing).to_string())
                    .unwrap_or_else(|_| mask_text(&r.body, Reveal::Nothing)),
            })
            .collect(),
    }))
}
