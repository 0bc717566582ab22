//! Connection health per tenant and side (`ats`, `suite`): the last good and the last failed
//! partner call, shared by every process. And the W3C `traceparent` of the request that enqueued
//! a job, so the job's trace continues the webhook's.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000006_add_partner_health"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PartnerHealth {
    Table,
    TenantId,
    Side,
    LastOkAt,
    LastErrorAt,
    LastError,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    TraceParent,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PartnerHealth::Table)
                    .if_not_exists()
                    .col(big_integer(PartnerHealth::TenantId))
                    .col(string(PartnerHealth::Side))
                    .col(big_integer_null(PartnerHealth::LastOkAt))
                    .col(big_integer_null(PartnerHealth::LastErrorAt))
                    .col(text_null(PartnerHealth::LastError))
                    .col(big_integer(PartnerHealth::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_partner_health")
                            .col(PartnerHealth::TenantId)
                            .col(PartnerHealth::Side),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_partner_health_tenant")
                            .from(PartnerHealth::Table, PartnerHealth::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .add_column(string_null(Jobs::TraceParent))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .drop_column(Jobs::TraceParent)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(PartnerHealth::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
