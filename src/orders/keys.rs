//! The key Liaison issues a tenant for an ATS that calls it (Greenhouse Assessment: the Basic-auth
//! username). Stored sealed under the master key and found by a keyed hash (HMAC-SHA256 under a
//! key derived from the master key), so a database dump neither carries the key nor lets anyone
//! test guesses offline; the presented key is then compared with the opened one in constant time.

use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use secrecy::SecretString;
use subtle::ConstantTimeEq as _;

use crate::crypto::MasterKey;
use crate::ids::TenantId;
use crate::store::entities::partner_key;
use crate::time::now_ms;

/// Greenhouse takes keys shorter than 171 characters; 64 hex characters carry 256 bits.
const KEY_BYTES: usize = 32;

/// The purpose the lookup hash's key is derived for.
const LOOKUP_PURPOSE: &str = "partner-key-lookup";

/// The associated data of a tenant's sealed key (master-key rotation re-seals under it).
pub(crate) fn seal_context(tenant: TenantId) -> String {
    format!("partner-key:{tenant}")
}

/// The keyed hash a key is found by.
pub fn lookup_hash(master_key: &MasterKey, key: &str) -> String {
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(&master_key.derive_key(LOOKUP_PURPOSE))
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(key.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Issues the tenant a new key, replacing its previous one (which stops working at once), and
/// answers it: the only time it is shown.
pub async fn issue<C>(
    db: &C,
    master_key: &MasterKey,
    tenant: TenantId,
) -> Result<SecretString, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let mut bytes = [0u8; KEY_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let key: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let txn = db.begin().await?;
    partner_key::Entity::delete_many()
        .filter(partner_key::Column::TenantId.eq(tenant.0))
        .exec(&txn)
        .await?;
    partner_key::ActiveModel {
        tenant_id: Set(tenant.0),
        key_hash: Set(lookup_hash(master_key, &key)),
        sealed_key: Set(master_key.seal(key.as_bytes(), &seal_context(tenant))),
        created_at: Set(now_ms()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(SecretString::from(key))
}

/// The tenant a presented key belongs to, if any.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    master_key: &MasterKey,
    presented: &str,
) -> Result<Option<TenantId>, DbErr> {
    let row = partner_key::Entity::find()
        .filter(partner_key::Column::KeyHash.eq(lookup_hash(master_key, presented)))
        .one(db)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let tenant = TenantId(row.tenant_id);
    let Ok(stored) = master_key.open(&row.sealed_key, &seal_context(tenant)) else {
        tracing::warn!(tenant = %tenant, "a partner key does not open with the master key");
        return Ok(None);
    };
    let same: bool = stored.ct_eq(presented.as_bytes()).into();
    Ok(same.then_some(tenant))
}

/// The tenant's current key (for Liaison's calls to the ATS that use it), if one was issued.
pub async fn current(
    db: &impl ConnectionTrait,
    master_key: &MasterKey,
    tenant: TenantId,
) -> anyhow::Result<Option<SecretString>> {
    let row = partner_key::Entity::find()
        .filter(partner_key::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let opened = master_key.open(&row.sealed_key, &seal_context(tenant))?;
    let text = String::from_utf8(opened)?;
    Ok(Some(SecretString::from(text)))
}

/// Whether the tenant has a key (the console says so, never which).
pub async fn exists(db: &impl ConnectionTrait, tenant: TenantId) -> Result<bool, DbErr> {
    let found = partner_key::Entity::find()
        .filter(partner_key::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?;
    Ok(found.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::generate_master_key;

    #[test]
    fn lookup_hash_depends_on_the_key_and_the_master_key() {
        let one = MasterKey::from_base64(&generate_master_key()).expect("key");
        let two = MasterKey::from_base64(&generate_master_key()).expect("key");
        assert_eq!(lookup_hash(&one, "abc"), lookup_hash(&one, "abc"));
        assert_ne!(lookup_hash(&one, "abc"), lookup_hash(&one, "abd"));
        assert_ne!(lookup_hash(&one, "abc"), lookup_hash(&two, "abc"));
    }
}
