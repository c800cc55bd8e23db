//! Search words as each database's full-text engine wants them. PostgreSQL does the French
//! work itself (`unaccent`, then the `french` configuration's stop words and Snowball stemmer);
//! for SQLite's FTS5, which knows neither, the same steps are taken here, so that a plain word
//! finds the same positions on both: "conseiller" finds "Conseillère", "telecom" finds
//! "Télécom", "conseillère" finds "conseiller".

use jobtour_domain::search::SearchTerms;
use rust_stemmers::{Algorithm, Stemmer};
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A `to_tsquery` text: every word, as a prefix, all required (`conseiller:* & metz:*`). The
/// words are letters and digits only, so nothing in them is query syntax.
pub fn tsquery(terms: &SearchTerms) -> Option<String> {
    let words: Vec<String> = terms.words().iter().map(|w| format!("{w}:*")).collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

/// An FTS5 query: every word that is not a French stop word, unaccented and stemmed, as a
/// quoted prefix, all required (`"conseil"* "metz"*`). `None` when no word is left (as on
/// PostgreSQL, a search of stop words only finds nothing).
pub fn fts5_query(terms: &SearchTerms) -> Option<String> {
    let words: Vec<String> = terms
        .words()
        .iter()
        .map(|w| unaccent(w))
        .filter(|w| !FRENCH_STOP_WORDS.contains(&w.as_str()))
        .map(|w| format!("\"{}\"*", STEMMER.stem(&w)))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::French));

/// Letters without their accents, as PostgreSQL's `unaccent` and FTS5's `remove_diacritics`
/// make them.
fn unaccent(word: &str) -> String {
    word.nfd().filter(|c| !is_combining_mark(*c)).collect()
}

/// PostgreSQL's French stop words (`tsearch_data/french.stop`, from the Snowball project). Like
/// PostgreSQL, they are compared with the word once unaccented: "ete" is no stop word there.
const FRENCH_STOP_WORDS: &[&str] = &[
    "au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "elle", "en", "et", "eux", "il", "je", "la", "le",
    "leur", "lui", "ma", "mais", "me", "même", "mes", "moi", "mon", "ne", "nos", "notre", "nous", "on", "ou", "par",
    "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son", "sur", "ta", "te", "tes", "toi", "ton", "tu", "un",
    "une", "vos", "votre", "vous", "c", "d", "j", "l", "à", "m", "n", "s", "t", "y", "été", "étée", "étées", "étés",
    "étant", "étante", "étants", "étantes", "suis", "es", "est", "sommes", "êtes", "sont", "serai", "seras", "sera",
    "serons", "serez", "seront", "serais", "serait", "serions", "seriez", "seraient", "étais", "était", "étions",
    "étiez", "étaient", "fus", "fut", "fûmes", "fûtes", "furent", "sois", "soit", "soyons", "soyez", "soient", "fusse",
    "fusses", "fût", "fussions", "fussiez", "fussent", "ayant", "ayante", "ayantes", "ayants", "eu", "eue", "eues",
    "eus", "ai", "as", "avons", "avez", "ont", "aurai", "auras", "aura", "aurons", "aurez", "auront", "aurais",
    "aurait", "aurions", "auriez", "auraient", "avais", "avait", "avions", "aviez", "avaient", "eut", "eûmes", "eûtes",
    "eurent", "aie", "aies", "ait", "ayons", "ayez", "aient", "eusse", "eusses", "eût", "eussions", "eussiez",
    "eussent",
];

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
    fn sqlite_gets_the_same_words_unaccented_and_stemmed() {
        assert_eq!(fts5_query(&terms("Conseillère")).as_deref(), Some("\"conseiller\"*"));
        assert_eq!(fts5_query(&terms("conseiller")).as_deref(), Some("\"conseil\"*"));
        assert_eq!(fts5_query(&terms("Télécom")).as_deref(), Some("\"telecom\"*"));
        assert_eq!(
            fts5_query(&terms("chargé de clientèle")).as_deref(),
            Some("\"charg\"* \"clientel\"*")
        );
        assert_eq!(fts5_query(&terms("de la du")), None);
        assert_eq!(unaccent("Œuvre été"), "Œuvre ete");
    }
}
