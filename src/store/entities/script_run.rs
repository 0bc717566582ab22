use sea_orm::entity::prelude::*;

/// One run of a script tenant's function (`crate::script::runs`): when, how long, its outcome
/// and its logs (a JSON array of lines, the tenant's secrets blanked). The newest of each
/// tenant are kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "script_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// Minted by the process that ran it: tells a stored run from the same one in memory.
    pub run_id: String,
    pub at: i64,
    pub function: String,
    pub took_ms: i64,
    pub ok: bool,
    pub outcome: String,
    pub logs: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
