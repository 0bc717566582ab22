//! The suite's OAuth grants (authorization code): one row per tenant holding the sealed refresh
//! and access tokens plus the refresh lease that makes rotation single flight across processes,
//! and the pending authorisations (`state` + sealed PKCE verifier) awaiting their callback.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_create_suite_grants"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SuiteGrants {
    Table,
    Id,
    TenantId,
    SealedRefreshToken,
    SealedAccessToken,
    AccessExpiresAt,
    Version,
    RefreshingOwner,
    RefreshingUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    Id,
    TenantId,
    State,
    SealedVerifier,
    RedirectUri,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SuiteGrants::Table)
                    .if_not_exists()
                    .col(big_pk_auto(SuiteGrants::Id))
                    .col(big_integer(SuiteGrants::TenantId))
                    .col(text_null(SuiteGrants::SealedRefreshToken))
                    .col(text_null(SuiteGrants::SealedAccessToken))
                    .col(big_integer_null(SuiteGrants::AccessExpiresAt))
                    .col(big_integer(SuiteGrants::Version))
                    .col(string_null(SuiteGrants::RefreshingOwner))
                    .col(big_integer_null(SuiteGrants::RefreshingUntil))
                    .col(big_integer(SuiteGrants::CreatedAt))
                    .col(big_integer(SuiteGrants::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_suite_grants_tenant")
                            .from(SuiteGrants::Table, SuiteGrants::TenantId)
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
                    .name("uq_suite_grants_tenant")
                    .table(SuiteGrants::Table)
                    .col(SuiteGrants::TenantId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OauthStates::Table)
                    .if_not_exists()
                    .col(big_pk_auto(OauthStates::Id))
                    .col(big_integer(OauthStates::TenantId))
                    .col(string(OauthStates::State))
                    .col(text(OauthStates::SealedVerifier))
                    .col(text(OauthStates::RedirectUri))
                    .col(big_integer(OauthStates::CreatedAt))
                    .col(big_integer(OauthStates::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oauth_states_tenant")
                            .from(OauthStates::Table, OauthStates::TenantId)
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
                    .name("uq_oauth_states_state")
                    .table(OauthStates::Table)
                    .col(OauthStates::State)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_oauth_states_expires")
                    .table(OauthStates::Table)
                    .col(OauthStates::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OauthStates::Table.into_iden(),
            SuiteGrants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
