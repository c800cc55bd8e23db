//! Interview slots at a stop ("job dating" on the bus): when they are, how many seats they
//! have, how a grid of them is cut, and who may book one.

use crate::application::ApplicationStatus;
use crate::error::{DomainError, Invalid};
use crate::interval::Interval;
use crate::tour::TourStatus;
use chrono::{DateTime, TimeDelta, Utc};

/// How many candidates a slot seats: 1 to 50.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Capacity(i32);

impl Capacity {
    pub const MAX: i32 = 50;

    pub fn parse(raw: i64) -> Result<Self, Invalid> {
        i32::try_from(raw)
            .ok()
            .filter(|n| (1..=Self::MAX).contains(n))
            .map(Self)
            .ok_or_else(|| Invalid::new("out_of_range", format!("must be between 1 and {}", Self::MAX)))
    }

    pub fn get(self) -> i32 {
        self.0
    }

    /// A capacity for a slot where `booked` seats are taken: never fewer.
    pub fn for_booked(self, booked: i32) -> Result<Self, DomainError> {
        if self.0 < booked {
            return Err(DomainError::CapacityBelowBooked { booked });
        }
        Ok(self)
    }
}

/// When a slot runs: its start strictly before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotTimes {
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

impl SlotTimes {
    pub fn new(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Result<Self, Invalid> {
        if ends_at <= starts_at {
            return Err(Invalid::new("not_after_start", "must be after starts_at"));
        }
        Ok(Self { starts_at, ends_at })
    }

    pub fn starts_at(self) -> DateTime<Utc> {
        self.starts_at
    }

    pub fn ends_at(self) -> DateTime<Utc> {
        self.ends_at
    }
}

impl Interval for SlotTimes {
    fn start(self) -> DateTime<Utc> {
        self.starts_at
    }

    fn end(self) -> DateTime<Utc> {
        self.ends_at
    }
}

/// Shortest and longest grid slot, in minutes, and the most slots one grid may cut.
pub const GRID_MINUTES: std::ops::RangeInclusive<i64> = 5..=240;
pub const GRID_MAX_SLOTS: usize = 200;

/// Consecutive slots of `minutes` each from `from`, as many as end by `to`. Durations are real
/// time: a slot across a daylight-saving change lasts as long as any other (instants, not wall
/// clocks, are added).
pub fn grid(from: DateTime<Utc>, to: DateTime<Utc>, minutes: i64) -> Result<Vec<SlotTimes>, DomainError> {
    if !GRID_MINUTES.contains(&minutes) {
        return Err(DomainError::field(
            "duration_minutes",
            Invalid::new(
                "out_of_range",
                format!("must be between {} and {}", GRID_MINUTES.start(), GRID_MINUTES.end()),
            ),
        ));
    }
    let step = TimeDelta::minutes(minutes);
    let mut slots = Vec::new();
    let mut start = from;
    while start + step <= to {
        if slots.len() == GRID_MAX_SLOTS {
            return Err(DomainError::field(
                "to",
                Invalid::new("too_many", format!("a grid cuts at most {GRID_MAX_SLOTS} slots")),
            ));
        }
        slots.push(SlotTimes {
            starts_at: start,
            ends_at: start + step,
        });
        start += step;
    }
    if slots.is_empty() {
        return Err(DomainError::field(
            "to",
            Invalid::new("too_short", "leaves no room for one slot after from"),
        ));
    }
    Ok(slots)
}

/// How a slot relates to an application: whether it is at a stop of the application's tour,
/// and held by the employer of its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    pub same_tour: bool,
    pub same_employer: bool,
}

