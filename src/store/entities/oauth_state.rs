use sea_orm::entity::prelude::*;

/// An authorisation started by `liaison tenant authorize-suite` (or `authorize-ats`) and not
/// yet called back: the
/// `state` sent to the suite and the PKCE verifier (sealed), valid until `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_states")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// Whose authorisation this is (`suite`, `lever`): only that party's callback completes it.
    pub party: String,
    pub state: String,
    #[sea_orm(column_type = "Text")]
    pub sealed_verifier: String,
    #[sea_orm(column_type = "Text")]
    pub redirect_uri: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
