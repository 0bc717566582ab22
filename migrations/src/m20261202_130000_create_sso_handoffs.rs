//! Admin SSO hand-offs: a single-use code, valid for a minute, that carries a finished SSO sign-in
//! from the identity provider's answer to `/admin/sso/finish`, instead of a reusable tenant session
//! in the URL. Only SHA-256 digests of the code and of its browser-binding cookie are stored; the
//! row is spent once (`used_at`).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_130000_create_sso_handoffs"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SsoHandoffs {
    Table,
    Id,
    TenantId,
    CodeHash,
    BindingHash,
    Subject,
    Email,
    Role,
    Origin,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SsoHandoffs::Table)
                    .if_not_exists()
                    .col(big_pk_auto(SsoHandoffs::Id))
                    .col(big_integer(SsoHandoffs::TenantId))
                    .col(string(SsoHandoffs::CodeHash))
                    .col(string(SsoHandoffs::BindingHash))
                    .col(text(SsoHandoffs::Subject))
                    .col(text(SsoHandoffs::Email))
                    .col(text_null(SsoHandoffs::Role))
                    .col(string(SsoHandoffs::Origin))
                    .col(big_integer(SsoHandoffs::CreatedAt))
                    .col(big_integer(SsoHandoffs::ExpiresAt))
                    .col(big_integer_null(SsoHandoffs::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sso_handoffs_tenant")
                            .from(SsoHandoffs::Table, SsoHandoffs::TenantId)
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
                    .name("uq_sso_handoffs_code")
                    .table(SsoHandoffs::Table)
                    .col(SsoHandoffs::CodeHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_sso_handoffs_expires")
                    .table(SsoHandoffs::Table)
                    .col(SsoHandoffs::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(SsoHandoffs::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
