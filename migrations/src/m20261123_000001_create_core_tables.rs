//! Tenants, the equivalence table and its history, the inbox of received events, the job queue and
//! the execution log (one row per attempt).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_create_core_tables"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Slug,
    Name,
    AtsKind,
    Settings,
    SealedSecrets,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Equivalences {
    Table,
    Id,
    TenantId,
    Kind,
    AtsId,
    SuiteId,
    CreatedAt,
    SyncedAt,
}

#[derive(DeriveIden)]
enum EquivalenceHistory {
    Table,
    Id,
    TenantId,
    Kind,
    AtsId,
    SuiteId,
    Action,
    At,
}

#[derive(DeriveIden)]
enum InboxEvents {
    Table,
    Id,
    TenantId,
    Source,
    DeliveryId,
    EventType,
    Subject,
    OccurredAt,
    Status,
    Payload,
    Normalized,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    TenantId,
    EventId,
    Flow,
    Payload,
    Status,
    Attempts,
    MaxAttempts,
    RunAt,
    LastError,
    IdempotencyKey,
    OrderingKey,
    LeaseOwner,
    LeaseExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum JobAttempts {
    Table,
    Id,
    TenantId,
    JobId,
    Attempt,
    StartedAt,
    DurationMs,
    Outcome,
    Call,
    Error,
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
                    .table(Tenants::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Tenants::Id))
                    .col(string(Tenants::Slug))
                    .col(string(Tenants::Name))
                    .col(string(Tenants::AtsKind))
                    .col(text(Tenants::Settings))
                    .col(text(Tenants::SealedSecrets))
                    .col(big_integer(Tenants::CreatedAt))
                    .col(big_integer(Tenants::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_tenants_slug")
                    .table(Tenants::Table)
                    .col(Tenants::Slug)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Equivalences::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Equivalences::Id))
                    .col(big_integer(Equivalences::TenantId))
                    .col(string(Equivalences::Kind))
                    .col(string(Equivalences::AtsId))
                    .col(string(Equivalences::SuiteId))
                    .col(big_integer(Equivalences::CreatedAt))
                    .col(big_integer(Equivalences::SyncedAt))
                    .foreign_key(&mut tenant_fk(
                        Equivalences::TenantId,
                        Equivalences::Table,
                        "fk_equivalences_tenant",
                    ))
                    .to_owned(),
            )
            .await?;
        // One ATS id maps to at most one suite id per tenant and kind, and the reverse.
        for (name, column) in [
            ("uq_equivalence_ats", Equivalences::AtsId),
            ("uq_equivalence_suite", Equivalences::SuiteId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(Equivalences::Table)
                        .col(Equivalences::TenantId)
                        .col(Equivalences::Kind)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(EquivalenceHistory::Table)
                    .if_not_exists()
                    .col(big_pk_auto(EquivalenceHistory::Id))
                    .col(big_integer(EquivalenceHistory::TenantId))
                    .col(string(EquivalenceHistory::Kind))
                    .col(string(EquivalenceHistory::AtsId))
                    .col(string(EquivalenceHistory::SuiteId))
                    .col(string(EquivalenceHistory::Action))
                    .col(big_integer(EquivalenceHistory::At))
                    .foreign_key(&mut tenant_fk(
                        EquivalenceHistory::TenantId,
                        EquivalenceHistory::Table,
                        "fk_equivalence_history_tenant",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_equivalence_history_ats")
                    .table(EquivalenceHistory::Table)
                    .col(EquivalenceHistory::TenantId)
                    .col(EquivalenceHistory::Kind)
                    .col(EquivalenceHistory::AtsId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboxEvents::Table)
                    .if_not_exists()
                    .col(big_pk_auto(InboxEvents::Id))
                    .col(big_integer(InboxEvents::TenantId))
                    .col(string(InboxEvents::Source))
                    .col(string(InboxEvents::DeliveryId))
                    .col(string(InboxEvents::EventType))
                    .col(string_null(InboxEvents::Subject))
                    .col(big_integer_null(InboxEvents::OccurredAt))
                    .col(string(InboxEvents::Status))
                    .col(text(InboxEvents::Payload))
                    .col(text(InboxEvents::Normalized))
                    .col(big_integer(InboxEvents::ReceivedAt))
                    .foreign_key(&mut tenant_fk(
                        InboxEvents::TenantId,
                        InboxEvents::Table,
                        "fk_inbox_events_tenant",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_inbox_delivery")
                    .table(InboxEvents::Table)
                    .col(InboxEvents::TenantId)
                    .col(InboxEvents::Source)
                    .col(InboxEvents::DeliveryId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_inbox_events_status")
                    .table(InboxEvents::Table)
                    .col(InboxEvents::TenantId)
                    .col(InboxEvents::Status)
                    .col(InboxEvents::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Jobs::Id))
                    .col(big_integer(Jobs::TenantId))
                    .col(big_integer_null(Jobs::EventId))
                    .col(string(Jobs::Flow))
                    .col(text(Jobs::Payload))
                    .col(string(Jobs::Status))
                    .col(integer(Jobs::Attempts))
                    .col(integer(Jobs::MaxAttempts))
                    .col(big_integer(Jobs::RunAt))
                    .col(text_null(Jobs::LastError))
                    .col(string(Jobs::IdempotencyKey))
                    .col(string(Jobs::OrderingKey))
                    .col(string_null(Jobs::LeaseOwner))
                    .col(big_integer_null(Jobs::LeaseExpiresAt))
                    .col(big_integer(Jobs::CreatedAt))
                    .col(big_integer(Jobs::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        Jobs::TenantId,
                        Jobs::Table,
                        "fk_jobs_tenant",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_jobs_event")
                            .from(Jobs::Table, Jobs::EventId)
                            .to(InboxEvents::Table, InboxEvents::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        let job_indexes: [(&str, Vec<Jobs>, bool); 4] = [
            (
                "uq_jobs_idempotency",
                vec![Jobs::TenantId, Jobs::IdempotencyKey],
                true,
            ),
            ("ix_jobs_claim", vec![Jobs::Status, Jobs::RunAt], false),
            (
                "ix_jobs_ordering",
                vec![Jobs::OrderingKey, Jobs::Status, Jobs::Id],
                false,
            ),
            ("ix_jobs_event", vec![Jobs::EventId], false),
        ];
        for (name, columns, unique) in job_indexes {
            let mut index = Index::create();
            index.if_not_exists().name(name).table(Jobs::Table);
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(JobAttempts::Table)
                    .if_not_exists()
                    .col(big_pk_auto(JobAttempts::Id))
                    .col(big_integer(JobAttempts::TenantId))
                    .col(big_integer(JobAttempts::JobId))
                    .col(integer(JobAttempts::Attempt))
                    .col(big_integer(JobAttempts::StartedAt))
                    .col(big_integer(JobAttempts::DurationMs))
                    .col(string(JobAttempts::Outcome))
                    .col(text_null(JobAttempts::Call))
                    .col(text_null(JobAttempts::Error))
                    .foreign_key(&mut tenant_fk(
                        JobAttempts::TenantId,
                        JobAttempts::Table,
                        "fk_job_attempts_tenant",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_attempts_job")
                            .from(JobAttempts::Table, JobAttempts::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_job_attempts_job")
                    .table(JobAttempts::Table)
                    .col(JobAttempts::JobId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            JobAttempts::Table.into_iden(),
            Jobs::Table.into_iden(),
            InboxEvents::Table.into_iden(),
            EquivalenceHistory::Table.into_iden(),
            Equivalences::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
