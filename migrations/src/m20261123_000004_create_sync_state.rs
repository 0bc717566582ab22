//! The sync engine's own state: per-key values (the last applied time of each entity, the last
//! written outcome of an application, poll cursors), time-bound leases (one poller per tenant
//! across processes), and the write-back intents that make non-idempotent ATS writes happen once.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000004_create_sync_state"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SyncState {
    Table,
    Id,
    TenantId,
    Key,
    Value,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Leases {
    Table,
    Id,
    TenantId,
    Name,
    Owner,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Writebacks {
    Table,
    Id,
    TenantId,
    Key,
    AtsApplicationId,
    Action,
    Status,
    ExternalId,
    CreatedAt,
    UpdatedAt,
}

fn tenant_fk(table: impl IntoIden, column: impl IntoIden, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncState::Table)
                    .if_not_exists()
                    .col(big_pk_auto(SyncState::Id))
                    .col(big_integer(SyncState::TenantId))
                    .col(string(SyncState::Key))
                    .col(text(SyncState::Value))
                    .col(big_integer(SyncState::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        SyncState::Table,
                        SyncState::TenantId,
                        "fk_sync_state_tenant",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_sync_state_key")
                    .table(SyncState::Table)
                    .col(SyncState::TenantId)
                    .col(SyncState::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Leases::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Leases::Id))
                    .col(big_integer(Leases::TenantId))
                    .col(string(Leases::Name))
                    .col(string_null(Leases::Owner))
                    .col(big_integer(Leases::ExpiresAt))
                    .foreign_key(&mut tenant_fk(
                        Leases::Table,
                        Leases::TenantId,
                        "fk_leases_tenant",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_leases_name")
                    .table(Leases::Table)
                    .col(Leases::TenantId)
                    .col(Leases::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Writebacks::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Writebacks::Id))
                    .col(big_integer(Writebacks::TenantId))
                    .col(string(Writebacks::Key))
                    .col(string(Writebacks::AtsApplicationId))
                    .col(text(Writebacks::Action))
                    .col(string(Writebacks::Status))
                    .col(string_null(Writebacks::ExternalId))
                    .col(big_integer(Writebacks::CreatedAt))
                    .col(big_integer(Writebacks::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        Writebacks::Table,
                        Writebacks::TenantId,
                        "fk_writebacks_tenant",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_writebacks_key")
                    .table(Writebacks::Table)
                    .col(Writebacks::TenantId)
                    .col(Writebacks::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_writebacks_application")
                    .table(Writebacks::Table)
                    .col(Writebacks::TenantId)
                    .col(Writebacks::AtsApplicationId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Writebacks::Table.into_iden(),
            Leases::Table.into_iden(),
            SyncState::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
