//! The words of a job-board search (`q`): what a candidate typed, cut into words the database
//! can look up, and the French stems both a search and a position's text are reduced to where
//! the database does not do it itself. PostgreSQL reads "conseiller" and "Conseillère" alike
//! (`unaccent`, then its `french` configuration's stop words and Snowball stemmer); SQLite's
//! FTS5 knows neither, so the same steps are taken here, for the search and for the index:
//! [`SearchTerms::stems`] and [`index_stems`].

use crate::error::Invalid;
use rust_stemmers::{Algorithm, Stemmer};
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The words of a search, lower-cased, in the order typed, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms(Vec<String>);

impl SearchTerms {
    /// Longest `q` accepted.
    pub const MAX_LEN: usize = 200;
    /// Most words looked up; the rest are ignored.
    pub const MAX_WORDS: usize = 8;

    /// Splits on anything that is neither a letter nor a digit (spaces, apostrophes, hyphens,
    /// punctuation: the characters of a search syntax are never passed on) and drops
    /// one-character words (the `l` of "l'équipe"). `None` when `q` is blank: no search.
    pub fn parse(raw: &str) -> Result<Option<Self>, Invalid> {
        if raw.chars().count() > Self::MAX_LEN {
            return Err(Invalid::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if raw.trim().is_empty() {
            return Ok(None);
        }
        let mut words: Vec<String> = Vec::new();
        for word in raw.split(|c: char| !c.is_alphanumeric()) {
            let word = word.to_lowercase();
            if word.chars().count() > 1 && !words.contains(&word) && words.len() < Self::MAX_WORDS {
                words.push(word);
            }
        }
        Ok(Some(Self(words)))
    }

    /// The words; empty when `q` held none (a search that finds nothing).
    pub fn words(&self) -> &[String] {
        &self.0
    }

    /// The words unaccented, French stop words left out, stemmed, without repeats: each is
    /// looked up as the beginning of a stem of [`index_stems`] ("conseiller" → `conseil`,
    /// which begins `conseil` and `conseiller`, the stems of "conseils" and "Conseillère").
    /// Empty when only stop words were typed (as on PostgreSQL, such a search finds nothing).
    pub fn stems(&self) -> Vec<String> {
        let mut stems: Vec<String> = Vec::new();
        for stem in self.0.iter().filter_map(|w| stem(w)) {
            if !stems.contains(&stem) {
                stems.push(stem);
            }
        }
        stems
    }
}

/// The stems a text is found by: its words cut and lower-cased as a search's are (one-letter
/// words dropped: a search never looks them up), each reduced as [`SearchTerms::stems`]
/// reduces a typed word, in the text's order, repeats kept.
pub fn index_stems(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() > 1)
        .filter_map(|w| stem(&w))
        .collect()
}

/// A lower-case word unaccented and stemmed; `None` for a stop word.
fn stem(word: &str) -> Option<String> {
    let word = unaccent(word);
    (!FRENCH_STOP_WORDS.contains(&word.as_str())).then(|| STEMMER.stem(&word).into_owned())
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
    use proptest::prelude::*;

    fn words(q: &str) -> Vec<String> {
        SearchTerms::parse(q).unwrap().unwrap().words().to_vec()
    }

    fn stems(q: &str) -> Vec<String> {
        SearchTerms::parse(q).unwrap().unwrap().stems()
    }

    #[test]
    fn stems_are_unaccented_french_stems_without_stop_words() {
        assert_eq!(stems("Conseillère"), ["conseiller"]);
        assert_eq!(stems("conseiller conseil"), ["conseil"]);
        assert_eq!(stems("Télécom"), ["telecom"]);
        assert_eq!(stems("chargé de clientèle"), ["charg", "clientel"]);
        assert!(stems("de la du").is_empty());
        assert_eq!(unaccent("Œuvre été"), "Œuvre ete");
        assert_eq!(
            index_stems("Conseillère clientèle : l'accueil des clients, 35h."),
            ["conseiller", "clientel", "accueil", "client", "35h"]
        );
    }

    #[test]
    fn words_are_cut_on_anything_but_letters_and_digits() {
        assert_eq!(words("Conseiller clientèle"), ["conseiller", "clientèle"]);
        assert_eq!(words("l'équipe télécom-SAV"), ["équipe", "télécom", "sav"]);
        assert_eq!(words("a & b | !c:* 'd'"), Vec::<String>::new());
        assert_eq!(words("cdi cdi CDI 35h"), ["cdi", "35h"]);
        assert_eq!(SearchTerms::parse("   ").unwrap(), None);
        assert!(SearchTerms::parse(&"x".repeat(201)).is_err());
    }

    proptest! {
        #[test]
        fn words_are_plain_lowercase_alphanumerics(q in "\\PC{0,200}") {
            if let Some(terms) = SearchTerms::parse(&q).unwrap() {
                prop_assert!(terms.words().len() <= SearchTerms::MAX_WORDS);
                for w in terms.words() {
                    prop_assert!(w.chars().count() > 1);
                    prop_assert!(w.chars().all(char::is_alphanumeric));
                    prop_assert_eq!(w.to_lowercase(), w.clone());
                }
            }
        }

        /// Whatever the text, a search of any of its words finds it: each stem of the search
        /// is a stem of the text (and so begins one).
        #[test]
        fn a_text_is_found_by_each_of_its_words(text in "\\PC{0,120}") {
            let indexed = index_stems(&text);
            if let Some(terms) = SearchTerms::parse(&text).unwrap() {
                for stem in terms.stems() {
                    prop_assert!(indexed.contains(&stem), "{stem} not in {indexed:?}");
                }
            }
        }
    }
}
