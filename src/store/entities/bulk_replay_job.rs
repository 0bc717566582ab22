use sea_orm::entity::prelude::*;

/// One job a bulk replay sent back to the queue (`uq_bulk_replay_jobs`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bulk_replay_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub bulk_replay_id: i64,
    pub job_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
