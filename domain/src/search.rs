//! The words of a job-board search (`q`): what a candidate typed, cut into words the database
//! can look up. Accents, case and French word endings are the database's business (it reads
//! "conseiller" and "Conseillère" alike); this only decides what counts as a word.

use crate::error::Invalid;

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(q: &str) -> Vec<String> {
        SearchTerms::parse(q).unwrap().unwrap().words().to_vec()
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
    }
}
