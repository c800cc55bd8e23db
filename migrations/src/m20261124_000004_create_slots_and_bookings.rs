//! Interview slots at the stops, the bookings of them, and their waiting lines. The rules that
//! concurrency could break are the database's: a slot never seats more than its capacity
//! (CHECK, and the API's conditional increments), an application holds one active booking and
//! waits in one line at most (unique indexes), one employer's slots at a stop never overlap.

use crate::{index, one_of};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Tours {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Stops {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Positions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Slots {
    Table,
    Id,
    StopId,
    TourId,
    OrganisationId,
    PositionId,
    StartsAt,
    EndsAt,
    Capacity,
    Booked,
    Waiting,
    Tickets,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    SlotId,
    ApplicationId,
    Status,
    SlotStartsAt,
    CreatedAt,
    CancelledAt,
    CancelReason,
}

#[derive(DeriveIden)]
enum WaitingPlaces {
    Table,
    Id,
    SlotId,
    ApplicationId,
    Ticket,
    CreatedAt,
}

/// Why a booking ends, as the API knew it when this migration was written.
const CANCEL_REASONS: &[&str] = &["candidate", "moved", "withdrawn", "rejected", "erased", "slot_deleted"];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Slots::Table)
                    .col(uuid(Slots::Id).primary_key())
                    .col(uuid(Slots::StopId))
                    // The stop's tour, copied (stops never change tours): cancelled tours book nothing.
                    .col(uuid(Slots::TourId))
                    .col(uuid(Slots::OrganisationId))
                    .col(uuid_null(Slots::PositionId))
                    .col(timestamp_with_time_zone(Slots::StartsAt))
                    .col(timestamp_with_time_zone(Slots::EndsAt))
                    .col(integer(Slots::Capacity))
                    // Seats taken and candidates in line: counters kept by the transactions
                    // that book, cancel, join and leave, so that a full slot refuses a booking
                    // in one conditional UPDATE.
                    .col(integer(Slots::Booked))
                    .col(integer(Slots::Waiting))
                    // The last ticket handed out to the line: places are given in ticket order.
                    .col(integer(Slots::Tickets))
                    .col(integer(Slots::Version))
                    .col(timestamp_with_time_zone(Slots::CreatedAt))
                    .col(timestamp_with_time_zone(Slots::UpdatedAt))
                    .check(("slots_times", Expr::col(Slots::EndsAt).gt(Expr::col(Slots::StartsAt))))
                    .check(("slots_capacity", Expr::col(Slots::Capacity).between(1, 50)))
                    .check((
                        "slots_booked",
                        Expr::col(Slots::Booked)
                            .gte(0)
                            .and(Expr::col(Slots::Booked).lte(Expr::col(Slots::Capacity))),
                    ))
                    .check(("slots_waiting", Expr::col(Slots::Waiting).gte(0)))
                    .check((
                        "slots_tickets",
                        Expr::col(Slots::Tickets).gte(Expr::col(Slots::Waiting)),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_slots_stop")
                            .from(Slots::Table, Slots::StopId)
                            .to(Stops::Table, Stops::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_slots_tour")
                            .from(Slots::Table, Slots::TourId)
                            .to(Tours::Table, Tours::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_slots_organisation")
                            .from(Slots::Table, Slots::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_slots_position")
                            .from(Slots::Table, Slots::PositionId)
                            .to(Positions::Table, Positions::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_slots_stop_time",
            Slots::Table,
            [Slots::StopId, Slots::StartsAt],
        )
        .await?;
        index(manager, "idx_slots_organisation", Slots::Table, [Slots::OrganisationId]).await?;
        index(manager, "idx_slots_position", Slots::Table, [Slots::PositionId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Bookings::Table)
                    .col(uuid(Bookings::Id).primary_key())
                    // Null once the slot is deleted: the cancelled booking stays, with its reason.
                    .col(uuid_null(Bookings::SlotId))
                    .col(uuid(Bookings::ApplicationId))
                    .col(text(Bookings::Status))
                    .col(timestamp_with_time_zone(Bookings::SlotStartsAt))
                    .col(timestamp_with_time_zone(Bookings::CreatedAt))
                    .col(timestamp_with_time_zone_null(Bookings::CancelledAt))
                    .col(text_null(Bookings::CancelReason))
                    .check(("bookings_status", one_of(Bookings::Status, &["active", "cancelled"])))
                    .check(("bookings_cancel_reason", one_of(Bookings::CancelReason, CANCEL_REASONS)))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bookings_slot")
                            .from(Bookings::Table, Bookings::SlotId)
                            .to(Slots::Table, Slots::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bookings_application")
                            .from(Bookings::Table, Bookings::ApplicationId)
                            .to(Applications::Table, Applications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_bookings_slot",
            Bookings::Table,
            [Bookings::SlotId, Bookings::Status],
        )
        .await?;
        index(
            manager,
            "idx_bookings_application",
            Bookings::Table,
            [Bookings::ApplicationId],
        )
        .await?;
        // One active booking per application, whatever races: a partial unique index (the same
        // statement on both backends).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_bookings_active_application ON bookings (application_id) \
                 WHERE status = 'active'",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WaitingPlaces::Table)
                    .col(uuid(WaitingPlaces::Id).primary_key())
                    .col(uuid(WaitingPlaces::SlotId))
                    // One line at a time per application.
                    .col(uuid(WaitingPlaces::ApplicationId).unique_key())
                    .col(integer(WaitingPlaces::Ticket))
                    .col(timestamp_with_time_zone(WaitingPlaces::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waiting_places_slot")
                            .from(WaitingPlaces::Table, WaitingPlaces::SlotId)
                            .to(Slots::Table, Slots::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_waiting_places_application")
                            .from(WaitingPlaces::Table, WaitingPlaces::ApplicationId)
                            .to(Applications::Table, Applications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // No two candidates share a ticket: the line's order is total.
        manager
            .create_index(
                Index::create()
                    .name("uq_waiting_places_ticket")
                    .table(WaitingPlaces::Table)
                    .col(WaitingPlaces::SlotId)
                    .col(WaitingPlaces::Ticket)
                    .unique()
                    .to_owned(),
            )
            .await?;
        no_overlap(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Sqlite {
            let db = manager.get_connection();
            for trigger in ["slots_no_overlap_insert", "slots_no_overlap_update"] {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {trigger}"))
                    .await?;
            }
        }
        for table in [
            WaitingPlaces::Table.into_iden(),
            Bookings::Table.into_iden(),
            Slots::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// One employer interviews one candidate at a time at a stop: its slots there never overlap.
/// The API checks it under the stop's tour lock and names the other slot; the database enforces
/// it too, as for stops (PostgreSQL: an exclusion constraint; SQLite: triggers).
async fn no_overlap(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared(
                "ALTER TABLE slots ADD CONSTRAINT slots_no_overlap EXCLUDE USING gist \
                 (stop_id WITH =, organisation_id WITH =, tstzrange(starts_at, ends_at) WITH &&)",
            )
            .await?;
        }
        DbBackend::Sqlite => {
            for (name, event, other) in [
                ("slots_no_overlap_insert", "INSERT", ""),
                (
                    "slots_no_overlap_update",
                    "UPDATE OF stop_id, organisation_id, starts_at, ends_at",
                    "AND s.id <> NEW.id",
                ),
            ] {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {name} BEFORE {event} ON slots \
                     WHEN EXISTS (SELECT 1 FROM slots s WHERE s.stop_id = NEW.stop_id \
                     AND s.organisation_id = NEW.organisation_id {other} \
                     AND s.starts_at < NEW.ends_at AND NEW.starts_at < s.ends_at) \
                     BEGIN SELECT RAISE(ABORT, 'slots_no_overlap'); END"
                ))
                .await?;
            }
        }
        _ => {}
    }
    Ok(())
}
