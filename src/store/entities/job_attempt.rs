use sea_orm::entity::prelude::*;

/// The execution log: one row per attempt of a job (what was called, outcome, duration, error).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub job_id: i64,
    pub attempt: i32,
    pub started_at: i64,
    pub duration_ms: i64,
    pub outcome: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub call: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
