//! OAuth grants are no longer the suite's alone: a Lever tenant authorised with the
//! authorization code keeps its grant in the same table, under the same refresh lease. `party`
//! says whose grant a row is (`suite`, `lever`); a tenant has at most one per party. Pending
//! authorisations (`oauth_states`) say which party's callback may complete them.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_170000_add_grant_party"
    }
}

#[derive(DeriveIden)]
enum SuiteGrants {
    Table,
    TenantId,
    Party,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    Party,
}

const OLD_UNIQUE: &str = "uq_suite_grants_tenant";
const NEW_UNIQUE: &str = "uq_suite_grants_tenant_party";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Rows written before this migration are the suite's.
        manager
            .alter_table(
                Table::alter()
                    .table(SuiteGrants::Table)
                    .add_column(string(SuiteGrants::Party).default("suite"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .if_exists()
                    .name(OLD_UNIQUE)
                    .table(SuiteGrants::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(NEW_UNIQUE)
                    .table(SuiteGrants::Table)
                    .col(SuiteGrants::TenantId)
                    .col(SuiteGrants::Party)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OauthStates::Table)
                    .add_column(string(OauthStates::Party).default("suite"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .if_exists()
                    .name(NEW_UNIQUE)
                    .table(SuiteGrants::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(OLD_UNIQUE)
                    .table(SuiteGrants::Table)
                    .col(SuiteGrants::TenantId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (table, column) in [
            (
                SuiteGrants::Table.into_iden(),
                SuiteGrants::Party.into_iden(),
            ),
            (
                OauthStates::Table.into_iden(),
                OauthStates::Party.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
