//! The check-in code a candidate shows at the bus: it names an application and its tour, and
//! nothing else (no name, no e-mail), signed with the server's key (HMAC-SHA256), so that a
//! scanner's server can tell a forged or damaged code from a real one without reading the
//! database. Whether the application is still active (not withdrawn, rejected or erased) is
//! the database's to say when the code is scanned.
//!
//! Form: `JT1.<application id and tour id, 32 bytes, base64url>.<first 16 bytes of the MAC,
//! base64url>` — 70 characters, a small QR code. 128 bits of MAC leave a forger one chance in
//! 2^128 per try.

use crate::DomainError;
use crate::application::ApplicationStatus;
use crate::error::Invalid;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
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

/// How long before the bus arrives its staff may start checking candidates in.
pub const OPENS_BEFORE_ARRIVAL: TimeDelta = TimeDelta::hours(1);
/// How far ahead of the server's clock a phone's clock may be.
pub const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(2);
/// Arriving more than this before one's interview is early.
pub const EARLY_BY: TimeDelta = TimeDelta::minutes(15);

/// When check-ins are taken at a stop: from an hour before the bus arrives until it leaves.
pub fn hours(arrives_at: DateTime<Utc>, departs_at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (arrives_at - OPENS_BEFORE_ARRIVAL, departs_at)
}

/// Whether a scan made `at` falls within the stop's hours (409 `stop_not_open` otherwise,
/// which an organiser may override).
pub fn within_hours(
    arrives_at: DateTime<Utc>,
    departs_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    let (opens_at, closes_at) = hours(arrives_at, departs_at);
    if at < opens_at || at > closes_at {
        return Err(DomainError::StopNotOpen { opens_at, closes_at });
    }
    Ok(())
}

/// When a scan was made: `scanned_at` as an offline phone recorded it (not in the future, a
/// little clock skew allowed, and not before the stop's day began), or now.
pub fn scan_time(
    scanned_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    day_start: DateTime<Utc>,
) -> Result<DateTime<Utc>, Invalid> {
    let Some(at) = scanned_at else {
        return Ok(now);
    };
    if at > now + CLOCK_SKEW {
        return Err(Invalid::new("in_future", "must not be in the future"));
    }
    if at < day_start {
        return Err(Invalid::new("before_stop_day", "must not be before the stop's day"));
    }
    Ok(at.min(now))
}

/// Whether an application may still be checked in: not when it was withdrawn, rejected or
/// erased (its code is void then); a hired candidate may still come to the bus.
pub fn admits(status: ApplicationStatus, erased: bool) -> Result<(), DomainError> {
    match status {
        _ if erased => Err(DomainError::ApplicationNotActive { status: "erased" }),
        ApplicationStatus::Withdrawn | ApplicationStatus::Rejected => Err(DomainError::ApplicationNotActive {
            status: status.as_str(),
        }),
        _ => Ok(()),
    }
}

crate::wire_enum! {
    /// A candidate's arrival against its interview slot.
    pub enum Timing {
        /// More than a quarter of an hour before the slot.
        Early = "early",
        OnTime = "on_time",
        /// After the slot began.
        Late = "late",
    }
}

/// Whether arriving `at` is early, on time or late for a slot starting at `starts_at`.
pub fn timing(at: DateTime<Utc>, starts_at: DateTime<Utc>) -> Timing {
    if at > starts_at {
        Timing::Late
    } else if at < starts_at - EARLY_BY {
        Timing::Early
    } else {
        Timing::OnTime
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

    fn t(hh: u32, mm: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2027, 10, 19, hh, mm, 0).unwrap()
    }

    #[test]
    fn check_ins_open_an_hour_before_arrival_and_close_at_departure() {
        let (arrives, departs) = (t(9, 0), t(17, 0));
        assert!(within_hours(arrives, departs, t(8, 0)).is_ok());
        assert!(within_hours(arrives, departs, t(17, 0)).is_ok());
        assert!(matches!(
            within_hours(arrives, departs, t(7, 59)),
            Err(DomainError::StopNotOpen { opens_at, closes_at }) if opens_at == t(8, 0) && closes_at == departs
        ));
        assert!(within_hours(arrives, departs, t(17, 1)).is_err());
    }

    #[test]
    fn an_offline_scan_time_is_neither_ahead_nor_before_the_day() {
        let (now, day) = (t(12, 0), t(0, 0));
        assert_eq!(scan_time(None, now, day), Ok(now));
        assert_eq!(scan_time(Some(t(10, 0)), now, day), Ok(t(10, 0)));
        assert_eq!(
            scan_time(Some(t(12, 1)), now, day),
            Ok(now),
            "a phone's clock a minute ahead"
        );
        assert_eq!(scan_time(Some(t(12, 3)), now, day).unwrap_err().code, "in_future");
        assert_eq!(
            scan_time(Some(day - TimeDelta::seconds(1)), now, day).unwrap_err().code,
            "before_stop_day"
        );
    }

    #[test]
    fn withdrawn_rejected_or_erased_applications_are_not_let_in() {
        for status in ApplicationStatus::ALL {
            let refused = matches!(status, ApplicationStatus::Withdrawn | ApplicationStatus::Rejected);
            assert_eq!(admits(status, false).is_err(), refused, "{status:?}");
            assert!(admits(status, true).is_err(), "{status:?} erased");
        }
    }

    #[test]
    fn early_on_time_or_late_for_the_slot() {
        let slot = t(10, 0);
        assert_eq!(timing(t(9, 44), slot), Timing::Early);
        assert_eq!(timing(t(9, 45), slot), Timing::OnTime);
        assert_eq!(timing(t(10, 0), slot), Timing::OnTime);
        assert_eq!(timing(t(10, 1), slot), Timing::Late);
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
