//! Master-key rotation: every secret Liaison keeps sealed is opened with the current key and
//! sealed again under a new one, in one transaction.
//!
//! Sealed values live in five places: a tenant's secrets (`tenants.sealed_secrets`), the
//! authorization-code grants, the suite's and Lever's (`suite_grants`), pending authorisations
//! (`oauth_states`), pending sign-ins (`sso_logins`) and the keys issued to ATSs that call
//! Liaison (`partner_keys`, whose lookup hash, keyed by the master key, is recomputed with
//! them). Each is opened with its own associated data, the same the owning module uses, so a
//! value that would not open for the application does not open here.
//!
//! Nothing is written unless every value opens with the current key; each row is updated only if
//! it still holds the value that was read, so a process writing with the old key at the same time
//! makes the rotation fail instead of leaving a value sealed under the wrong key.

use std::collections::HashMap;
use std::fmt;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
};

use crate::crypto::MasterKey;
use crate::ids::TenantId;
use crate::store::entities::{oauth_state, partner_key, sso_login, suite_grant, tenant};
use crate::suite::grant_store::GrantParty;

/// Where a sealed value is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SealedColumn {
    TenantSecrets,
    SuiteRefreshToken,
    SuiteAccessToken,
    SuiteAuthorizationVerifier,
    SignInVerifier,
    PartnerKey,
}

impl SealedColumn {
    pub const ALL: [SealedColumn; 6] = [
        Self::TenantSecrets,
        Self::SuiteRefreshToken,
        Self::SuiteAccessToken,
        Self::SuiteAuthorizationVerifier,
        Self::SignInVerifier,
        Self::PartnerKey,
    ];

    /// `table.column`, as printed by the command.
    pub fn name(self) -> &'static str {
        match self {
            Self::TenantSecrets => "tenants.sealed_secrets",
            Self::SuiteRefreshToken => "suite_grants.sealed_refresh_token",
            Self::SuiteAccessToken => "suite_grants.sealed_access_token",
            Self::SuiteAuthorizationVerifier => "oauth_states.sealed_verifier",
            Self::SignInVerifier => "sso_logins.sealed_verifier",
            Self::PartnerKey => "partner_keys.sealed_key",
        }
    }
}

/// One sealed value and what it takes to open it.
struct Sealed {
    column: SealedColumn,
    row_id: i64,
    context: String,
    value: String,
}

/// How many values each column holds (all of them open with the key that was checked).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SealedCounts(pub Vec<(SealedColumn, usize)>);

impl SealedCounts {
    fn of(values: &[Sealed]) -> Self {
        Self(
            SealedColumn::ALL
                .iter()
                .map(|&column| {
                    let n = values.iter().filter(|v| v.column == column).count();
                    (column, n)
                })
                .collect(),
        )
    }

    pub fn total(&self) -> usize {
        self.0.iter().map(|(_, n)| n).sum()
    }

    pub fn get(&self, column: SealedColumn) -> usize {
        self.0
            .iter()
            .find(|(c, _)| *c == column)
            .map_or(0, |(_, n)| *n)
    }
}

