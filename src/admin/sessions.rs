//! Console sessions in the store (`admin_sessions`, this module's alone). The cookie carries a
//! signed `sid`; the row decides whether the session still holds: it is refused once it has
//! expired, once it was signed out (`revoked_at`), and once the admin token changed (each row
//! keeps the epoch of the token it was opened under, a keyed hash, never the token). Expired
//! rows are purged as new sessions open.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};

use crate::store::entities::admin_session;
use crate::time::now_ms;

/// A session to open: its id, who, the current token epoch and how long it lasts.
#[derive(Clone, Debug)]
pub struct NewSession<'a> {
    pub sid: &'a str,
    pub who: &'a str,
    pub token_epoch: &'a str,
    pub lifetime_ms: i64,
}

/// Records a new session, and purges the rows that expired.
pub async fn open(
    db: &impl ConnectionTrait,
    session: NewSession<'_>,
) -> Result<(), sea_orm::DbErr> {
    let now = now_ms();
    admin_session::Entity::delete_many()
        .filter(admin_session::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    admin_session::ActiveModel {
        sid: Set(session.sid.to_owned()),
        who: Set(session.who.to_owned()),
        token_epoch: Set(session.token_epoch.to_owned()),
        created_at: Set(now),
        expires_at: Set(now + session.lifetime_ms),
        revoked_at: Set(None),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Whether session `sid` holds now: it exists, was not signed out, has not expired, and was
/// opened under `token_epoch`.
pub async fn is_live(
    db: &impl ConnectionTrait,
    sid: &str,
    token_epoch: &str,
) -> Result<bool, sea_orm::DbErr> {
    let row = admin_session::Entity::find_by_id(sid.to_owned())
        .filter(admin_session::Column::RevokedAt.is_null())
        .filter(admin_session::Column::ExpiresAt.gt(now_ms()))
        .filter(admin_session::Column::TokenEpoch.eq(token_epoch))
        .one(db)
        .await?;
    Ok(row.is_some())
}

/// Ends session `sid` (sign-out). Ending it twice is harmless.
pub async fn revoke(db: &impl ConnectionTrait, sid: &str) -> Result<(), sea_orm::DbErr> {
    admin_session::Entity::update_many()
        .col_expr(admin_session::Column::RevokedAt, Expr::value(now_ms()))
        .filter(admin_session::Column::Sid.eq(sid))
        .filter(admin_session::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map(|_| ())
}
