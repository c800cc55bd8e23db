//! Tours and their stops: the status workflow, dates read in the tour's time zone, and the
//! itinerary rules (a stop lies within the tour's days; one bus, so stops never overlap).

use crate::error::{DomainError, Fields, Invalid};
use crate::geo::LatLon;
pub use crate::interval::{Interval, first_overlap};
use crate::text::{LongText, Name, Text};
use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

crate::wire_enum! {
    /// Where a tour is in its life.
    pub enum TourStatus {
        Draft = "draft",
        Published = "published",
        Completed = "completed",
        Cancelled = "cancelled",
    }
}

impl TourStatus {
    /// The states this one may move to.
    pub fn next(self) -> &'static [Self] {
        match self {
            Self::Draft => &[Self::Published, Self::Cancelled],
            Self::Published => &[Self::Completed, Self::Cancelled],
            Self::Completed | Self::Cancelled => &[],
        }
    }

    /// Moves to `to`: staying put is allowed, anything outside [`TourStatus::next`] is refused.
    pub fn transition(self, to: Self) -> Result<Self, DomainError> {
        crate::transition(self, to, self.next(), Self::as_str)
    }

    /// Whether anonymous callers and partners see the tour.
    pub fn is_public(self) -> bool {
        matches!(self, Self::Published | Self::Completed)
    }
}

crate::wire_enum! {
    /// The part an organisation plays in a tour.
    pub enum PartnerRole {
        Employer = "employer",
        Sponsor = "sponsor",
        PublicAgency = "public_agency",
        LocalAuthority = "local_authority",
        University = "university",
        Host = "host",
        Organiser = "organiser",
        Other = "other",
    }
}

/// An IANA time zone such as `Europe/Paris`.
pub fn parse_timezone(raw: &str) -> Result<Tz, Invalid> {
    raw.parse::<Tz>()
        .map_err(|_| Invalid::new("invalid_timezone", "must be an IANA time zone such as Europe/Paris"))
}

/// The days a tour runs, first and last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TourDates {
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

impl TourDates {
    /// Longest tour, in days.
    pub const MAX_DAYS: u64 = 366;

    pub fn new(starts_on: NaiveDate, ends_on: NaiveDate) -> Result<Self, Invalid> {
        if ends_on < starts_on {
            return Err(Invalid::new("before_start", "must not be before starts_on"));
        }
        if starts_on
            .checked_add_days(Days::new(Self::MAX_DAYS))
            .is_none_or(|limit| ends_on >= limit)
        {
            return Err(Invalid::new(
                "too_long",
                format!("a tour lasts at most {} days", Self::MAX_DAYS),
            ));
        }
        Ok(Self { starts_on, ends_on })
    }

    pub fn starts_on(self) -> NaiveDate {
        self.starts_on
    }

    pub fn ends_on(self) -> NaiveDate {
        self.ends_on
    }

    /// The instants the tour covers in `tz`: from midnight of the first day to midnight after
    /// the last day, local time (daylight-saving changes included).
    pub fn window(self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (local_midnight(self.starts_on, tz), end_of_day(self.ends_on, tz))
    }
}

/// The instant `day` ends in `tz`: the next local midnight (daylight-saving changes included).
pub fn end_of_day(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    local_midnight(day.checked_add_days(Days::new(1)).unwrap_or(day), tz)
}

/// The first instant of `day` in `tz` (the earliest, should midnight be repeated; the end of
/// the gap, should it be skipped).
fn local_midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut time = day.and_time(NaiveTime::MIN);
    // A zone may skip midnight (a daylight-saving jump): walk to the first instant that exists.
    for _ in 0..=4 * 60 {
        if let Some(t) = tz.from_local_datetime(&time).earliest() {
            return t.with_timezone(&Utc);
        }
        time += chrono::TimeDelta::minutes(1);
    }
    day.and_time(NaiveTime::MIN).and_utc()
}

