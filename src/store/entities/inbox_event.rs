use sea_orm::entity::prelude::*;

/// An event received from a partner (or found by a poller), stored before it is answered.
/// Unique per tenant, source and the sender's delivery id (`uq_inbox_delivery`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub source: String,
    pub delivery_id: String,
    pub event_type: String,
    pub subject: Option<String>,
    pub occurred_at: Option<i64>,
    pub status: String,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    #[sea_orm(column_type = "Text")]
    pub normalized: String,
    pub received_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
