//! The check-in code a candidate shows at the bus: it names an application and its tour, and
//! nothing else (no name, no e-mail), signed with the server's key (HMAC-SHA256), so that a
//! scanner's server can tell a forged or damaged code from a real one without reading the
//! database. Whether the application is still active (not withdrawn, rejected or erased) is
//! the database's to say when the code is scanned.
//!
//! Form: `JT1.<application id and tour id, 32 bytes, base64url>.<first 16 bytes of the MAC,
//! base64url>` — 70 characters, a small QR code. 128 bits of MAC leave a forger one chance in
//! 2^128 per try.

use crate::error::Invalid;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use uuid::Uuid;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The version of the form; a later form gets another prefix.
const PREFIX: &str = "JT1";
/// How many bytes of the MAC the code carries.
const MAC_LEN: usize = 16;

/// What a check-in code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckinCode {
    pub application_id: Uuid,
    pub tour_id: Uuid,
}

impl CheckinCode {
    /// The code's text, signed with `key`.
    pub fn sign(&self, key: &[u8]) -> String {
        let payload = self.payload();
        let tag = mac(key, &payload).finalize().into_bytes();
        format!(
            "{PREFIX}.{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(&tag[..MAC_LEN])
        )
    }

    /// The application and tour a code names, if `key` signed it and nothing in it changed;
    /// `invalid_code` otherwise (forged, damaged, truncated, another form). The MAC is compared
    /// in constant time.
    pub fn verify(code: &str, key: &[u8]) -> Result<Self, Invalid> {
        let invalid = || Invalid::new("invalid_code", "not a check-in code of this campaign, or a damaged one");
        let mut parts = code.trim().split('.');
        let (Some(PREFIX), Some(payload), Some(tag), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        if payload.len() != 32 || tag.len() != MAC_LEN {
            return Err(invalid());
        }
        mac(key, &payload).verify_truncated_left(&tag).map_err(|_| invalid())?;
        let (application, tour) = payload.split_at(16);
        Ok(Self {
            application_id: Uuid::from_slice(application).map_err(|_| invalid())?,
            tour_id: Uuid::from_slice(tour).map_err(|_| invalid())?,
        })
    }

    fn payload(&self) -> [u8; 32] {
        let mut payload = [0u8; 32];
        payload[..16].copy_from_slice(self.application_id.as_bytes());
        payload[16..].copy_from_slice(self.tour_id.as_bytes());
        payload
    }
}

fn mac(key: &[u8], payload: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(PREFIX.as_bytes());
    mac.update(payload);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = b"a server key of thirty-two bytes";

    fn code() -> CheckinCode {
        CheckinCode {
            application_id: Uuid::now_v7(),
            tour_id: Uuid::now_v7(),
        }
    }

    #[test]
    fn a_signed_code_names_its_application_and_tour() {
        let c = code();
        let text = c.sign(KEY);
        assert_eq!(text.len(), 70, "{text}");
        assert!(text.starts_with("JT1."));
        assert_eq!(CheckinCode::verify(&text, KEY), Ok(c));
        assert_eq!(
            CheckinCode::verify(&format!(" {text}\n"), KEY),
            Ok(c),
            "a scanner's white space"
        );
    }

    #[test]
    fn another_key_or_another_form_is_refused() {
        let text = code().sign(KEY);
        let refused = |t: &str, key: &[u8]| CheckinCode::verify(t, key).unwrap_err().code;
        assert_eq!(refused(&text, b"another key"), "invalid_code");
        for bad in [
            "",
            "JT1",
            "JT1..",
            &text[..text.len() - 1],
            &text.replacen("JT1", "JT2", 1),
            &format!("{text}.x"),
            &text.replace('.', ":"),
        ] {
            assert_eq!(refused(bad, KEY), "invalid_code", "{bad:?}");
        }
    }

    #[test]
    fn a_code_carries_no_personal_data() {
        // Only the two ids: decoded, the payload is their bytes and nothing else.
        let c = code();
        let text = c.sign(KEY);
        let payload = URL_SAFE_NO_PAD.decode(text.split('.').nth(1).unwrap()).unwrap();
        assert_eq!(&payload[..16], c.application_id.as_bytes());
        assert_eq!(&payload[16..], c.tour_id.as_bytes());
    }

    proptest! {
        /// Any one character changed, anywhere, is refused.
        #[test]
        fn one_changed_character_is_refused(at in 0usize..70, by in proptest::char::range('-', 'z')) {
            let text = code().sign(KEY);
            let mut chars: Vec<char> = text.chars().collect();
            prop_assume!(chars[at] != by);
            chars[at] = by;
            let damaged: String = chars.into_iter().collect();
            prop_assert!(CheckinCode::verify(&damaged, KEY).is_err(), "{damaged}");
        }
    }
}