/// When the bus is at a stop: arrival strictly before departure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopTimes {
    arrives_at: DateTime<Utc>,
    departs_at: DateTime<Utc>,
}

impl StopTimes {
    pub fn new(arrives_at: DateTime<Utc>, departs_at: DateTime<Utc>) -> Result<Self, Invalid> {
        if departs_at <= arrives_at {
            return Err(Invalid::new("not_after_arrival", "must be after arrives_at"));
        }
        Ok(Self { arrives_at, departs_at })
    }

    pub fn arrives_at(self) -> DateTime<Utc> {
        self.arrives_at
    }

    pub fn departs_at(self) -> DateTime<Utc> {
        self.departs_at
    }

    /// Whether the stop lies within the tour's days, read in the tour's time zone.
    pub fn within(self, dates: TourDates, tz: Tz) -> bool {
        let (start, end) = dates.window(tz);
        start <= self.arrives_at && self.departs_at <= end
    }
}

/// A stay overlaps another when the bus would be in two places at once (it may leave one stop
/// as it arrives at the next).
impl Interval for StopTimes {
    fn start(self) -> DateTime<Utc> {
        self.arrives_at
    }

    fn end(self) -> DateTime<Utc> {
        self.departs_at
    }
}

/// The stops that would fall outside the tour with these dates and time zone.
pub fn stops_outside(dates: TourDates, tz: Tz, stops: impl IntoIterator<Item = (Uuid, StopTimes)>) -> Vec<Uuid> {
    stops
        .into_iter()
        .filter(|(_, t)| !t.within(dates, tz))
        .map(|(id, _)| id)
        .collect()
}

/// Tour input as received.
#[derive(Debug, Clone)]
pub struct TourInput {
    pub name: String,
    pub description: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub timezone: String,
    pub positions_target: i64,
}

/// A tour's fields, all checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TourFields {
    pub name: String,
    pub description: Option<String>,
    pub dates: TourDates,
    pub timezone: Tz,
    pub positions_target: i32,
}

impl TourFields {
    pub fn parse(input: TourInput) -> Result<Self, DomainError> {
        let mut f = Fields::default();
        let name = f.take("name", Name::parse(&input.name));
        let description = f.take_opt("description", input.description.as_deref(), LongText::parse);
        let dates = f.take("ends_on", TourDates::new(input.starts_on, input.ends_on));
        let timezone = f.take("timezone", parse_timezone(&input.timezone));
        let target = f.take(
            "positions_target",
            i32::try_from(input.positions_target)
                .ok()
                .filter(|t| (0..=1_000_000).contains(t))
                .ok_or_else(|| Invalid::new("out_of_range", "must be between 0 and 1000000")),
        );
        f.finish(|| {
            Some(Self {
                name: name?.into_inner(),
                description: description?.map(LongText::into_inner).filter(|d| !d.is_empty()),
                dates: dates?,
                timezone: timezone?,
                positions_target: target?,
            })
        })
    }
}

/// Stop input as received.
#[derive(Debug, Clone)]
pub struct StopInput {
    pub city: String,
    pub postcode: Option<String>,
    pub venue: Option<String>,
    pub address: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub arrives_at: DateTime<Utc>,
    pub departs_at: DateTime<Utc>,
    pub notes: Option<String>,
}

/// A stop's fields, checked against the rules and its tour's days.
#[derive(Debug, Clone, PartialEq)]
pub struct StopFields {
    pub city: String,
    pub postcode: Option<String>,
    pub venue: Option<String>,
    pub address: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub times: StopTimes,
    pub notes: Option<String>,
}

