//! Pending sign-ins in the store: begun when Liaison sends someone to the identity provider,
//! spent exactly once when they come back (an `UPDATE ... WHERE used_at IS NULL`, so two
//! processes or a replayed callback cannot both win). The PKCE verifier is sealed. Expired rows
//! are dropped as new sign-ins begin, and a tenant has at most `[sso] max_pending_logins`
//! unfinished ones at once.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::Expr,
};

use crate::crypto::MasterKey;
use crate::ids::TenantId;
use crate::store::entities::sso_login;
use crate::time::now_ms;

/// How long someone has to finish signing in at the identity provider.
pub const LOGIN_TTL_MS: i64 = 10 * 60 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginKind {
    Oidc,
    Saml,
}

impl LoginKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::Saml => "saml",
        }
    }
}

/// A sign-in to begin or that was just spent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingLogin {
    /// OIDC `state`, or the SAML AuthnRequest `ID`.
    pub state: String,
    pub nonce: Option<String>,
    pub pkce_verifier: Option<String>,
    pub return_to: String,
}

pub(crate) fn seal_context(tenant: TenantId) -> String {
    format!("sso-login:{}", tenant.0)
}

/// Whether a sign-in was begun.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begun {
    Started,
    /// The tenant already has `max_pending` unfinished sign-ins: nothing was stored.
    TooManyPending,
}

/// Stores a sign-in that begins now, unless the tenant has `max_pending` unfinished ones (the
/// count and the insert are not one statement, so concurrent starts may pass the cap by a few).
pub async fn begin(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    tenant: TenantId,
    kind: LoginKind,
    login: &PendingLogin,
    max_pending: u64,
) -> Result<Begun, sea_orm::DbErr> {
    let now = now_ms();
    // Expired attempts are worthless (`finish` refuses them): drop them as new ones come in.
    sso_login::Entity::delete_many()
        .filter(sso_login::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    let pending = sso_login::Entity::find()
        .filter(sso_login::Column::TenantId.eq(tenant.0))
        .filter(sso_login::Column::UsedAt.is_null())
        .count(db)
        .await?;
    if pending >= max_pending {
        return Ok(Begun::TooManyPending);
    }
    sso_login::ActiveModel {
        tenant_id: Set(tenant.0),
        kind: Set(kind.as_str().to_owned()),
        state: Set(login.state.clone()),
        nonce: Set(login.nonce.clone()),
        sealed_verifier: Set(login
            .pkce_verifier
            .as_ref()
            .map(|verifier| key.seal(verifier.as_bytes(), &seal_context(tenant)))),
        return_to: Set(login.return_to.clone()),
        created_at: Set(now),
        expires_at: Set(now + LOGIN_TTL_MS),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| Begun::Started)
}

/// The answer when a tenant has too many sign-ins in progress: 429, try again in a minute.
pub fn too_many_pending(tenant: &str) -> axum::response::Response {
    tracing::warn!(tenant = %tenant, "SSO sign-in refused: too many sign-ins in progress");
    super::limits::too_many_requests(std::time::Duration::from_secs(60), "sso_too_many_pending")
}

/// Spends the pending sign-in `state` of `tenant`: None when there is none, it expired, or it
/// was already spent.
pub async fn finish(
    db: &impl ConnectionTrait,
    key: &MasterKey,
    tenant: TenantId,
    kind: LoginKind,
    state: &str,
) -> anyhow::Result<Option<PendingLogin>> {
    let now = now_ms();
    let spent = sso_login::Entity::update_many()
        .col_expr(sso_login::Column::UsedAt, Expr::value(now))
        .filter(sso_login::Column::TenantId.eq(tenant.0))
        .filter(sso_login::Column::Kind.eq(kind.as_str()))
        .filter(sso_login::Column::State.eq(state))
        .filter(sso_login::Column::UsedAt.is_null())
        .filter(sso_login::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if spent.rows_affected != 1 {
        return Ok(None);
    }
    let Some(row) = sso_login::Entity::find()
        .filter(sso_login::Column::TenantId.eq(tenant.0))
        .filter(sso_login::Column::State.eq(state))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let pkce_verifier = match row.sealed_verifier {
        Some(sealed) => Some(String::from_utf8(
            key.open(&sealed, &seal_context(tenant))?,
        )?),
        None => None,
    };
    Ok(Some(PendingLogin {
        state: row.state,
        nonce: row.nonce,
        pkce_verifier,
        return_to: row.return_to,
    }))
}
