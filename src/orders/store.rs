//! `orders` rows: the finders take the tenant first; placing an order and recording its result
//! each commit the row and its job in one transaction.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait, TryInsertResult,
};

use super::{
    NewOrder, Order, OrderResult, OrderStatus, PLACE_ORDER, REPORT_MAX_ATTEMPTS, REPORT_ORDER,
};
use crate::ids::{OrderId, TenantId};
use crate::queue::{self, NewJob};
use crate::store::entities::order;
use crate::time::now_ms;

/// What placing an order gave: Liaison's id of it, and whether it is new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    pub id: OrderId,
    pub new: bool,
}

/// Stores `order` with its `place_order` job, in one transaction; an order whose ATS key the
/// tenant already has is answered with the existing id (the ATS sent it twice).
pub async fn place<C>(
    db: &C,
    tenant: TenantId,
    order: &NewOrder,
    max_attempts: u32,
) -> Result<Placed, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    let now = now_ms();
    let row = order::ActiveModel {
        tenant_id: Set(tenant.0),
        ats_order_key: Set(order.ats_order_key.clone()),
        test_id: Set(order.test_id.clone()),
        candidate: Set(to_json(&order.candidate)),
        ats_ref: Set(to_json(&order.ats_ref)),
        callback_url: Set(order.callback_url.clone()),
        status: Set(OrderStatus::Received.as_str().to_owned()),
        invitation_id: Set(None),
        result: Set(None),
        reported_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let inserted = order::Entity::insert(row)
        .on_conflict_do_nothing_on([order::Column::TenantId, order::Column::AtsOrderKey])
        .exec(&txn)
        .await?;
    let placed = match inserted {
        TryInsertResult::Inserted(done) => {
            let id = OrderId(done.last_insert_id);
            queue::enqueue(
                &txn,
                NewJob {
                    tenant,
                    event: None,
                    flow: PLACE_ORDER.to_owned(),
                    payload: serde_json::json!({ "order_id": id.0 }),
                    idempotency_key: place_key(id),
                    ordering_key: Some(id.to_string()),
                    run_at: None,
                    max_attempts,
                },
            )
            .await?;
            Placed { id, new: true }
        }
        TryInsertResult::Conflicted | TryInsertResult::Empty => {
            let existing = order::Entity::find()
                .filter(order::Column::TenantId.eq(tenant.0))
                .filter(order::Column::AtsOrderKey.eq(&order.ats_order_key))
                .one(&txn)
                .await?
                .ok_or_else(|| DbErr::RecordNotFound("the conflicting order".into()))?;
            Placed {
                id: OrderId(existing.id),
                new: false,
            }
        }
    };
    txn.commit().await?;
    Ok(placed)
}

pub async fn find(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: OrderId,
) -> Result<Option<Order>, DbErr> {
    let row = order::Entity::find_by_id(id.0)
        .filter(order::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?;
    Ok(row.map(to_order))
}

/// The orders whose invitation is `invitation_id`, oldest first: several when the ATS ordered
/// the same test for the same person again while the first invitation was live (the suite
/// answers the live one).
pub async fn find_by_invitation(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    invitation_id: &str,
) -> Result<Vec<Order>, DbErr> {
    let rows = order::Entity::find()
        .filter(order::Column::TenantId.eq(tenant.0))
        .filter(order::Column::InvitationId.eq(invitation_id))
        .order_by_asc(order::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(to_order).collect())
}

/// The tenant's newest orders first.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    limit: u64,
) -> Result<Vec<Order>, DbErr> {
    let rows = order::Entity::find()
        .filter(order::Column::TenantId.eq(tenant.0))
        .order_by_desc(order::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(to_order).collect())
}

