//! One migration set for SQLite and PostgreSQL.
//!
//! Written with sea-query builders so that both backends get the same schema. The portable
//! choices: UUIDs (16-byte blobs on SQLite, `uuid` on PostgreSQL: both compare bytewise, so
//! UUIDv7 keys sort by creation time on both), timestamps with time zone (`timestamptz` on
//! PostgreSQL; RFC 3339 UTC text on SQLite, which sorts chronologically), text enums guarded by
//! CHECK constraints, and foreign keys declared inside `CREATE TABLE` (SQLite cannot add them
//! later).

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_organisations_and_users;
mod m20261122_000002_create_tours_and_stops;
mod m20261123_000003_create_positions_and_applications;
mod m20261124_000004_create_slots_and_bookings;
mod m20261124_000005_create_outbox_webhooks_and_audit;
mod m20261125_000006_create_write_quotas;
mod m20261207_000007_add_title_search;
mod m20261207_000008_create_checkins;
mod m20261207_000009_create_club_memberships;
mod m20261207_000010_create_enquiries;
mod m20261207_000011_index_stems_for_search;

/// The ordered list of migrations; `jobtour migrate` and `jobtour serve` apply what is pending.
#[derive(Debug)]
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_organisations_and_users::Migration),
            Box::new(m20261122_000002_create_tours_and_stops::Migration),
            Box::new(m20261123_000003_create_positions_and_applications::Migration),
            Box::new(m20261124_000004_create_slots_and_bookings::Migration),
            Box::new(m20261124_000005_create_outbox_webhooks_and_audit::Migration),
            Box::new(m20261125_000006_create_write_quotas::Migration),
            Box::new(m20261207_000007_add_title_search::Migration),
            Box::new(m20261207_000008_create_checkins::Migration),
            Box::new(m20261207_000009_create_club_memberships::Migration),
            Box::new(m20261207_000010_create_enquiries::Migration),
            Box::new(m20261207_000011_index_stems_for_search::Migration),
        ]
    }
}

/// `CHECK (column IN (...))`: the portable way to keep a text enum honest.
pub fn one_of<T: IntoIden + 'static>(column: T, values: &[&str]) -> Expr {
    Expr::col(column).is_in(values.iter().copied())
}

/// A plain index on `columns`, in that order.
pub async fn index<T, C>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr>
where
    T: IntoIden,
    C: IntoIndexColumn,
{
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    manager.create_index(index.to_owned()).await
}
