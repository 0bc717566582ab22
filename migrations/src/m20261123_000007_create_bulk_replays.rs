//! Bulk replays of a tenant's dead letters, started from the admin console or API: one row per
//! replay and one row per job it sent back, so that its progress (how many of those jobs are done,
//! pending or dead again) can be read at any time.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000007_create_bulk_replays"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum BulkReplays {
    Table,
    Id,
    TenantId,
    StartedBy,
    Jobs,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BulkReplayJobs {
    Table,
    Id,
    BulkReplayId,
    JobId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BulkReplays::Table)
                    .if_not_exists()
                    .col(big_pk_auto(BulkReplays::Id))
                    .col(big_integer(BulkReplays::TenantId))
                    .col(string(BulkReplays::StartedBy))
                    .col(big_integer(BulkReplays::Jobs))
                    .col(big_integer(BulkReplays::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bulk_replays_tenant")
                            .from(BulkReplays::Table, BulkReplays::TenantId)
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
                    .name("ix_bulk_replays_tenant")
                    .table(BulkReplays::Table)
                    .col(BulkReplays::TenantId)
                    .col(BulkReplays::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BulkReplayJobs::Table)
                    .if_not_exists()
                    .col(big_pk_auto(BulkReplayJobs::Id))
                    .col(big_integer(BulkReplayJobs::BulkReplayId))
                    .col(big_integer(BulkReplayJobs::JobId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bulk_replay_jobs_replay")
                            .from(BulkReplayJobs::Table, BulkReplayJobs::BulkReplayId)
                            .to(BulkReplays::Table, BulkReplays::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bulk_replay_jobs_job")
                            .from(BulkReplayJobs::Table, BulkReplayJobs::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_bulk_replay_jobs")
                    .table(BulkReplayJobs::Table)
                    .col(BulkReplayJobs::BulkReplayId)
                    .col(BulkReplayJobs::JobId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BulkReplayJobs::Table.into_iden(),
            BulkReplays::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
