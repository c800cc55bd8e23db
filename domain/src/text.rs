//! Bounded text, e-mail addresses, web addresses and passwords: the shapes of free input.

use crate::error::Invalid;
use serde::Serialize;

/// Trimmed text of `MIN..=MAX` characters with no control characters but newlines and tabs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    /// The upper bound counts the characters as sent, the lower bound those left after
    /// trimming: the same rule as the `maxLength` and non-blank pattern in the OpenAPI schema.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.chars().count() > MAX {
            return Err(Invalid::new("too_long", format!("must be at most {MAX} characters")));
        }
        let trimmed = raw.trim();
        let len = trimmed.chars().count();
        if len < MIN {
            return Err(if len == 0 {
                Invalid::new("blank", "needs at least one visible character")
            } else {
                Invalid::new("too_short", format!("must be at least {MIN} characters"))
            });
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(Invalid::new(
                "invalid_characters",
                "must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A name, a title, a city: one line, 1 to 200 characters.
pub type Name = Text<1, 200>;
/// A long description or note.
pub type LongText = Text<0, 10_000>;

/// An e-mail address, trimmed and lower-cased so that uniqueness is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Longest address SMTP can carry (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim().to_lowercase();
        let bad = || Invalid::new("invalid_email", "must be an e-mail address like name@example.org");
        if email.chars().count() > Self::MAX_LEN {
            return Err(Invalid::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        let (local, domain) = email.split_once('@').ok_or_else(bad)?;
        let local_ok = !local.is_empty() && local.len() <= 64 && !local.starts_with('.') && !local.ends_with('.');
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        let chars_ok = email
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[],;:\\\"".contains(c));
        if local_ok && domain_ok && chars_ok && !local.contains('@') {
            Ok(Self(email))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An absolute `http` or `https` address, such as an organisation's website.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WebUrl(String);

impl WebUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let url = raw.trim();
        let bad = || Invalid::new("invalid_url", "must be an http:// or https:// address");
        if url.len() > Self::MAX_LEN {
            return Err(Invalid::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(bad)?;
        // host[:port]; no user info, no bracketed literal (the OpenAPI pattern says the same).
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"[]@:".contains(c));
        let port_ok = port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
        if !host_ok || !port_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        Ok(Self(url.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A telephone number in E.164 form (`+33612345678`), parsed from what people type: a French
/// national number (`06 12 34 56 78`, `06.12.34.56.78`), an international one (`+44 20 7946
/// 0958`, `0044 20…`), or a French one written `+33 (0)6…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Longest input accepted, separators included.
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = || {
            Invalid::new(
                "invalid_phone",
                "must be a French number (06 12 34 56 78) or an international one (+33 6 12 34 56 78)",
            )
        };
        if raw.chars().count() > Self::MAX_LEN {
            return Err(Invalid::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        // The French habit of writing the trunk zero in brackets: +33 (0)6 12 34 56 78.
        let raw = raw.trim().replacen("(0)", "", 1);
        let (international, rest) = match raw.strip_prefix('+') {
            Some(rest) => (true, rest.to_owned()),
            None => match raw.strip_prefix("00") {
                Some(rest) => (true, rest.to_owned()),
                None => (false, raw),
            },
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '.' | '-' | '(' | ')' | '\u{a0}' => {}
                _ => return Err(bad()),
            }
        }
        let e164 = if international {
            digits
        } else {
            // A French national number: a trunk 0, then nine digits, the first of them 1 to 9.
            match digits.strip_prefix('0') {
                Some(national) if national.len() == 9 && !national.starts_with('0') => format!("33{national}"),
                _ => return Err(bad()),
            }
        };
        // E.164: a country code that does not start with 0, at most 15 digits in all.
        if !(8..=15).contains(&e164.len()) || e164.starts_with('0') {
            return Err(bad());
        }
        Ok(Self(format!("+{e164}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A staff password as typed: long enough to resist guessing, short enough to hash cheaply.
/// Never serialised, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub const MIN_LEN: usize = 10;
    pub const MAX_LEN: usize = 1024;

    /// Counts characters, not bytes; does not trim (spaces are part of a passphrase).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(Invalid::new(
                "too_short",
                format!("must be at least {} characters", Self::MIN_LEN),
            ));
        }
        if len > Self::MAX_LEN {
            return Err(Invalid::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Metz ").unwrap().as_str(), "Metz");
        assert_eq!(Name::parse("   ").unwrap_err().code, "blank");
        assert_eq!(Name::parse(&"x".repeat(201)).unwrap_err().code, "too_long");
        assert_eq!(Name::parse(&"é".repeat(200)).unwrap().as_str().chars().count(), 200);
        assert_eq!(
            Name::parse(&format!(" {}", "x".repeat(200))).unwrap_err().code,
            "too_long"
        );
        assert_eq!(Name::parse("a\u{0}b").unwrap_err().code, "invalid_characters");
        assert!(LongText::parse("").is_ok());
    }

    #[test]
    fn text_keeps_sql_looking_input_verbatim() {
        let raw = "Robert'); DROP TABLE organisations;--";
        assert_eq!(Name::parse(raw).unwrap().as_str(), raw);
    }

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Alice@Example.ORG ").unwrap().as_str(),
            "alice@example.org"
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.org",
            "alice@example",
            "a b@example.org",
            "a@b@example.org",
            "alice@exa_mple.org",
            "alice@-x.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.org", "a".repeat(65))).is_err());
        assert!(Email::parse("o'brien+jobs@crédit-lorrain.fr").is_ok());
    }

    #[test]
    fn web_url_needs_http_and_a_host() {
        assert!(WebUrl::parse("https://example.org/jobs").is_ok());
        assert!(WebUrl::parse("http://localhost:8080").is_ok());
        for bad in [
            "example.org",
            "ftp://example.org",
            "https://",
            "https:// example.org",
            "javascript:alert(1)",
        ] {
            assert!(WebUrl::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn phones_are_stored_in_e164() {
        for (raw, e164) in [
            ("06 12 34 56 78", "+33612345678"),
            ("06.12.34.56.78", "+33612345678"),
            ("0612345678", "+33612345678"),
            ("03-87-12-34-56", "+33387123456"),
            ("+33 6 12 34 56 78", "+33612345678"),
            ("+33 (0)6 12 34 56 78", "+33612345678"),
            ("0033612345678", "+33612345678"),
            ("+44 20 7946 0958", "+442079460958"),
            ("+352 621 123 456", "+352621123456"),
        ] {
            assert_eq!(Phone::parse(raw).unwrap().as_str(), e164, "{raw}");
        }
        for bad in [
            "",
            "06 12 34 56",
            "0000612345678",
            "6 12 34 56 78",
            "+0 6 12 34 56 78",
            "+33 6 12 34 56 78 90 12 34",
            "06 12 34 56 7a",
            "call me",
            "+",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    proptest::proptest! {
        #[test]
        fn french_numbers_in_any_common_format_become_e164(
            first in 1u8..=9,
            rest in proptest::collection::vec(0u8..=9, 8),
            sep in proptest::sample::select(vec!["", " ", ".", "-"]),
        ) {
            let digits: String = std::iter::once(first).chain(rest).map(|d| char::from(b'0' + d)).collect();
            let national = format!("0{digits}");
            let typed: Vec<String> = national.as_bytes().chunks(2).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
            let e164 = format!("+33{digits}");
            proptest::prop_assert_eq!(Phone::parse(&typed.join(sep)).unwrap().into_inner(), e164.clone());
            proptest::prop_assert_eq!(Phone::parse(&e164).unwrap().into_inner(), e164);
        }

        #[test]
        fn whatever_is_accepted_is_e164(raw in "[+0-9 ().-]{0,32}") {
            if let Ok(p) = Phone::parse(&raw) {
                let digits = &p.as_str()[1..];
                proptest::prop_assert!(p.as_str().starts_with('+'));
                proptest::prop_assert!((8..=15).contains(&digits.len()));
                proptest::prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0'));
                proptest::prop_assert_eq!(Phone::parse(p.as_str()).unwrap(), p.clone());
            }
        }
    }

    #[test]
    fn password_bounds_count_characters() {
        assert_eq!(Password::parse("short").unwrap_err().code, "too_short");
        assert!(Password::parse("ten chars!").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(1024)).is_ok());
        assert_eq!(Password::parse(&"x".repeat(1025)).unwrap_err().code, "too_long");
        assert_eq!(
            format!("{:?}", Password::parse("secret password").unwrap()),
            "Password(***)"
        );
    }
}
