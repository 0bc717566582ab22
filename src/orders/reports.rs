//! Errors an ATS reports about Liaison's answers (Greenhouse's `response_error`): logged and kept
//! for the console.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::ids::TenantId;
use crate::store::entities::partner_report;
use crate::time::now_ms;

/// One stored report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerReport {
    pub api_call: String,
    /// The report as the ATS sent it (JSON).
    pub body: String,
    pub created_at: i64,
}

pub async fn record(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    api_call: &str,
    body: &serde_json::Value,
) -> Result<(), DbErr> {
    partner_report::ActiveModel {
        tenant_id: Set(tenant.0),
        api_call: Set(api_call.chars().take(100).collect()),
        body: Set(body.to_string()),
        created_at: Set(now_ms()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The tenant's newest reports first.
pub async fn newest(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    limit: u64,
) -> Result<Vec<PartnerReport>, DbErr> {
    let rows = partner_report::Entity::find()
        .filter(partner_report::Column::TenantId.eq(tenant.0))
        .order_by_desc(partner_report::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| PartnerReport {
            api_call: row.api_call,
            body: row.body,
            created_at: row.created_at,
        })
        .collect())
}
