//! Single-use marks for web access: launch tokens spent once (by `jti`, else the token's hash),
//! one-time hand-off codes, and signed-out sessions (by session id). A mark is an insert that
//! conflicts on `uq_spent_tokens`, so several processes sharing the database agree on the one
//! first use; rows are purged once `expires_at` (the token's own life plus clock skew) passes.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_120000_create_spent_tokens"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SpentTokens {
    Table,
    Id,
    TenantId,
    Kind,
    TokenHash,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SpentTokens::Table)
                    .if_not_exists()
                    .col(big_pk_auto(SpentTokens::Id))
                    .col(big_integer(SpentTokens::TenantId))
                    .col(string(SpentTokens::Kind))
                    .col(string(SpentTokens::TokenHash))
                    .col(big_integer(SpentTokens::CreatedAt))
                    .col(big_integer(SpentTokens::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_spent_tokens_tenant")
                            .from(SpentTokens::Table, SpentTokens::TenantId)
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
                    .name("uq_spent_tokens")
                    .table(SpentTokens::Table)
                    .col(SpentTokens::TenantId)
                    .col(SpentTokens::Kind)
                    .col(SpentTokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_spent_tokens_expires")
                    .table(SpentTokens::Table)
                    .col(SpentTokens::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(SpentTokens::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
