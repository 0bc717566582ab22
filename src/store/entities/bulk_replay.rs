use sea_orm::entity::prelude::*;

/// A replay of all dead letters of a tenant, started by `started_by` (`token` or `sso:<email>`);
/// `jobs` is how many jobs it sent back (listed in `bulk_replay_jobs`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bulk_replays")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub started_by: String,
    pub jobs: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
