//! Liaison's schema, one migrator for SQLite and PostgreSQL.
//!
//! Migrations are never edited once landed: add a new one. Constraints and indexes are named so that
//! errors and `\d` output say what they protect. Times are stored as `BIGINT` milliseconds since the
//! Unix epoch, set in code, so that both back ends compare and sort them alike.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_core_tables;
mod m20261123_000002_create_suite_grants;
mod m20261123_000003_create_poll_state;
mod m20261123_000004_create_sync_state;
mod m20261123_000005_create_sso_logins;
mod m20261123_000006_add_partner_health;
mod m20261123_000007_create_bulk_replays;
mod m20261202_110000_create_admin_sessions;
mod m20261202_120000_create_spent_tokens;
mod m20261202_130000_create_sso_handoffs;
mod m20261202_150000_index_attempts_started;
mod m20261202_160000_create_orders;
mod m20261202_170000_add_grant_party;
mod m20261202_171000_create_rate_budgets;
mod m20261202_172000_create_script_runs;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_core_tables::Migration),
            Box::new(m20261123_000002_create_suite_grants::Migration),
            Box::new(m20261123_000003_create_poll_state::Migration),
            Box::new(m20261123_000004_create_sync_state::Migration),
            Box::new(m20261123_000005_create_sso_logins::Migration),
            Box::new(m20261123_000006_add_partner_health::Migration),
            Box::new(m20261123_000007_create_bulk_replays::Migration),
            Box::new(m20261202_130000_create_sso_handoffs::Migration),
            Box::new(m20261202_110000_create_admin_sessions::Migration),
            Box::new(m20261202_120000_create_spent_tokens::Migration),
            Box::new(m20261202_150000_index_attempts_started::Migration),
            Box::new(m20261202_160000_create_orders::Migration),
            Box::new(m20261202_170000_add_grant_party::Migration),
            Box::new(m20261202_171000_create_rate_budgets::Migration),
            Box::new(m20261202_172000_create_script_runs::Migration),
        ]
    }
}
