//! The queue page's throughput chart counts the execution log's rows of the last 30 minutes by
//! minute and outcome (`queue::attempts_per_minute`). Without an index on `started_at` that read
//! walked the whole log, which only grows. `(started_at, outcome)` covers the query: a range
//! scan of the window, the outcome read from the index.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_150000_index_attempts_started"
    }
}

#[derive(DeriveIden)]
enum JobAttempts {
    Table,
    StartedAt,
    Outcome,
}

const INDEX: &str = "ix_job_attempts_started";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(INDEX)
                    .table(JobAttempts::Table)
                    .col(JobAttempts::StartedAt)
                    .col(JobAttempts::Outcome)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .if_exists()
                    .name(INDEX)
                    .table(JobAttempts::Table)
                    .to_owned(),
            )
            .await
    }
}
