//! Search words as each database's full-text engine wants them, and SQLite's index of
//! positions. PostgreSQL does the French work itself (`unaccent`, then the `french`
//! configuration's stop words and Snowball stemmer, over a generated `tsvector`). For SQLite's
//! FTS5, which knows neither, jobtour indexes a position's text as its stems (see
//! [`jobtour_domain::search`]) and keeps every stem it ever indexed in a vocabulary
//! (`search_terms`), so that a plain word finds the same positions on both: "conseiller" finds
//! "Conseillère", "telecom" finds "Télécom", "conseillère" finds "conseiller".
//!
//! A typed word is looked up as the beginning of a stem. FTS5 answers a prefix query
//! (`"conseil"*`) by gathering every match of every term it begins before it hands out the
//! first (20–70 ms over a million positions for a common word); the same words as a list of
//! whole terms (`"conseil" OR "conseiller"`), found in the vocabulary first, are read newest
//! first and stop after a page (about 1 ms).

use jobtour_domain::search::{SearchTerms, index_stems};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use uuid::Uuid;

/// A `to_tsquery` text: every word, as a prefix, all required (`conseiller:* & metz:*`). The
/// words are letters and digits only, so nothing in them is query syntax.
pub fn tsquery(terms: &SearchTerms) -> Option<String> {
    let words: Vec<String> = terms.words().iter().map(|w| format!("{w}:*")).collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

/// Most terms of the vocabulary a typed word is replaced by; a word that begins more (a short
/// one: "co") is left to FTS5 as a prefix, which finds the same positions, more slowly.
const MOST_TERMS: usize = 200;

/// SQLite: the FTS5 query of a search: for each stem of [`SearchTerms::stems`], the terms of
/// the vocabulary it begins (`("conseil" OR "conseiller")`), all required. `None` when the
/// search can find nothing: no word left once stop words are gone, or a word that begins no
/// indexed term.
pub async fn fts5_query(db: &impl ConnectionTrait, terms: &SearchTerms) -> Result<Option<String>, DbErr> {
    let stems = terms.stems();
    if stems.is_empty() {
        return Ok(None);
    }
    let mut all = Vec::with_capacity(stems.len());
    for stem in stems {
        // Every text beginning with `stem` sorts between it and `stem` followed by the last
        // character there is.
        let last = format!("{stem}{}", char::MAX);
        let found = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT term FROM search_terms WHERE term >= ? AND term < ? ORDER BY term LIMIT ?",
                [stem.clone().into(), last.into(), (MOST_TERMS as i64 + 1).into()],
            ))
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<String>(0))
            .collect::<Result<Vec<_>, _>>()?;
        all.push(match found.len() {
            0 => return Ok(None),
            n if n > MOST_TERMS => format!("{}*", phrase(&stem)),
            _ => format!("({})", found.iter().map(|t| phrase(t)).collect::<Vec<_>>().join(" OR ")),
        });
    }
    Ok(Some(all.join(" AND ")))
}

/// An FTS5 string: whatever it holds, text and not query syntax.
fn phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// SQLite: indexes positions' titles and descriptions (`(id, title, description)`, inserted or
/// changed in this transaction) as their stems, in place of what was indexed before, and adds
/// the stems to the vocabulary. The vocabulary only grows: a term no longer indexed anywhere
/// costs a search nothing but its mention.
pub async fn index(db: &impl ConnectionTrait, positions: &[(Uuid, &str, Option<&str>)]) -> Result<(), DbErr> {
    let mut vocabulary = std::collections::BTreeSet::new();
    let mut rows = Vec::with_capacity(positions.len());
    for (id, title, description) in positions {
        let title = index_stems(title);
        let description = index_stems(description.unwrap_or_default());
        vocabulary.extend(title.iter().chain(&description).cloned());
        rows.push((*id, title.join(" "), description.join(" ")));
    }
    // Within SQLite's limit of bound values (32 766), with room to spare.
    for chunk in rows.chunks(1_000) {
        let values = vec!["(?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT OR REPLACE INTO positions_fts (rowid, title, description) \
             SELECT s.rowid, v.column2, v.column3 FROM (VALUES {values}) AS v \
             JOIN position_search s ON s.position_id = v.column1"
        );
        let params = chunk
            .iter()
            .flat_map(|(id, title, description)| [Value::from(*id), title.clone().into(), description.clone().into()]);
        db.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, sql, params))
            .await?;
    }
    let vocabulary: Vec<String> = vocabulary.into_iter().collect();
    for chunk in vocabulary.chunks(3_000) {
        let values = vec!["(?)"; chunk.len()].join(", ");
        let sql = format!("INSERT OR IGNORE INTO search_terms (term) VALUES {values}");
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql,
            chunk.iter().map(|t| Value::from(t.clone())),
        ))
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(q: &str) -> SearchTerms {
        SearchTerms::parse(q).unwrap().unwrap()
    }

    #[test]
    fn postgres_gets_prefixes_of_every_word() {
        assert_eq!(
            tsquery(&terms("Conseiller clientèle")).as_deref(),
            Some("conseiller:* & clientèle:*")
        );
        assert_eq!(tsquery(&terms("!!")), None);
    }

    #[test]
    fn an_fts5_string_is_never_syntax() {
        assert_eq!(phrase("conseil"), "\"conseil\"");
        assert_eq!(phrase("a\"b"), "\"a\"\"b\"");
    }
}
