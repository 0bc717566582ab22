//! What the pollers persist between two polls: the xml-feed snapshot (reference -> content hash),
//! its per-poll staging area (so a poll diffs in SQL, in bounded memory, and commits only once the
//! whole feed parsed), and one cursor per tenant and listing source (Gupy's applications).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000003_create_poll_state"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum XmlFeedSnapshots {
    Table,
    Id,
    TenantId,
    Reference,
    ContentHash,
    Closed,
    Generation,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum XmlFeedStaging {
    Table,
    Id,
    TenantId,
    Reference,
    ContentHash,
    Event,
}

#[derive(DeriveIden)]
enum PollCursors {
    Table,
    Id,
    TenantId,
    Source,
    Cursor,
    UpdatedAt,
}

fn tenant_fk(from: impl IntoIden, table: impl IntoIden, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, from)
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
                    .table(XmlFeedSnapshots::Table)
                    .if_not_exists()
                    .col(big_pk_auto(XmlFeedSnapshots::Id))
                    .col(big_integer(XmlFeedSnapshots::TenantId))
                    .col(string(XmlFeedSnapshots::Reference))
                    .col(string(XmlFeedSnapshots::ContentHash))
                    .col(boolean(XmlFeedSnapshots::Closed))
                    .col(integer(XmlFeedSnapshots::Generation))
                    .col(big_integer(XmlFeedSnapshots::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        XmlFeedSnapshots::TenantId,
                        XmlFeedSnapshots::Table,
                        "fk_xml_feed_snapshots_tenant",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_xml_feed_snapshot")
                    .table(XmlFeedSnapshots::Table)
                    .col(XmlFeedSnapshots::TenantId)
                    .col(XmlFeedSnapshots::Reference)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(XmlFeedStaging::Table)
                    .if_not_exists()
                    .col(big_pk_auto(XmlFeedStaging::Id))
                    .col(big_integer(XmlFeedStaging::TenantId))
                    .col(string(XmlFeedStaging::Reference))
                    // NULL: a job that is in the feed but could not be read (kept as it was).
                    .col(string_null(XmlFeedStaging::ContentHash))
                    .col(text_null(XmlFeedStaging::Event))
                    .foreign_key(&mut tenant_fk(
                        XmlFeedStaging::TenantId,
                        XmlFeedStaging::Table,
                        "fk_xml_feed_staging_tenant",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_xml_feed_staging")
                    .table(XmlFeedStaging::Table)
                    .col(XmlFeedStaging::TenantId)
                    .col(XmlFeedStaging::Reference)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PollCursors::Table)
                    .if_not_exists()
                    .col(big_pk_auto(PollCursors::Id))
                    .col(big_integer(PollCursors::TenantId))
                    .col(string(PollCursors::Source))
                    .col(string(PollCursors::Cursor))
                    .col(big_integer(PollCursors::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        PollCursors::TenantId,
                        PollCursors::Table,
                        "fk_poll_cursors_tenant",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_poll_cursor")
                    .table(PollCursors::Table)
                    .col(PollCursors::TenantId)
                    .col(PollCursors::Source)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PollCursors::Table.into_iden(),
            XmlFeedStaging::Table.into_iden(),
            XmlFeedSnapshots::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
