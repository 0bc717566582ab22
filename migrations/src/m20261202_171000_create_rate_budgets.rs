//! A partner's rate limit shared by every Liaison process of a tenant: one token bucket row per
//! tenant and partner (`scope`, e.g. `lever`), in thousandths of a request, refilled lazily by
//! whoever takes from it (`refilled_at`, ms). Lever's limit is per API key, not per process.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_171000_create_rate_budgets"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum RateBudgets {
    Table,
    Id,
    TenantId,
    Scope,
    TokensMilli,
    RefilledAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateBudgets::Table)
                    .if_not_exists()
                    .col(big_pk_auto(RateBudgets::Id))
                    .col(big_integer(RateBudgets::TenantId))
                    .col(string(RateBudgets::Scope))
                    .col(big_integer(RateBudgets::TokensMilli))
                    .col(big_integer(RateBudgets::RefilledAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_rate_budgets_tenant")
                            .from(RateBudgets::Table, RateBudgets::TenantId)
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
                    .name("uq_rate_budgets_tenant_scope")
                    .table(RateBudgets::Table)
                    .col(RateBudgets::TenantId)
                    .col(RateBudgets::Scope)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(RateBudgets::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
