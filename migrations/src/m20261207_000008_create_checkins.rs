//! The day at the bus: check-ins of candidates at a stop (scanned or walked in), the server's
//! signing key for check-in codes, and the one-use tickets that open a stop's attendance stream
//! to a browser. One check-in per application and stop: the unique index makes fifty scans of
//! one code, or a queue replayed twice, count once.

use crate::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Stops {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Checkins {
    Table,
    Id,
    StopId,
    TourId,
    ApplicationId,
    OrganisationId,
    WalkIn,
    Forced,
    ScannedAt,
    CreatedAt,
    ByUserId,
}

#[derive(DeriveIden)]
enum ServerKeys {
    Table,
    Name,
    Secret,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StreamTickets {
    Table,
    TokenHash,
    StopId,
    UserId,
    ExpiresAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Checkins::Table)
                    .col(uuid(Checkins::Id).primary_key())
                    .col(uuid(Checkins::StopId))
                    // The stop's tour and the application's employer, copied (neither changes).
                    .col(uuid(Checkins::TourId))
                    .col(uuid(Checkins::ApplicationId))
                    .col(uuid(Checkins::OrganisationId))
                    .col(boolean(Checkins::WalkIn))
                    // An organiser let it in outside the stop's hours.
                    .col(boolean(Checkins::Forced))
                    // When the code was scanned (a phone that was offline says so), and when the
                    // server recorded it.
                    .col(timestamp_with_time_zone(Checkins::ScannedAt))
                    .col(timestamp_with_time_zone(Checkins::CreatedAt))
                    .col(uuid_null(Checkins::ByUserId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_checkins_stop")
                            .from(Checkins::Table, Checkins::StopId)
                            .to(Stops::Table, Stops::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_checkins_application")
                            .from(Checkins::Table, Checkins::ApplicationId)
                            .to(Applications::Table, Applications::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_checkins_user")
                            .from(Checkins::Table, Checkins::ByUserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_checkins_stop_application")
                    .table(Checkins::Table)
                    .col(Checkins::StopId)
                    .col(Checkins::ApplicationId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_checkins_stop_id",
            Checkins::Table,
            [Checkins::StopId, Checkins::Id],
        )
        .await?;
        index(
            manager,
            "ix_checkins_application",
            Checkins::Table,
            [Checkins::ApplicationId],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServerKeys::Table)
                    .col(text(ServerKeys::Name).primary_key())
                    // Hex.
                    .col(text(ServerKeys::Secret))
                    .col(timestamp_with_time_zone(ServerKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StreamTickets::Table)
                    // SHA-256 of the ticket, hex: the ticket itself is never stored.
                    .col(text(StreamTickets::TokenHash).primary_key())
                    .col(uuid(StreamTickets::StopId))
                    .col(uuid(StreamTickets::UserId))
                    .col(timestamp_with_time_zone(StreamTickets::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stream_tickets_stop")
                            .from(StreamTickets::Table, StreamTickets::StopId)
                            .to(Stops::Table, Stops::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stream_tickets_user")
                            .from(StreamTickets::Table, StreamTickets::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StreamTickets::Table.into_iden(),
            ServerKeys::Table.into_iden(),
            Checkins::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
