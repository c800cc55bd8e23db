//! Open positions (with the stops where the employer meets candidates and a full-text index),
//! applications with their status history, and the idempotency records of `POST`s that
//! honour `Idempotency-Key`.

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
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Positions {
    Table,
    Id,
    OrganisationId,
    TourId,
    Title,
    Description,
    ContractType,
    WorkingTime,
    City,
    Postcode,
    Sector,
    Openings,
    Filled,
    SalaryMin,
    SalaryMax,
    SalaryPeriod,
    Status,
    ClosesOn,
    ClosesAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PositionStops {
    Table,
    PositionId,
    StopId,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    PositionId,
    TourId,
    OrganisationId,
    FirstName,
    LastName,
    Email,
    Phone,
    Message,
    PreferredStopId,
    ConsentAt,
    PrivacyNoticeVersion,
    Status,
    Source,
    TokenHash,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApplicationEvents {
    Table,
    Id,
    ApplicationId,
    FromStatus,
    ToStatus,
    ByKind,
    ByUserId,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Scope,
    KeyHash,
    Fingerprint,
    State,
    StatusCode,
    Location,
    Etag,
    Body,
    SecretSalt,
    CreatedAt,
    ExpiresAt,
}

// The wire names as `jobtour_domain` knew them when this migration was written.
const CONTRACT_TYPES: &[&str] = &["cdi", "cdd", "interim", "apprenticeship", "internship"];
const WORKING_TIMES: &[&str] = &["full_time", "part_time"];
const SALARY_PERIODS: &[&str] = &["hour", "month", "year"];
const POSITION_STATUSES: &[&str] = &["draft", "open", "filled", "closed"];
const APPLICATION_STATUSES: &[&str] = &[
    "submitted",
    "screening",
    "interview",
    "offered",
    "hired",
    "rejected",
    "withdrawn",
];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        positions(manager).await?;
        applications(manager).await?;
        idempotency_keys(manager).await?;
        full_text_search(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                for trigger in ["positions_fts_insert", "positions_fts_update", "positions_fts_delete"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {trigger}"))
                        .await?;
                }
                db.execute_unprepared("DROP TABLE IF EXISTS positions_fts").await?;
                db.execute_unprepared("DROP TABLE IF EXISTS position_search").await?;
            }
            DbBackend::Postgres => {
                db.execute_unprepared("ALTER TABLE positions DROP COLUMN IF EXISTS search")
                    .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS jobtour_unaccent(text)")
                    .await?;
            }
            _ => {}
        }
        for table in [
            IdempotencyKeys::Table.into_iden(),
            ApplicationEvents::Table.into_iden(),
            Applications::Table.into_iden(),
            PositionStops::Table.into_iden(),
            Positions::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

async fn positions(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Positions::Table)
                .col(uuid(Positions::Id).primary_key())
                .col(uuid(Positions::OrganisationId))
                .col(uuid(Positions::TourId))
                .col(text(Positions::Title))
                .col(text_null(Positions::Description))
                .col(text(Positions::ContractType))
                .col(text(Positions::WorkingTime))
                .col(text(Positions::City))
                .col(text_null(Positions::Postcode))
                .col(text_null(Positions::Sector))
                .col(integer(Positions::Openings))
                // Hires so far: only the hiring transaction changes it.
                .col(integer(Positions::Filled))
                .col(integer_null(Positions::SalaryMin))
                .col(integer_null(Positions::SalaryMax))
                .col(text_null(Positions::SalaryPeriod))
                .col(text(Positions::Status))
                .col(date_null(Positions::ClosesOn))
                // The end of `closes_on` in the tour's time zone, for comparisons with now.
                .col(timestamp_with_time_zone_null(Positions::ClosesAt))
                .col(integer(Positions::Version))
                .col(timestamp_with_time_zone(Positions::CreatedAt))
                .col(timestamp_with_time_zone(Positions::UpdatedAt))
                .check((
                    "positions_contract_type",
                    one_of(Positions::ContractType, CONTRACT_TYPES),
                ))
                .check(("positions_working_time", one_of(Positions::WorkingTime, WORKING_TIMES)))
                .check((
                    "positions_salary_period",
                    one_of(Positions::SalaryPeriod, SALARY_PERIODS),
                ))
                .check(("positions_status", one_of(Positions::Status, POSITION_STATUSES)))
                .check(("positions_openings", Expr::col(Positions::Openings).between(1, 10_000)))
                // Never more hires than openings, whatever the application code does.
                .check((
                    "positions_filled",
                    Expr::col(Positions::Filled)
                        .gte(0)
                        .and(Expr::col(Positions::Filled).lte(Expr::col(Positions::Openings))),
                ))
                .check((
                    "positions_salary_range",
                    Expr::col(Positions::SalaryMin).lte(Expr::col(Positions::SalaryMax)),
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_positions_organisation")
                        .from(Positions::Table, Positions::OrganisationId)
                        .to(Organisations::Table, Organisations::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_positions_tour")
                        .from(Positions::Table, Positions::TourId)
                        .to(Tours::Table, Tours::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
    // Every list filter, each with the id so that "newest first" pages are index scans.
    for (name, column) in [
        ("idx_positions_tour", Positions::TourId),
        ("idx_positions_organisation", Positions::OrganisationId),
        ("idx_positions_status", Positions::Status),
        ("idx_positions_contract_type", Positions::ContractType),
        ("idx_positions_working_time", Positions::WorkingTime),
        ("idx_positions_city", Positions::City),
        ("idx_positions_sector", Positions::Sector),
    ] {
        index(
            manager,
            name,
            Positions::Table,
            [column.into_iden(), Positions::Id.into_iden()],
        )
        .await?;
    }

    manager
        .create_table(
            Table::create()
                .table(PositionStops::Table)
                .col(uuid(PositionStops::PositionId))
                .col(uuid(PositionStops::StopId))
                .primary_key(
                    Index::create()
                        .col(PositionStops::PositionId)
                        .col(PositionStops::StopId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_position_stops_position")
                        .from(PositionStops::Table, PositionStops::PositionId)
                        .to(Positions::Table, Positions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_position_stops_stop")
                        .from(PositionStops::Table, PositionStops::StopId)
                        .to(Stops::Table, Stops::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_position_stops_stop",
        PositionStops::Table,
        [PositionStops::StopId, PositionStops::PositionId],
    )
    .await
}

async fn applications(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Applications::Table)
                .col(uuid(Applications::Id).primary_key())
                .col(uuid(Applications::PositionId))
                // The position's tour and employer, copied (a position never changes either):
                // the pipeline and the figures filter and group on them.
                .col(uuid(Applications::TourId))
                .col(uuid(Applications::OrganisationId))
                // Personal data: nullable, so that erasure can clear it and keep the row.
                .col(text_null(Applications::FirstName))
                .col(text_null(Applications::LastName))
                // Lower-cased: the unique index is case-insensitive.
                .col(text_null(Applications::Email))
                .col(text_null(Applications::Phone))
                .col(text_null(Applications::Message))
                .col(uuid_null(Applications::PreferredStopId))
                .col(timestamp_with_time_zone(Applications::ConsentAt))
                .col(text(Applications::PrivacyNoticeVersion))
                .col(text(Applications::Status))
                .col(text(Applications::Source))
                // SHA-256 of the candidate's access token, hex.
                .col(text_null(Applications::TokenHash).unique_key())
                .col(integer(Applications::Version))
                .col(timestamp_with_time_zone(Applications::CreatedAt))
                .col(timestamp_with_time_zone(Applications::UpdatedAt))
                .check((
                    "applications_status",
                    one_of(Applications::Status, APPLICATION_STATUSES),
                ))
                .check(("applications_source", one_of(Applications::Source, &["web", "walk_in"])))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_applications_position")
                        .from(Applications::Table, Applications::PositionId)
                        .to(Positions::Table, Positions::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_applications_tour")
                        .from(Applications::Table, Applications::TourId)
                        .to(Tours::Table, Tours::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_applications_organisation")
                        .from(Applications::Table, Applications::OrganisationId)
                        .to(Organisations::Table, Organisations::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_applications_preferred_stop")
                        .from(Applications::Table, Applications::PreferredStopId)
                        .to(Stops::Table, Stops::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
    // One application per e-mail per position, enforced here rather than by a read first.
    manager
        .create_index(
            Index::create()
                .name("uq_applications_position_email")
                .table(Applications::Table)
                .col(Applications::PositionId)
                .col(Applications::Email)
                .unique()
                .to_owned(),
        )
        .await?;
    for (name, column) in [
        ("idx_applications_position", Applications::PositionId),
        ("idx_applications_tour", Applications::TourId),
        ("idx_applications_organisation", Applications::OrganisationId),
        ("idx_applications_preferred_stop", Applications::PreferredStopId),
        ("idx_applications_status", Applications::Status),
    ] {
        index(
            manager,
            name,
            Applications::Table,
            [column.into_iden(), Applications::Id.into_iden()],
        )
        .await?;
    }

    manager
        .create_table(
            Table::create()
                .table(ApplicationEvents::Table)
                .col(uuid(ApplicationEvents::Id).primary_key())
                .col(uuid(ApplicationEvents::ApplicationId))
                .col(text_null(ApplicationEvents::FromStatus))
                .col(text(ApplicationEvents::ToStatus))
                .col(text(ApplicationEvents::ByKind))
                .col(uuid_null(ApplicationEvents::ByUserId))
                .col(text_null(ApplicationEvents::Note))
                .col(timestamp_with_time_zone(ApplicationEvents::CreatedAt))
                .check((
                    "application_events_to",
                    one_of(ApplicationEvents::ToStatus, APPLICATION_STATUSES),
                ))
                .check((
                    "application_events_by",
                    one_of(ApplicationEvents::ByKind, &["staff", "candidate"]),
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_application_events_application")
                        .from(ApplicationEvents::Table, ApplicationEvents::ApplicationId)
                        .to(Applications::Table, Applications::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_application_events_user")
                        .from(ApplicationEvents::Table, ApplicationEvents::ByUserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_application_events_application",
        ApplicationEvents::Table,
        [ApplicationEvents::ApplicationId, ApplicationEvents::Id],
    )
    .await
}

async fn idempotency_keys(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                // The operation, e.g. `createApplication`.
                .col(text(IdempotencyKeys::Scope))
                // SHA-256 of the client's key, hex: the key itself is not kept.
                .col(text(IdempotencyKeys::KeyHash))
                // SHA-256 of the request (path and canonical body).
                .col(text(IdempotencyKeys::Fingerprint))
                .col(text(IdempotencyKeys::State))
                .col(integer_null(IdempotencyKeys::StatusCode))
                .col(text_null(IdempotencyKeys::Location))
                .col(text_null(IdempotencyKeys::Etag))
                // The answer, without any secret in it.
                .col(text_null(IdempotencyKeys::Body))
                // Salt for secrets re-derived from the client's key on replay.
                .col(text(IdempotencyKeys::SecretSalt))
                .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                .col(timestamp_with_time_zone(IdempotencyKeys::ExpiresAt))
                .primary_key(
                    Index::create()
                        .col(IdempotencyKeys::Scope)
                        .col(IdempotencyKeys::KeyHash),
                )
                .check((
                    "idempotency_keys_state",
                    one_of(IdempotencyKeys::State, &["in_flight", "done"]),
                ))
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_idempotency_keys_expires",
        IdempotencyKeys::Table,
        [IdempotencyKeys::ExpiresAt],
    )
    .await
}

/// Full-text search over a position's title and description, French, blind to accents and
/// case. Each backend in its own way (the portable twin of one feature):
/// - PostgreSQL: a stored, generated `tsvector` (French configuration over `unaccent`, wrapped
///   in an immutable function as a generated column requires; the title weighs more than the
///   description) with a GIN index;
/// - SQLite: an FTS5 table (`unicode61`, diacritics removed) kept in step by triggers, keyed
///   through `position_search`, which gives each position a stable integer rowid (a table
///   without an integer primary key may see its rowids renumbered by `VACUUM`).
async fn full_text_search(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            for sql in [
                "CREATE EXTENSION IF NOT EXISTS unaccent",
                "CREATE OR REPLACE FUNCTION jobtour_unaccent(text) RETURNS text \
                 LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT \
                 AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$",
                "ALTER TABLE positions ADD COLUMN search tsvector GENERATED ALWAYS AS ( \
                 setweight(to_tsvector('french', jobtour_unaccent(title)), 'A') || \
                 setweight(to_tsvector('french', jobtour_unaccent(coalesce(description, ''))), 'B') \
                 ) STORED",
                "CREATE INDEX idx_positions_search ON positions USING gin (search)",
            ] {
                db.execute_unprepared(sql).await?;
            }
        }
        DbBackend::Sqlite => {
            for sql in [
                "CREATE TABLE position_search (rowid INTEGER PRIMARY KEY, position_id BLOB NOT NULL UNIQUE)",
                "CREATE VIRTUAL TABLE positions_fts USING fts5(title, description, \
                 tokenize = 'unicode61 remove_diacritics 2')",
                "CREATE TRIGGER positions_fts_insert AFTER INSERT ON positions BEGIN \
                 INSERT INTO position_search (position_id) VALUES (NEW.id); \
                 INSERT INTO positions_fts (rowid, title, description) VALUES \
                 ((SELECT rowid FROM position_search WHERE position_id = NEW.id), NEW.title, coalesce(NEW.description, '')); \
                 END",
                "CREATE TRIGGER positions_fts_update AFTER UPDATE OF title, description ON positions BEGIN \
                 UPDATE positions_fts SET title = NEW.title, description = coalesce(NEW.description, '') \
                 WHERE rowid = (SELECT rowid FROM position_search WHERE position_id = NEW.id); \
                 END",
                "CREATE TRIGGER positions_fts_delete AFTER DELETE ON positions BEGIN \
                 DELETE FROM positions_fts WHERE rowid = (SELECT rowid FROM position_search WHERE position_id = OLD.id); \
                 DELETE FROM position_search WHERE position_id = OLD.id; \
                 END",
            ] {
                db.execute_unprepared(sql).await?;
            }
        }
        _ => {}
    }
    Ok(())
}
