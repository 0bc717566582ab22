use sea_orm::entity::prelude::*;

/// The key Liaison issued a tenant for an ATS that calls Liaison (Greenhouse Assessment's Basic
/// key): sealed under the master key, found by its keyed hash. One per tenant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub key_hash: String,
    #[sea_orm(column_type = "Text")]
    pub sealed_key: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
