//! The embedded-assessment model: `orders` (an ATS asked for an interview of a candidate on one of
//! the tenant's tests), `partner_keys` (the key Liaison issued a tenant for an ATS that calls it,
//! sealed, found by a keyed hash) and `partner_reports` (errors an ATS reported about Liaison's
//! answers, for the console).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_160000_create_orders"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    TenantId,
    AtsOrderKey,
    TestId,
    Candidate,
    AtsRef,
    CallbackUrl,
    Status,
    InvitationId,
    Result,
    ReportedAt,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PartnerKeys {
    Table,
    Id,
    TenantId,
    KeyHash,
    SealedKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PartnerReports {
    Table,
    Id,
    TenantId,
    ApiCall,
    Body,
    CreatedAt,
}

fn tenant_fk(name: &str, table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
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
                    .table(Orders::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Orders::Id))
                    .col(big_integer(Orders::TenantId))
                    .col(text(Orders::AtsOrderKey))
                    .col(text(Orders::TestId))
                    .col(text(Orders::Candidate))
                    .col(text(Orders::AtsRef))
                    .col(text_null(Orders::CallbackUrl))
                    .col(string(Orders::Status))
                    .col(text_null(Orders::InvitationId))
                    .col(text_null(Orders::Result))
                    .col(big_integer_null(Orders::ReportedAt))
                    .col(text_null(Orders::LastError))
                    .col(big_integer(Orders::CreatedAt))
                    .col(big_integer(Orders::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        "fk_orders_tenant",
                        Orders::Table,
                        Orders::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_orders_ats_key")
                    .table(Orders::Table)
                    .col(Orders::TenantId)
                    .col(Orders::AtsOrderKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_orders_invitation")
                    .table(Orders::Table)
                    .col(Orders::TenantId)
                    .col(Orders::InvitationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PartnerKeys::Table)
                    .if_not_exists()
                    .col(big_pk_auto(PartnerKeys::Id))
                    .col(big_integer(PartnerKeys::TenantId))
                    .col(string(PartnerKeys::KeyHash))
                    .col(text(PartnerKeys::SealedKey))
                    .col(big_integer(PartnerKeys::CreatedAt))
                    .foreign_key(&mut tenant_fk(
                        "fk_partner_keys_tenant",
                        PartnerKeys::Table,
                        PartnerKeys::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_partner_keys_hash")
                    .table(PartnerKeys::Table)
                    .col(PartnerKeys::KeyHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_partner_keys_tenant")
                    .table(PartnerKeys::Table)
                    .col(PartnerKeys::TenantId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PartnerReports::Table)
                    .if_not_exists()
                    .col(big_pk_auto(PartnerReports::Id))
                    .col(big_integer(PartnerReports::TenantId))
                    .col(string(PartnerReports::ApiCall))
                    .col(text(PartnerReports::Body))
                    .col(big_integer(PartnerReports::CreatedAt))
                    .foreign_key(&mut tenant_fk(
                        "fk_partner_reports_tenant",
                        PartnerReports::Table,
                        PartnerReports::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_partner_reports_tenant")
                    .table(PartnerReports::Table)
                    .col(PartnerReports::TenantId)
                    .col(PartnerReports::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PartnerReports::Table.into_iden(),
            PartnerKeys::Table.into_iden(),
            Orders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
