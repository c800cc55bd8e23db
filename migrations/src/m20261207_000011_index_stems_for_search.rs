//! SQLite's search index holds a position's stems, not its words, beside a vocabulary of every
//! stem indexed (`search_terms`). A search then replaces each typed word by the terms of the
//! vocabulary it begins and FTS5 reads their matches newest first, stopping after a page; a
//! prefix query over the words made FTS5 gather every match of a common word before answering
//! (see `api/src/repo/search.rs`). The stems are made in Rust (SQLite has no French stemmer):
//! the application writes the index with a position, and this migration fills it once for the
//! positions already there. PostgreSQL is unchanged.

use jobtour_domain::search::index_stems;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DbBackend, Statement, Value};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Positions read and indexed at a time.
const BATCH: i64 = 1_000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        let db = manager.get_connection();
        for sql in [
            "DROP TRIGGER positions_fts_insert",
            "DROP TRIGGER positions_fts_update",
            "DROP TABLE positions_fts",
            // The stems are unaccented already: the tokenizer keeps them as they are.
            "CREATE VIRTUAL TABLE positions_fts USING fts5(title, description, \
             tokenize = 'unicode61 remove_diacritics 0')",
            "CREATE TABLE search_terms (term TEXT NOT NULL PRIMARY KEY) WITHOUT ROWID",
            // Each position's stable place in the index (`positions_fts_delete` still removes
            // both on delete).
            "CREATE TRIGGER position_search_insert AFTER INSERT ON positions BEGIN \
             INSERT INTO position_search (position_id) VALUES (NEW.id); \
             END",
        ] {
            db.execute_unprepared(sql).await?;
        }
        let mut after = 0_i64;
        loop {
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "SELECT s.rowid, p.title, coalesce(p.description, '') FROM position_search s \
                     JOIN positions p ON p.id = s.position_id WHERE s.rowid > ? ORDER BY s.rowid LIMIT ?",
                    [after.into(), BATCH.into()],
                ))
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get_by_index(0)?;
            let mut indexed = Vec::with_capacity(rows.len() * 3);
            let mut terms = std::collections::BTreeSet::new();
            for row in &rows {
                let rowid: i64 = row.try_get_by_index(0)?;
                let title = index_stems(&row.try_get_by_index::<String>(1)?);
                let description = index_stems(&row.try_get_by_index::<String>(2)?);
                terms.extend(title.iter().chain(&description).cloned());
                indexed.extend([Value::from(rowid), title.join(" ").into(), description.join(" ").into()]);
            }
            let values = vec!["(?, ?, ?)"; rows.len()].join(", ");
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!("INSERT INTO positions_fts (rowid, title, description) VALUES {values}"),
                indexed,
            ))
            .await?;
            if terms.is_empty() {
                continue;
            }
            let values = vec!["(?)"; terms.len()].join(", ");
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!("INSERT OR IGNORE INTO search_terms (term) VALUES {values}"),
                terms.into_iter().map(Value::from),
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        let db = manager.get_connection();
        for sql in [
            "DROP TRIGGER position_search_insert",
            "DROP TABLE search_terms",
            "DROP TABLE positions_fts",
            "CREATE VIRTUAL TABLE positions_fts USING fts5(title, description, \
             tokenize = 'unicode61 remove_diacritics 2')",
            "INSERT INTO positions_fts (rowid, title, description) \
             SELECT s.rowid, p.title, coalesce(p.description, '') FROM position_search s \
             JOIN positions p ON p.id = s.position_id",
            "CREATE TRIGGER positions_fts_insert AFTER INSERT ON positions BEGIN \
             INSERT INTO position_search (position_id) VALUES (NEW.id); \
             INSERT INTO positions_fts (rowid, title, description) VALUES \
             ((SELECT rowid FROM position_search WHERE position_id = NEW.id), NEW.title, coalesce(NEW.description, '')); \
             END",
            "CREATE TRIGGER positions_fts_update AFTER UPDATE OF title, description ON positions BEGIN \
             UPDATE positions_fts SET title = NEW.title, description = coalesce(NEW.description, '') \
             WHERE rowid = (SELECT rowid FROM position_search WHERE position_id = NEW.id); \
             END",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
