//! Console sessions kept server side, so that sign-out, an expiry and a new `admin_token` end
//! them: the cookie only names a session (`sid`, signed), this row says whether it still holds.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_110000_create_admin_sessions"
    }
}

#[derive(DeriveIden)]
enum AdminSessions {
    Table,
    Sid,
    Who,
    TokenEpoch,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AdminSessions::Table)
                    .if_not_exists()
                    .col(string(AdminSessions::Sid).primary_key())
                    .col(text(AdminSessions::Who))
                    .col(string(AdminSessions::TokenEpoch))
                    .col(big_integer(AdminSessions::CreatedAt))
                    .col(big_integer(AdminSessions::ExpiresAt))
                    .col(big_integer_null(AdminSessions::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_admin_sessions_expires")
                    .table(AdminSessions::Table)
                    .col(AdminSessions::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(AdminSessions::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
