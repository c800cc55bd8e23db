//! A search index of positions' titles alone (PostgreSQL). A search answers title matches
//! first; with their own column the planner's statistics describe titles (a city's name is
//! common in descriptions and rare in titles), and the GIN index finds them without rechecking
//! every description match. SQLite's FTS5 table already indexes the title as its own column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for sql in [
            "ALTER TABLE positions ADD COLUMN search_title tsvector GENERATED ALWAYS AS ( \
             to_tsvector('french', jobtour_unaccent(title))) STORED",
            "CREATE INDEX idx_positions_search_title ON positions USING gin (search_title)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE positions DROP COLUMN search_title")
            .await?;
        Ok(())
    }
}