impl StopFields {
    /// Checks every field, then that the stay lies within the tour's days in its time zone.
    /// Overlap with the tour's other stops is checked by the caller, under a lock.
    pub fn parse(input: StopInput, dates: TourDates, tz: Tz) -> Result<Self, DomainError> {
        let mut f = Fields::default();
        let city = f.take("city", Name::parse(&input.city));
        let postcode = f.take_opt("postcode", input.postcode.as_deref(), Text::<1, 20>::parse);
        let venue = f.take_opt("venue", input.venue.as_deref(), Name::parse);
        let address = f.take_opt("address", input.address.as_deref(), Text::<1, 500>::parse);
        let latitude = f.take("latitude", LatLon::latitude(input.latitude));
        let longitude = f.take("longitude", LatLon::longitude(input.longitude));
        let notes = f.take_opt("notes", input.notes.as_deref(), LongText::parse);
        let times = f.take("departs_at", StopTimes::new(input.arrives_at, input.departs_at));
        if let Some(t) = times
            && !t.within(dates, tz)
        {
            f.push(
                "arrives_at",
                Invalid::new(
                    "outside_tour",
                    format!(
                        "the stop must lie within {}..={} in {}",
                        dates.starts_on(),
                        dates.ends_on(),
                        tz.name()
                    ),
                ),
            );
        }
        f.finish(|| {
            Some(Self {
                city: city?.into_inner(),
                postcode: postcode?.map(Text::into_inner),
                venue: venue?.map(Name::into_inner),
                address: address?.map(Text::into_inner),
                latitude: latitude?,
                longitude: longitude?,
                times: times?,
                notes: notes?.map(LongText::into_inner).filter(|n| !n.is_empty()),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn october(first: u32, last: u32) -> TourDates {
        TourDates::new(
            NaiveDate::from_ymd_opt(2026, 10, first).unwrap(),
            NaiveDate::from_ymd_opt(2026, 10, last).unwrap(),
        )
        .unwrap()
    }

    const PARIS: Tz = chrono_tz::Europe::Paris;

    #[test]
    fn the_workflow_lists_what_may_come_next() {
        use TourStatus::*;
        assert_eq!(Draft.transition(Published), Ok(Published));
        assert_eq!(Published.transition(Completed), Ok(Completed));
        assert_eq!(Draft.transition(Cancelled), Ok(Cancelled));
        assert_eq!(Published.transition(Published), Ok(Published));
        assert_eq!(
            Draft.transition(Completed),
            Err(DomainError::InvalidTransition {
                from: "draft",
                to: "completed",
                allowed: vec!["published", "cancelled"]
            })
        );
        assert!(Cancelled.transition(Published).is_err());
        assert!(Completed.transition(Draft).is_err());
        assert!(Published.is_public() && Completed.is_public() && !Draft.is_public() && !Cancelled.is_public());
    }

    #[test]
    fn late_evening_utc_on_the_last_day_is_already_the_next_day_in_paris() {
        let tour = october(19, 23);
        let late = StopTimes::new(at("2026-10-23T20:00:00Z"), at("2026-10-23T23:30:00Z")).unwrap();
        assert!(!late.within(tour, PARIS));
        let in_time = StopTimes::new(at("2026-10-23T20:00:00Z"), at("2026-10-23T21:59:59Z")).unwrap();
        assert!(in_time.within(tour, PARIS));
        assert!(late.within(tour, chrono_tz::UTC));
        let too_early = StopTimes::new(at("2026-10-18T21:30:00Z"), at("2026-10-19T08:00:00Z")).unwrap();
        assert!(
            !too_early.within(tour, PARIS),
            "21:30 UTC on the 18th is 23:30 in Paris, the day before"
        );
        let first_minute = StopTimes::new(at("2026-10-18T22:00:00Z"), at("2026-10-19T08:00:00Z")).unwrap();
        assert!(first_minute.within(tour, PARIS));
    }

    #[test]
    fn a_stop_across_the_daylight_saving_change_lasts_two_and_a_half_hours() {
        let tour = october(24, 26);
        let times = StopTimes::new(at("2026-10-25T01:00:00+02:00"), at("2026-10-25T02:30:00+01:00")).unwrap();
        assert_eq!(times.departs_at() - times.arrives_at(), chrono::TimeDelta::minutes(150));
        assert!(times.within(tour, PARIS));
        // The last day of a tour ending on the 25th closes at midnight CET (23:00 UTC).
        let (_, end) = october(19, 25).window(PARIS);
        assert_eq!(end, at("2026-10-25T23:00:00Z"));
    }

    #[test]
    fn departure_must_follow_arrival() {
        assert!(StopTimes::new(at("2026-10-19T10:00:00Z"), at("2026-10-19T10:00:00Z")).is_err());
        assert!(StopTimes::new(at("2026-10-19T10:00:00Z"), at("2026-10-19T09:00:00Z")).is_err());
    }

    #[test]
    fn dates_are_ordered_and_bounded() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        assert!(TourDates::new(d(10, 23), d(10, 19)).is_err());
        assert!(TourDates::new(d(10, 19), d(10, 19)).is_ok());
        assert!(TourDates::new(d(1, 1), NaiveDate::from_ymd_opt(2027, 1, 2).unwrap()).is_err());
        assert!(parse_timezone("Europe/Paris").is_ok() && parse_timezone("Mars/Olympus").is_err());
    }

    #[test]
    fn touching_stops_do_not_overlap() {
        let a = StopTimes::new(at("2026-10-19T08:00:00Z"), at("2026-10-19T16:00:00Z")).unwrap();
        let b = StopTimes::new(at("2026-10-19T16:00:00Z"), at("2026-10-19T18:00:00Z")).unwrap();
        let c = StopTimes::new(at("2026-10-19T15:59:59Z"), at("2026-10-19T18:00:00Z")).unwrap();
        assert!(!a.overlaps(b));
        assert!(a.overlaps(c));
        let id = Uuid::nil();
        assert_eq!(first_overlap(c, [(id, a)]), Some(id));
        assert_eq!(first_overlap(b, [(id, a)]), None);
    }

    fn stay() -> impl Strategy<Value = StopTimes> {
        (0i64..10_000_000, 1i64..200_000).prop_map(|(start, len)| {
            let base = at("2026-10-01T00:00:00Z");
            StopTimes::new(
                base + chrono::TimeDelta::seconds(start),
                base + chrono::TimeDelta::seconds(start + len),
            )
            .unwrap()
        })
    }

    proptest! {
        #[test]
        fn overlap_is_symmetric_and_matches_a_shared_instant(a in stay(), b in stay()) {
            prop_assert_eq!(a.overlaps(b), b.overlaps(a));
            let latest_start = a.arrives_at().max(b.arrives_at());
            let earliest_end = a.departs_at().min(b.departs_at());
            prop_assert_eq!(a.overlaps(b), latest_start < earliest_end);
        }

        #[test]
        fn within_means_local_dates_inside_the_tour(s in stay(), first in 1u32..28, len in 0u32..3) {
            let dates = october(first, first + len);
            let local_start = s.arrives_at().with_timezone(&PARIS);
            let local_end = s.departs_at().with_timezone(&PARIS);
            let end_ok = local_end.date_naive() <= dates.ends_on()
                || (local_end.date_naive() == dates.ends_on() + Days::new(1) && local_end.time() == NaiveTime::MIN);
            prop_assert_eq!(s.within(dates, PARIS), local_start.date_naive() >= dates.starts_on() && end_ok);
        }

        #[test]
        fn stops_outside_are_exactly_those_not_within(stays in proptest::collection::vec(stay(), 0..8), first in 1u32..28) {
            let dates = october(first, first + 1);
            let ids: Vec<(Uuid, StopTimes)> = stays.into_iter().map(|s| (Uuid::now_v7(), s)).collect();
            let outside = stops_outside(dates, PARIS, ids.clone());
            for (id, s) in ids {
                prop_assert_eq!(outside.contains(&id), !s.within(dates, PARIS));
            }
        }
    }
}
