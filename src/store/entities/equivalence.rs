use sea_orm::entity::prelude::*;

/// One ATS id bound to one suite id, per tenant and kind (`uq_equivalence_ats`,
/// `uq_equivalence_suite`). Written only through `crate::equivalence`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "equivalences")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub kind: String,
    pub ats_id: String,
    pub suite_id: String,
    pub created_at: i64,
    pub synced_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