impl fmt::Display for SealedCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (column, n) in &self.0 {
            writeln!(f, "{:<36} {n}", column.name())?;
        }
        write!(f, "{:<36} {}", "total", self.total())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    #[error(
        "{column} of row {row_id} does not open with the current master key; nothing was changed"
    )]
    DoesNotOpen { column: &'static str, row_id: i64 },
    #[error("{column} of row {row_id} belongs to no tenant; nothing was changed")]
    Orphan { column: &'static str, row_id: i64 },
    #[error(
        "{column} of row {row_id} changed during the rotation (is a Liaison process still \
         running?); nothing was changed"
    )]
    Changed { column: &'static str, row_id: i64 },
    #[error("the new master key is the current one")]
    SameKey,
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

/// Opens every sealed value with `key`, changing nothing: the counts, or the first that fails.
pub async fn verify(db: &DatabaseConnection, key: &MasterKey) -> Result<SealedCounts, RekeyError> {
    let values = load(db).await?;
    for sealed in &values {
        open(key, sealed)?;
    }
    Ok(SealedCounts::of(&values))
}

/// Re-seals every sealed value from `current` to `new` in one transaction.
pub async fn rotate(
    db: &DatabaseConnection,
    current: &MasterKey,
    new: &MasterKey,
) -> Result<SealedCounts, RekeyError> {
    if current.is_same_as(new) {
        return Err(RekeyError::SameKey);
    }
    let txn = db.begin().await?;
    let values = load(&txn).await?;
    // Open everything first: one value that does not open and nothing is written.
    let mut resealed = Vec::with_capacity(values.len());
    for sealed in &values {
        let plain = open(current, sealed)?;
        // A partner key is found by a hash keyed by the master key: it moves with it.
        let rehash = (sealed.column == SealedColumn::PartnerKey)
            .then(|| crate::orders::keys::lookup_hash(new, &String::from_utf8_lossy(&plain)));
        resealed.push((new.seal(&plain, &sealed.context), rehash));
    }
    for (sealed, (replacement, rehash)) in values.iter().zip(resealed) {
        if store(&txn, sealed, replacement, rehash).await? != 1 {
            return Err(RekeyError::Changed {
                column: sealed.column.name(),
                row_id: sealed.row_id,
            });
        }
    }
    txn.commit().await?;
    Ok(SealedCounts::of(&values))
}

fn open(key: &MasterKey, sealed: &Sealed) -> Result<Vec<u8>, RekeyError> {
    key.open(&sealed.value, &sealed.context)
        .map_err(|_| RekeyError::DoesNotOpen {
            column: sealed.column.name(),
            row_id: sealed.row_id,
        })
}

/// Every sealed value in the database with its associated data.
async fn load(db: &impl ConnectionTrait) -> Result<Vec<Sealed>, RekeyError> {
    let tenants = tenant::Entity::find().all(db).await?;
    let slugs: HashMap<i64, String> = tenants.iter().map(|t| (t.id, t.slug.clone())).collect();
    let slug_of = |column: SealedColumn, row_id: i64, tenant_id: i64| {
        slugs
            .get(&tenant_id)
            .map(String::as_str)
            .ok_or(RekeyError::Orphan {
                column: column.name(),
                row_id,
            })
    };
    let mut values = Vec::new();
    for row in &tenants {
        values.push(Sealed {
            column: SealedColumn::TenantSecrets,
            row_id: row.id,
            context: crate::tenant::seal_context(&row.slug),
            value: row.sealed_secrets.clone(),
        });
    }
    for row in suite_grant::Entity::find().all(db).await? {
        let pairs = [
            (SealedColumn::SuiteRefreshToken, row.sealed_refresh_token),
            (SealedColumn::SuiteAccessToken, row.sealed_access_token),
        ];
        for (column, value) in pairs {
            if let Some(value) = value {
                let slug = slug_of(column, row.id, row.tenant_id)?;
                values.push(Sealed {
                    column,
                    row_id: row.id,
                    // The suite's and Lever's grants share the table, each sealed under
                    // its party (an unknown party does not open: the rotation stops).
                    context: GrantParty::parse(&row.party)
                        .unwrap_or(GrantParty::Suite)
                        .context(slug),
                    value,
                });
            }
        }
    }
    for row in oauth_state::Entity::find().all(db).await? {
        let column = SealedColumn::SuiteAuthorizationVerifier;
        let slug = slug_of(column, row.id, row.tenant_id)?;
        values.push(Sealed {
            column,
            row_id: row.id,
            context: crate::suite::auth::verifier_context(slug),
            value: row.sealed_verifier,
        });
    }
    for row in sso_login::Entity::find().all(db).await? {
        if let Some(value) = row.sealed_verifier {
            values.push(Sealed {
                column: SealedColumn::SignInVerifier,
                row_id: row.id,
                context: crate::sso::logins::seal_context(TenantId(row.tenant_id)),
                value,
            });
        }
    }
    for row in partner_key::Entity::find().all(db).await? {
        values.push(Sealed {
            column: SealedColumn::PartnerKey,
            row_id: row.id,
            context: crate::orders::keys::seal_context(TenantId(row.tenant_id)),
            value: row.sealed_key,
        });
    }
    Ok(values)
}

/// Writes `replacement` (and a partner key's new lookup hash) where `sealed` was read, only if
/// it is still there: rows updated.
async fn store(
    db: &impl ConnectionTrait,
    sealed: &Sealed,
    replacement: String,
    rehash: Option<String>,
) -> Result<u64, DbErr> {
    let id = sealed.row_id;
    let old = sealed.value.clone();
    let new = Expr::value(replacement);
    let result = match sealed.column {
        SealedColumn::TenantSecrets => {
            tenant::Entity::update_many()
                .col_expr(tenant::Column::SealedSecrets, new)
                .filter(tenant::Column::Id.eq(id))
                .filter(tenant::Column::SealedSecrets.eq(old))
                .exec(db)
                .await?
        }
        SealedColumn::SuiteRefreshToken => {
            suite_grant::Entity::update_many()
                .col_expr(suite_grant::Column::SealedRefreshToken, new)
                .filter(suite_grant::Column::Id.eq(id))
                .filter(suite_grant::Column::SealedRefreshToken.eq(old))
                .exec(db)
                .await?
        }
        SealedColumn::SuiteAccessToken => {
            suite_grant::Entity::update_many()
                .col_expr(suite_grant::Column::SealedAccessToken, new)
                .filter(suite_grant::Column::Id.eq(id))
                .filter(suite_grant::Column::SealedAccessToken.eq(old))
                .exec(db)
                .await?
        }
        SealedColumn::SuiteAuthorizationVerifier => {
            oauth_state::Entity::update_many()
                .col_expr(oauth_state::Column::SealedVerifier, new)
                .filter(oauth_state::Column::Id.eq(id))
                .filter(oauth_state::Column::SealedVerifier.eq(old))
                .exec(db)
                .await?
        }
        SealedColumn::SignInVerifier => {
            sso_login::Entity::update_many()
                .col_expr(sso_login::Column::SealedVerifier, new)
                .filter(sso_login::Column::Id.eq(id))
                .filter(sso_login::Column::SealedVerifier.eq(old))
                .exec(db)
                .await?
        }
        SealedColumn::PartnerKey => {
            partner_key::Entity::update_many()
                .col_expr(partner_key::Column::SealedKey, new)
                .col_expr(partner_key::Column::KeyHash, Expr::value(rehash))
                .filter(partner_key::Column::Id.eq(id))
                .filter(partner_key::Column::SealedKey.eq(old))
                .exec(db)
                .await?
        }
    };
    Ok(result.rows_affected)
}
