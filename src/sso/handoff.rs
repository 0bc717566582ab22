//! The admin console's SSO hand-off: when a sign-in that began at `/admin/login` comes back from
//! the identity provider, Liaison stores who signed in under a random single-use code, valid for
//! [`HANDOFF_TTL_MS`], and sends the browser to `/admin/sso/finish?code=...` with a cookie that
//! binds the code to that browser. The code is spent once (an `UPDATE ... WHERE used_at IS NULL`,
//! so two processes or a replayed URL cannot both win); only SHA-256 digests of the code and of
//! the cookie are stored. No tenant session is minted for an admin sign-in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};

use super::Identity;
use crate::ids::TenantId;
use crate::store::entities::sso_handoff;
use crate::time::now_ms;
use crate::web::session::SessionOrigin;

/// How long the browser has to follow the redirect to `/admin/sso/finish`.
pub const HANDOFF_TTL_MS: i64 = 60 * 1000;
/// The cookie that binds a code to the browser that finished signing in.
pub const BINDING_COOKIE: &str = "liaison_admin_sso";

/// A code just issued: the code goes in the URL, the binding in the browser's cookie.
#[derive(Clone, Debug)]
pub struct Issued {
    pub code: String,
    pub binding: String,
}

/// A spent hand-off: who signed in, through which tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    pub tenant: TenantId,
    pub subject: String,
    pub email: String,
    /// The ATS role the identity provider stated (mapped through the tenant's `[roles]`).
    pub role: Option<String>,
    pub origin: SessionOrigin,
}

/// The stored form of a code or token: its SHA-256 in hex (never kept in clear).
fn digest(text: &str) -> String {
    crate::crypto::sha256_hex(text.as_bytes())
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn origin_str(origin: SessionOrigin) -> &'static str {
    match origin {
        SessionOrigin::Oidc => "oidc",
        SessionOrigin::Saml => "saml",
        SessionOrigin::Launch => "launch",
    }
}

fn origin_of(text: &str) -> Option<SessionOrigin> {
    match text {
        "oidc" => Some(SessionOrigin::Oidc),
        "saml" => Some(SessionOrigin::Saml),
        _ => None,
    }
}

/// Stores `identity`'s finished sign-in under a new code (and drops expired hand-offs).
pub async fn issue(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    identity: &Identity,
    origin: SessionOrigin,
) -> Result<Issued, sea_orm::DbErr> {
    let now = now_ms();
    sso_handoff::Entity::delete_many()
        .filter(sso_handoff::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    let issued = Issued {
        code: random_token(),
        binding: random_token(),
    };
    sso_handoff::ActiveModel {
        tenant_id: Set(tenant.0),
        code_hash: Set(digest(&issued.code)),
        binding_hash: Set(digest(&issued.binding)),
        subject: Set(identity.subject.clone()),
        email: Set(identity.email.clone()),
        role: Set(identity.role.clone()),
        origin: Set(origin_str(origin).to_owned()),
        created_at: Set(now),
        expires_at: Set(now + HANDOFF_TTL_MS),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(issued)
}

/// Spends `code` presented with the browser's `binding` cookie: None when there is no such code,
/// it expired, it was already spent, or the binding is another browser's.
pub async fn redeem(
    db: &impl ConnectionTrait,
    code: &str,
    binding: &str,
) -> Result<Option<Handoff>, sea_orm::DbErr> {
    if code.is_empty() || binding.is_empty() {
        return Ok(None);
    }
    let now = now_ms();
    let code_hash = digest(code);
    let spent = sso_handoff::Entity::update_many()
        .col_expr(sso_handoff::Column::UsedAt, Expr::value(now))
        .filter(sso_handoff::Column::CodeHash.eq(code_hash.as_str()))
        .filter(sso_handoff::Column::BindingHash.eq(digest(binding)))
        .filter(sso_handoff::Column::UsedAt.is_null())
        .filter(sso_handoff::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if spent.rows_affected != 1 {
        return Ok(None);
    }
    let Some(row) = sso_handoff::Entity::find()
        .filter(sso_handoff::Column::CodeHash.eq(code_hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(origin) = origin_of(&row.origin) else {
        return Ok(None);
    };
    Ok(Some(Handoff {
        tenant: TenantId(row.tenant_id),
        subject: row.subject,
        email: row.email,
        role: row.role,
        origin,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_long_random_and_stored_as_digests() {
        let (a, b) = (super::random_token(), super::random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(super::digest("x").len(), 64);
        assert_ne!(super::digest(&a), a);
    }
}
