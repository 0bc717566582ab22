use sea_orm::entity::prelude::*;

/// A write-back to the ATS (tag or comment), recorded before the call (`intended`) and marked
/// after it (`done`), so that a non-idempotent write happens at most once (`uq_writebacks_key`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "writebacks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub key: String,
    pub ats_application_id: String,
    #[sea_orm(column_type = "Text")]
    pub action: String,
    pub status: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
