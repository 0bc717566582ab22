use sea_orm::entity::prelude::*;

/// A sign-in started at the tenant's identity provider and not yet finished: the OIDC `state`
/// (or the SAML AuthnRequest id), the nonce and PKCE verifier (OIDC), and where to go after.
/// Spent once (`used_at`): a replayed callback or assertion finds it used.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_logins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub kind: String,
    pub state: String,
    pub nonce: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub sealed_verifier: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub return_to: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
