use sea_orm::entity::prelude::*;

/// A tenant: one ATS connection and one suite connection. `settings` is the non-secret part of the
/// tenant file as JSON; `sealed_secrets` the secret part, sealed with the master key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub ats_kind: String,
    pub settings: String,
    pub sealed_secrets: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