/// The suite invited the order's candidate (a retry writes the same invitation again).
pub async fn mark_invited(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: OrderId,
    invitation_id: &str,
) -> Result<(), DbErr> {
    order::Entity::update_many()
        .col_expr(order::Column::InvitationId, Expr::value(invitation_id))
        .col_expr(
            order::Column::Status,
            Expr::value(OrderStatus::Invited.as_str()),
        )
        .col_expr(
            order::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .col_expr(order::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(order::Column::TenantId.eq(tenant.0))
        .filter(order::Column::Id.eq(id.0))
        .filter(
            order::Column::Status
                .is_in([OrderStatus::Received.as_str(), OrderStatus::Failed.as_str()]),
        )
        .exec(db)
        .await?;
    Ok(())
}

pub async fn mark_failed(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: OrderId,
    reason: &str,
) -> Result<(), DbErr> {
    order::Entity::update_many()
        .col_expr(
            order::Column::Status,
            Expr::value(OrderStatus::Failed.as_str()),
        )
        .col_expr(order::Column::LastError, Expr::value(reason))
        .col_expr(order::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(order::Column::TenantId.eq(tenant.0))
        .filter(order::Column::Id.eq(id.0))
        .filter(order::Column::Status.eq(OrderStatus::Received.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// The invitation of the tenant's orders ended without an interview (`Expired` or
/// `Cancelled`): those still waiting for it say so. Answers how many changed.
pub async fn mark_ended(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    invitation_id: &str,
    ended: OrderStatus,
) -> Result<u64, DbErr> {
    let result = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(ended.as_str()))
        .col_expr(order::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(order::Column::TenantId.eq(tenant.0))
        .filter(order::Column::InvitationId.eq(invitation_id))
        .filter(order::Column::Status.is_in([
            OrderStatus::Received.as_str(),
            OrderStatus::Invited.as_str(),
        ]))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Stores the order's result (a later one replaces it: the ATS reads the newest) and, the first
/// time, the `report_order` job that tells the ATS, in one transaction. Its idempotency key is
/// the order's: one report per order, ever.
pub async fn record_result<C>(
    db: &C,
    tenant: TenantId,
    id: OrderId,
    result: &OrderResult,
) -> Result<(), DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    let row = order::Entity::find_by_id(id.0)
        .filter(order::Column::TenantId.eq(tenant.0))
        .one(&txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("order {id}")))?;
    let status = match OrderStatus::parse(&row.status) {
        Some(OrderStatus::Reported) => OrderStatus::Reported,
        _ => OrderStatus::Completed,
    };
    let mut active: order::ActiveModel = row.into();
    active.result = Set(Some(to_json(result)));
    active.status = Set(status.as_str().to_owned());
    active.updated_at = Set(now_ms());
    active.update(&txn).await?;
    queue::enqueue(
        &txn,
        NewJob {
            tenant,
            event: None,
            flow: REPORT_ORDER.to_owned(),
            payload: serde_json::json!({ "order_id": id.0 }),
            idempotency_key: report_key(id),
            ordering_key: Some(id.to_string()),
            run_at: None,
            max_attempts: REPORT_MAX_ATTEMPTS,
        },
    )
    .await?;
    txn.commit().await
}

/// The ATS took the result.
pub async fn mark_reported(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: OrderId,
) -> Result<(), DbErr> {
    let now = now_ms();
    order::Entity::update_many()
        .col_expr(
            order::Column::Status,
            Expr::value(OrderStatus::Reported.as_str()),
        )
        .col_expr(order::Column::ReportedAt, Expr::value(now))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::TenantId.eq(tenant.0))
        .filter(order::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// The key of an order's `place_order` job (one per order, ever).
pub(super) fn place_key(id: OrderId) -> String {
    format!("place:{id}")
}

/// The key of an order's `report_order` job (one report per order, ever).
pub(super) fn report_key(id: OrderId) -> String {
    format!("report:{id}")
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())
}

fn to_order(row: order::Model) -> Order {
    Order {
        id: OrderId(row.id),
        tenant: TenantId(row.tenant_id),
        ats_order_key: row.ats_order_key,
        test_id: row.test_id,
        candidate: serde_json::from_str(&row.candidate).unwrap_or_default(),
        ats_ref: serde_json::from_str(&row.ats_ref).unwrap_or_default(),
        callback_url: row.callback_url,
        status: OrderStatus::parse(&row.status).unwrap_or(OrderStatus::Received),
        invitation_id: row.invitation_id,
        result: row
            .result
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok()),
        reported_at: row.reported_at,
        last_error: row.last_error,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}
