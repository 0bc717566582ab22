use sea_orm::entity::prelude::*;

/// A console session (`admin::sessions` alone reads and writes it): who signed in, the epoch of
/// the admin token it was opened under, and when it ends or was ended by sign-out.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "admin_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sid: String,
    #[sea_orm(column_type = "Text")]
    pub who: String,
    pub token_epoch: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
