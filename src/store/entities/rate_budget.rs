use sea_orm::entity::prelude::*;

/// A token bucket shared by a tenant's processes for one partner (`scope`): `tokens_milli`
/// thousandths of a request left as of `refilled_at` (ms).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rate_budgets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub scope: String,
    pub tokens_milli: i64,
    pub refilled_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
