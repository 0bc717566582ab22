//! The tenant directory: one per process, shared by the webhook path, the pages and the jobs.

use std::sync::Arc;

use liaison::config::generate_master_key;
use liaison::crypto::MasterKey;
use liaison::tenant::{self, Directory, TenantConfig};

use crate::helpers::{TestDb, tenant_toml};

async fn apply(db: &TestDb, key: &MasterKey, slug: &str, name: &str) -> liaison::ids::TenantId {
    let toml = tenant_toml(slug).replace(&format!("Tenant {slug}"), name);
    let config = TenantConfig::from_toml(&toml).expect("valid tenant");
    tenant::apply(&db.db, key, &config).await.expect("apply").0
}

fn fresh_key() -> MasterKey {
    MasterKey::from_base64(&generate_master_key()).expect("key")
}

#[tokio::test]
async fn jobs_see_a_tenant_apply_at_once_and_an_unchanged_row_is_not_opened_again() {
    let db = TestDb::new().await;
    let key = fresh_key();
    let id = apply(&db, &key, "acme", "Acme").await;
    let directory = Directory::new(db.db.clone(), key.clone());

    let first = directory.by_id(id).await.expect("read").expect("found");
    let again = directory.by_id(id).await.expect("read").expect("found");
    assert!(Arc::ptr_eq(&first, &again), "the same row is opened once");
    assert_eq!(first.config.name, "Acme");

    apply(&db, &key, "acme", "Acme Renamed").await;
    let changed = directory.by_id(id).await.expect("read").expect("found");
    assert_eq!(changed.config.name, "Acme Renamed");

    let by_ids = directory.by_ids(&[id]).await.expect("read");
    assert!(Arc::ptr_eq(&by_ids[&id], &changed));
}

#[tokio::test]
async fn pages_and_webhooks_find_tenants_by_slug_and_unknown_ones_as_none() {
    let db = TestDb::new().await;
    let key = fresh_key();
    apply(&db, &key, "acme", "Acme").await;
    let directory = Directory::new(db.db.clone(), key);

    let acme = directory
        .by_slug("acme")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(acme.slug(), "acme");
    assert!(directory.by_slug("nobody").await.expect("read").is_none());
    // Outside the slug alphabet: answered without a query, as None.
    assert!(directory.by_slug("../etc").await.expect("read").is_none());
    let id = acme.id;
    let by_id = directory.by_id(id).await.expect("read").expect("found");
    assert!(
        Arc::ptr_eq(&acme, &by_id),
        "both ways in share the opened tenant"
    );
}

#[tokio::test]
async fn the_scheduler_lists_every_tenant_and_one_that_does_not_open_does_not_hide_the_others() {
    let db = TestDb::new().await;
    let key = fresh_key();
    apply(&db, &key, "acme", "Acme").await;
    // Sealed under another key: this process cannot open it.
    apply(&db, &fresh_key(), "globex", "Globex").await;
    let directory = Directory::new(db.db.clone(), key);

    let all = directory.all().await.expect("read");
    let slugs: Vec<&str> = all.iter().map(|(slug, _)| slug.as_str()).collect();
    assert_eq!(slugs, ["acme", "globex"]);
    assert!(all[0].1.is_ok());
    let Err(error) = &all[1].1 else {
        panic!("globex does not open under this key")
    };
    assert!(format!("{error:#}").contains("globex"), "{error:#}");
    assert!(directory.by_id(all[0].1.as_ref().unwrap().id).await.is_ok());
}
