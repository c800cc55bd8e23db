//! Tours, the organisations taking part in them, and their stops.

use crate::one_of;
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
    Name,
    Description,
    StartsOn,
    EndsOn,
    Timezone,
    Status,
    OrganiserOrganisationId,
    PositionsTarget,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TourPartners {
    Table,
    TourId,
    OrganisationId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Stops {
    Table,
    Id,
    TourId,
    City,
    Postcode,
    Venue,
    Address,
    Latitude,
    Longitude,
    ArrivesAt,
    DepartsAt,
    Notes,
    Version,
    CreatedAt,
    UpdatedAt,
}

/// The roles an organisation can play in a tour, as `jobtour_domain::tour::PartnerRole` knew them then.
const PARTNER_ROLES: &[&str] = &[
    "employer",
    "sponsor",
    "public_agency",
    "local_authority",
    "university",
    "host",
    "organiser",
    "other",
];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tours::Table)
                    .col(uuid(Tours::Id).primary_key())
                    .col(text(Tours::Name))
                    .col(text_null(Tours::Description))
                    .col(date(Tours::StartsOn))
                    .col(date(Tours::EndsOn))
                    .col(text(Tours::Timezone))
                    .col(text(Tours::Status))
                    .col(uuid(Tours::OrganiserOrganisationId))
                    .col(integer(Tours::PositionsTarget))
                    .col(integer(Tours::Version))
                    .col(timestamp_with_time_zone(Tours::CreatedAt))
                    .col(timestamp_with_time_zone(Tours::UpdatedAt))
                    .check((
                        "tours_status",
                        one_of(Tours::Status, &["draft", "published", "completed", "cancelled"]),
                    ))
                    .check(("tours_dates", Expr::col(Tours::EndsOn).gte(Expr::col(Tours::StartsOn))))
                    .check(("tours_positions_target", Expr::col(Tours::PositionsTarget).gte(0)))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tours_organiser")
                            .from(Tours::Table, Tours::OrganiserOrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tours_organiser")
                    .table(Tours::Table)
                    .col(Tours::OrganiserOrganisationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TourPartners::Table)
                    .col(uuid(TourPartners::TourId))
                    .col(uuid(TourPartners::OrganisationId))
                    .col(text(TourPartners::Role))
                    .col(timestamp_with_time_zone(TourPartners::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(TourPartners::TourId)
                            .col(TourPartners::OrganisationId),
                    )
                    .check(("tour_partners_role", one_of(TourPartners::Role, PARTNER_ROLES)))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tour_partners_tour")
                            .from(TourPartners::Table, TourPartners::TourId)
                            .to(Tours::Table, Tours::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tour_partners_organisation")
                            .from(TourPartners::Table, TourPartners::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tour_partners_organisation")
                    .table(TourPartners::Table)
                    .col(TourPartners::OrganisationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Stops::Table)
                    .col(uuid(Stops::Id).primary_key())
                    .col(uuid(Stops::TourId))
                    .col(text(Stops::City))
                    .col(text_null(Stops::Postcode))
                    .col(text_null(Stops::Venue))
                    .col(text_null(Stops::Address))
                    .col(double(Stops::Latitude))
                    .col(double(Stops::Longitude))
                    .col(timestamp_with_time_zone(Stops::ArrivesAt))
                    .col(timestamp_with_time_zone(Stops::DepartsAt))
                    .col(text_null(Stops::Notes))
                    .col(integer(Stops::Version))
                    .col(timestamp_with_time_zone(Stops::CreatedAt))
                    .col(timestamp_with_time_zone(Stops::UpdatedAt))
                    .check((
                        "stops_times",
                        Expr::col(Stops::DepartsAt).gt(Expr::col(Stops::ArrivesAt)),
                    ))
                    .check(("stops_latitude", Expr::col(Stops::Latitude).between(-90.0, 90.0)))
                    .check(("stops_longitude", Expr::col(Stops::Longitude).between(-180.0, 180.0)))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stops_tour")
                            .from(Stops::Table, Stops::TourId)
                            .to(Tours::Table, Tours::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_stops_tour_time")
                    .table(Stops::Table)
                    .col(Stops::TourId)
                    .col(Stops::ArrivesAt)
                    .to_owned(),
            )
            .await?;
        no_overlap(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Sqlite {
            let db = manager.get_connection();
            db.execute_unprepared("DROP TRIGGER IF EXISTS stops_no_overlap_insert")
                .await?;
            db.execute_unprepared("DROP TRIGGER IF EXISTS stops_no_overlap_update")
                .await?;
        }
        for table in [
            Stops::Table.into_iden(),
            TourPartners::Table.into_iden(),
            Tours::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// One bus: two stops of a tour never overlap. The API checks it under the tour's row lock and
/// names the other stop; the database enforces it too, each backend in its own way (the one
/// place this migration set speaks two dialects):
/// - PostgreSQL: an exclusion constraint over half-open `[arrives_at, departs_at)` ranges
///   (`btree_gist` is a trusted extension: a database owner may create it);
/// - SQLite: triggers that abort an insert or an update that would overlap (instants are
///   RFC 3339 UTC text, which compares in time order).
async fn no_overlap(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS btree_gist")
                .await?;
            db.execute_unprepared(
                "ALTER TABLE stops ADD CONSTRAINT stops_no_overlap \
                 EXCLUDE USING gist (tour_id WITH =, tstzrange(arrives_at, departs_at) WITH &&)",
            )
            .await?;
        }
        DbBackend::Sqlite => {
            for (name, event, other) in [
                ("stops_no_overlap_insert", "INSERT", ""),
                (
                    "stops_no_overlap_update",
                    "UPDATE OF tour_id, arrives_at, departs_at",
                    "AND s.id <> NEW.id",
                ),
            ] {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {name} BEFORE {event} ON stops \
                     WHEN EXISTS (SELECT 1 FROM stops s WHERE s.tour_id = NEW.tour_id {other} \
                     AND s.arrives_at < NEW.departs_at AND NEW.arrives_at < s.departs_at) \
                     BEGIN SELECT RAISE(ABORT, 'stops_no_overlap'); END"
                ))
                .await?;
            }
        }
        _ => {}
    }
    Ok(())
}