/// Whether an application may take a seat in a slot at `now` (seats and the application's other
/// booking are the database's to check): the tour still on, the application still in the
/// pipeline, the slot its position's employer's on its tour, and not begun.
pub fn may_book(
    tour: TourStatus,
    application: ApplicationStatus,
    fit: Fit,
    slot: SlotTimes,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    if tour == TourStatus::Cancelled {
        return Err(DomainError::TourCancelled);
    }
    if !application.is_active() {
        return Err(DomainError::ApplicationNotActive {
            status: application.as_str(),
        });
    }
    if !fit.same_tour {
        return Err(DomainError::WrongTour);
    }
    if !fit.same_employer {
        return Err(DomainError::WrongEmployer);
    }
    if now >= slot.starts_at {
        return Err(DomainError::SlotStarted);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn capacity_is_bounded_and_never_below_the_booked_seats() {
        assert!(Capacity::parse(0).is_err() && Capacity::parse(51).is_err());
        let c = Capacity::parse(3).unwrap();
        assert_eq!(c.for_booked(3), Ok(c));
        assert_eq!(c.for_booked(4), Err(DomainError::CapacityBelowBooked { booked: 4 }));
    }

    #[test]
    fn a_grid_across_the_last_sunday_of_october_keeps_real_durations() {
        // 01:30 CEST to 03:30 CET on 31 October 2027 is three real hours.
        let slots = grid(at("2027-10-31T01:30:00+02:00"), at("2027-10-31T03:30:00+01:00"), 30).unwrap();
        assert_eq!(slots.len(), 6);
        for s in &slots {
            assert_eq!(s.ends_at() - s.starts_at(), TimeDelta::minutes(30));
        }
        for pair in slots.windows(2) {
            assert_eq!(pair[0].ends_at(), pair[1].starts_at());
            assert!(!pair[0].overlaps(pair[1]));
        }
        assert_eq!(slots[5].ends_at(), at("2027-10-31T03:30:00+01:00"));
    }

    #[test]
    fn a_grid_refuses_odd_durations_and_empty_or_huge_ranges() {
        let from = at("2027-10-19T09:00:00+02:00");
        assert!(grid(from, from + TimeDelta::minutes(4), 4).is_err());
        assert!(grid(from, from + TimeDelta::minutes(29), 30).is_err());
        assert_eq!(grid(from, from + TimeDelta::minutes(59), 30).unwrap().len(), 1);
        assert!(grid(from, from + TimeDelta::days(3), 5).is_err());
    }

    #[test]
    fn only_an_active_application_of_the_employer_books_before_the_slot_starts() {
        let slot = SlotTimes::new(at("2027-10-19T10:00:00Z"), at("2027-10-19T10:20:00Z")).unwrap();
        let before = at("2027-10-19T09:00:00Z");
        use ApplicationStatus::*;
        let fits = Fit {
            same_tour: true,
            same_employer: true,
        };
        assert_eq!(may_book(TourStatus::Published, Screening, fits, slot, before), Ok(()));
        assert_eq!(
            may_book(TourStatus::Cancelled, Screening, fits, slot, before),
            Err(DomainError::TourCancelled)
        );
        for status in [Withdrawn, Rejected, Hired] {
            assert!(matches!(
                may_book(TourStatus::Published, status, fits, slot, before),
                Err(DomainError::ApplicationNotActive { .. })
            ));
        }
        let elsewhere = Fit {
            same_employer: false,
            ..fits
        };
        assert_eq!(
            may_book(TourStatus::Published, Submitted, elsewhere, slot, before),
            Err(DomainError::WrongEmployer)
        );
        let other_tour = Fit {
            same_tour: false,
            ..fits
        };
        assert_eq!(
            may_book(TourStatus::Published, Submitted, other_tour, slot, before),
            Err(DomainError::WrongTour)
        );
        assert_eq!(
            may_book(TourStatus::Published, Submitted, fits, slot, slot.starts_at()),
            Err(DomainError::SlotStarted)
        );
    }

    proptest! {
        #[test]
        fn grid_slots_tile_the_range(start in 0i64..1_000_000, minutes in 5i64..=240, len in 5i64..3000) {
            let from = at("2027-10-01T00:00:00Z") + TimeDelta::minutes(start);
            let to = from + TimeDelta::minutes(len);
            match grid(from, to, minutes) {
                Ok(slots) => {
                    prop_assert_eq!(slots[0].starts_at(), from);
                    prop_assert!(slots.iter().all(|s| s.ends_at() - s.starts_at() == TimeDelta::minutes(minutes)));
                    prop_assert!(slots.windows(2).all(|p| p[0].ends_at() == p[1].starts_at()));
                    let last = slots[slots.len() - 1];
                    prop_assert!(last.ends_at() <= to && last.ends_at() + TimeDelta::minutes(minutes) > to);
                }
                Err(_) => prop_assert!(len < minutes || len / minutes > GRID_MAX_SLOTS as i64),
            }
        }
    }
}
