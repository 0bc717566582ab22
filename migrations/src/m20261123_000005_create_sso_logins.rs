//! Pending SSO sign-ins: the OIDC `state` (or SAML AuthnRequest id), nonce, sealed PKCE verifier
//! and return path, each spent once so that a replayed callback or assertion is refused.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000005_create_sso_logins"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SsoLogins {
    Table,
    Id,
    TenantId,
    Kind,
    State,
    Nonce,
    SealedVerifier,
    ReturnTo,
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
                    .table(SsoLogins::Table)
                    .if_not_exists()
                    .col(big_pk_auto(SsoLogins::Id))
                    .col(big_integer(SsoLogins::TenantId))
                    .col(string(SsoLogins::Kind))
                    .col(string(SsoLogins::State))
                    .col(string_null(SsoLogins::Nonce))
                    .col(text_null(SsoLogins::SealedVerifier))
                    .col(text(SsoLogins::ReturnTo))
                    .col(big_integer(SsoLogins::CreatedAt))
                    .col(big_integer(SsoLogins::ExpiresAt))
                    .col(big_integer_null(SsoLogins::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sso_logins_tenant")
                            .from(SsoLogins::Table, SsoLogins::TenantId)
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
                    .name("uq_sso_logins_state")
                    .table(SsoLogins::Table)
                    .col(SsoLogins::TenantId)
                    .col(SsoLogins::State)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_sso_logins_expires")
                    .table(SsoLogins::Table)
                    .col(SsoLogins::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SsoLogins::Table).if_exists().to_owned())
            .await
    }
}
