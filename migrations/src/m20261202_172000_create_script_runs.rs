//! The last runs of each script tenant's functions (`catch`, `pull`, `writeBack`) with what they
//! logged, for the admin console of every process: a pull done by a worker shows on the
//! server's console. Bounded: each flush keeps the newest runs of a tenant and deletes the rest.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_172000_create_script_runs"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ScriptRuns {
    Table,
    Id,
    TenantId,
    RunId,
    At,
    Function,
    TookMs,
    Ok,
    Outcome,
    Logs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScriptRuns::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ScriptRuns::Id))
                    .col(big_integer(ScriptRuns::TenantId))
                    .col(string(ScriptRuns::RunId))
                    .col(big_integer(ScriptRuns::At))
                    .col(string(ScriptRuns::Function))
                    .col(big_integer(ScriptRuns::TookMs))
                    .col(boolean(ScriptRuns::Ok))
                    .col(text(ScriptRuns::Outcome))
                    .col(text(ScriptRuns::Logs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_script_runs_tenant")
                            .from(ScriptRuns::Table, ScriptRuns::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_script_runs_run")
                    .table(ScriptRuns::Table)
                    .col(ScriptRuns::RunId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_script_runs_tenant_at")
                    .table(ScriptRuns::Table)
                    .col(ScriptRuns::TenantId)
                    .col(ScriptRuns::At)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ScriptRuns::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
