//! Single-use marks in the store, shared by every process on the database: a launch token is
//! spent once (by its `jti`, else the SHA-256 of the whole token), a hand-off code once, and a
//! signed-out session is marked so that `access` refuses it until it would have expired anyway.
//! Spending is one `INSERT` that conflicts on `uq_spent_tokens` (a unique violation, classified
//! with `DbErr::sql_err()` on both back ends): of two processes (or two tabs) presenting the same
//! token at once, exactly one inserts the row and wins.
//! Each mark lives as long as what it marks (plus clock skew), then is purged.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::ids::TenantId;
use crate::store::entities::spent_token;
use crate::time::now_ms;

/// What a mark stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpentKind {
    /// A launch token (`jti:<jti>` or `token:<the token>`).
    Launch,
    /// A one-time hand-off code (by the session id it hands over).
    Handoff,
    /// A session that was signed out (by its session id).
    SignedOut,
}

impl SpentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Launch => "launch",
            Self::Handoff => "handoff",
            Self::SignedOut => "signed_out",
        }
    }
}

/// The stored form of a code or token: its SHA-256 in hex (never kept in clear).
fn digest(text: &str) -> String {
    crate::crypto::sha256_hex(text.as_bytes())
}

/// Marks `key` of `kind` as used for `tenant` until `expires_at_s` (Unix seconds). True when
/// this call was the first use; false when it was marked before (a replay).
pub async fn spend(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    kind: SpentKind,
    key: &str,
    expires_at_s: i64,
) -> Result<bool, sea_orm::DbErr> {
    let now = now_ms();
    // Marks past their life are worthless: drop them as new ones come in.
    spent_token::Entity::delete_many()
        .filter(spent_token::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    let row = spent_token::ActiveModel {
        tenant_id: Set(tenant.0),
        kind: Set(kind.as_str().to_owned()),
        token_hash: Set(digest(key)),
        created_at: Set(now),
        expires_at: Set(expires_at_s.saturating_mul(1000)),
        ..Default::default()
    };
    // A plain insert whose unique violation (classified portably) says "used before". Not an
    // `ON CONFLICT (columns)` clause: SQLite checks that against the connection's cached schema
    // when it prepares the statement, which a pooled connection may hold from before the index.
    match spent_token::Entity::insert(row).exec(db).await {
        Ok(_) => Ok(true),
        Err(error) if crate::store::is_unique_violation(&error) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Whether `key` of `kind` is marked for `tenant` (and the mark still lives).
pub async fn is_spent(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    kind: SpentKind,
    key: &str,
) -> Result<bool, sea_orm::DbErr> {
    let found = spent_token::Entity::find()
        .filter(spent_token::Column::TenantId.eq(tenant.0))
        .filter(spent_token::Column::Kind.eq(kind.as_str()))
        .filter(spent_token::Column::TokenHash.eq(digest(key)))
        .filter(spent_token::Column::ExpiresAt.gte(now_ms()))
        .count(db)
        .await?;
    Ok(found > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stored_as_their_sha256() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
