use sea_orm::entity::prelude::*;

/// A tenant's authorization-code grant at a party (`party`: `suite`, `lever`; one per party).
/// Tokens are sealed with the master key (context `<party>-grant:<slug>`); `version` moves on every rotation, and `refreshing_owner` /
/// `refreshing_until` form the lease that lets one process at a time use the refresh token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "suite_grants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub party: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub sealed_refresh_token: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub sealed_access_token: Option<String>,
    pub access_expires_at: Option<i64>,
    pub version: i64,
    pub refreshing_owner: Option<String>,
    pub refreshing_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
