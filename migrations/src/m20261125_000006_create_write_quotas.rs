//! Anonymous writes per client address and minute (`JOBTOUR_ANON_WRITES_PER_MINUTE`), counted
//! in the database so that every instance behind a load balancer shares the count.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WriteQuotas {
    Table,
    Key,
    WindowStart,
    Writes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WriteQuotas::Table)
                    .col(text(WriteQuotas::Key).primary_key())
                    .col(timestamp_with_time_zone(WriteQuotas::WindowStart))
                    .col(integer(WriteQuotas::Writes))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WriteQuotas::Table).to_owned())
            .await
    }
}
