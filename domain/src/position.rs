//! Open positions: what an employer offers at the tour's stops, how many people it hires, and
//! when candidates may apply.

use crate::error::{DomainError, Fields, Invalid};
use crate::organisation::Sector;
use crate::text::{LongText, Name, Text};
use crate::tour::TourStatus;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

crate::wire_enum! {
    /// The French contract types: permanent, fixed-term, temporary agency work, apprenticeship,
    /// internship.
    pub enum ContractType {
        Cdi = "cdi",
        Cdd = "cdd",
        Interim = "interim",
        Apprenticeship = "apprenticeship",
        Internship = "internship",
    }
}

crate::wire_enum! {
    /// Full or part time.
    pub enum WorkingTime {
        FullTime = "full_time",
        PartTime = "part_time",
    }
}

crate::wire_enum! {
    /// What a salary figure is paid for.
    pub enum SalaryPeriod {
        Hour = "hour",
        Month = "month",
        Year = "year",
    }
}

crate::wire_enum! {
    /// Where a position is in its life. `filled` is not set by hand: a position becomes
    /// `filled` when its hires reach its openings, and `open` again when openings are added.
    pub enum PositionStatus {
        Draft = "draft",
        Open = "open",
        Filled = "filled",
        Closed = "closed",
    }
}

impl PositionStatus {
    /// The states staff may move a position to by hand.
    pub fn next(self) -> &'static [Self] {
        match self {
            Self::Draft => &[Self::Open],
            Self::Open | Self::Filled => &[Self::Closed],
            Self::Closed => &[],
        }
    }

    /// A change asked for by staff: along [`PositionStatus::next`], or staying put.
    pub fn transition(self, to: Self) -> Result<Self, DomainError> {
        crate::transition(self, to, self.next(), Self::as_str)
    }

    /// Whether someone with a link may read it (a draft is the employer's own business).
    pub fn is_published(self) -> bool {
        self != Self::Draft
    }

    /// The status the position shows with this staffing: an open position whose openings are
    /// all filled is `filled`; a filled one with openings again is `open`.
    pub fn settle(self, staffing: Staffing) -> Self {
        match self {
            Self::Open if staffing.is_full() => Self::Filled,
            Self::Filled if !staffing.is_full() => Self::Open,
            other => other,
        }
    }
}

/// How many people a position hires (`openings`, at least one) and how many it has hired
/// (`filled`, never more than the openings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staffing {
    openings: i32,
    filled: i32,
}

impl Staffing {
    pub const MAX_OPENINGS: i32 = 10_000;

    /// A new position's openings, nobody hired yet.
    pub fn openings(raw: i64) -> Result<Self, Invalid> {
        i32::try_from(raw)
            .ok()
            .filter(|n| (1..=Self::MAX_OPENINGS).contains(n))
            .map(|openings| Self { openings, filled: 0 })
            .ok_or_else(|| Invalid::new("out_of_range", format!("must be between 1 and {}", Self::MAX_OPENINGS)))
    }

    /// New openings for a position that has already hired `filled` people: never fewer.
    pub fn with_openings(self, raw: i64) -> Result<Self, DomainError> {
        let next = Self::openings(raw).map_err(|e| DomainError::field("openings", e))?;
        if next.openings < self.filled {
            return Err(DomainError::OpeningsBelowFilled { filled: self.filled });
        }
        Ok(Self {
            openings: next.openings,
            filled: self.filled,
        })
    }

    /// The staffing as stored; `None` if the numbers break the rules.
    pub fn stored(openings: i32, filled: i32) -> Option<Self> {
        ((1..=Self::MAX_OPENINGS).contains(&openings) && (0..=openings).contains(&filled))
            .then_some(Self { openings, filled })
    }

    /// One more hire, if an opening is left.
    pub fn hire(self) -> Result<Self, DomainError> {
        if self.is_full() {
            return Err(DomainError::PositionFilled);
        }
        Ok(Self {
            filled: self.filled + 1,
            ..self
        })
    }

    pub fn is_full(self) -> bool {
        self.filled >= self.openings
    }

    pub fn openings_count(self) -> i32 {
        self.openings
    }

    pub fn filled(self) -> i32 {
        self.filled
    }
}

/// A salary range: whole euros, `min ≤ max`, paid per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Salary {
    pub min: Option<i32>,
    pub max: Option<i32>,
    pub period: SalaryPeriod,
}

impl Salary {
    pub const MAX: i64 = 10_000_000;

    fn amount(raw: i64) -> Result<i32, Invalid> {
        i32::try_from(raw)
            .ok()
            .filter(|n| (0..=Self::MAX).contains(&i64::from(*n)))
            .ok_or_else(|| Invalid::new("out_of_range", format!("must be between 0 and {}", Self::MAX)))
    }

    /// Checks the three salary fields together, recording failures under their names.
    fn parse(min: Option<i64>, max: Option<i64>, period: Option<&str>, f: &mut Fields) -> Option<Option<Self>> {
        let min = f.take_opt("salary_min", min, Self::amount);
        let max = f.take_opt("salary_max", max, Self::amount);
        let period = f.take_opt("salary_period", period, SalaryPeriod::parse);
        let (min, max, period) = (min?, max?, period?);
        if let (Some(lo), Some(hi)) = (min, max)
            && hi < lo
        {
            f.push(
                "salary_max",
                Invalid::new("below_minimum", "must not be below salary_min"),
            );
            return None;
        }
        match (min.is_some() || max.is_some(), period) {
            (false, None) => Some(None),
            (true, Some(period)) => Some(Some(Self { min, max, period })),
            (true, None) => {
                f.push(
                    "salary_period",
                    Invalid::new("required", "is required with salary_min or salary_max"),
                );
                None
            }
            (false, Some(_)) => {
                f.push(
                    "salary_period",
                    Invalid::new("without_salary", "needs salary_min or salary_max"),
                );
                None
            }
        }
    }
}

/// At most this many stops per position.
pub const MAX_STOPS: usize = 50;

/// Position input as received (a new position, or the current one with a patch laid over it).
#[derive(Debug, Clone, Default)]
pub struct PositionInput {
    pub title: String,
    pub description: Option<String>,
    pub contract_type: String,
    pub working_time: String,
    pub city: String,
    pub postcode: Option<String>,
    pub sector: Option<String>,
    pub salary_min: Option<i64>,
    pub salary_max: Option<i64>,
    pub salary_period: Option<String>,
    pub stop_ids: Vec<Uuid>,
    pub closes_on: Option<NaiveDate>,
}

/// A position's own fields, all checked. Openings and status have rules of their own
/// ([`Staffing`], [`PositionStatus`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PositionFields {
    pub title: String,
    pub description: Option<String>,
    pub contract_type: ContractType,
    pub working_time: WorkingTime,
    pub city: String,
    pub postcode: Option<String>,
    pub sector: Option<String>,
    pub salary: Option<Salary>,
    /// Stops of the position's tour, without repeats, in the order given.
    pub stop_ids: Vec<Uuid>,
    pub closes_on: Option<NaiveDate>,
}

impl PositionFields {
    /// Checks every field, reporting all failures at once. `tour_stops` are the stops of the
    /// position's tour: the only ones it may name.
    pub fn parse(input: PositionInput, tour_stops: &[Uuid]) -> Result<Self, DomainError> {
        let mut f = Fields::default();
        let title = f.take("title", Name::parse(&input.title));
        let description = f.take_opt("description", input.description.as_deref(), LongText::parse);
        let contract_type = f.take("contract_type", ContractType::parse(&input.contract_type));
        let working_time = f.take("working_time", WorkingTime::parse(&input.working_time));
        let city = f.take("city", Name::parse(&input.city));
        let postcode = f.take_opt("postcode", input.postcode.as_deref(), Text::<1, 20>::parse);
        let sector = f.take_opt("sector", input.sector.as_deref(), Sector::parse);
        let salary = Salary::parse(
            input.salary_min,
            input.salary_max,
            input.salary_period.as_deref(),
            &mut f,
        );
        let stop_ids = parse_stops(&input.stop_ids, tour_stops, &mut f);
        f.finish(|| {
            Some(Self {
                title: title?.into_inner(),
                description: description?.map(LongText::into_inner).filter(|d| !d.is_empty()),
                contract_type: contract_type?,
                working_time: working_time?,
                city: city?.into_inner(),
                postcode: postcode?.map(Text::into_inner),
                sector: sector?.map(Sector::into_inner),
                salary: salary?,
                stop_ids: stop_ids?,
                closes_on: input.closes_on,
            })
        })
    }
}

fn parse_stops(raw: &[Uuid], tour_stops: &[Uuid], f: &mut Fields) -> Option<Vec<Uuid>> {
    if raw.len() > MAX_STOPS {
        f.push(
            "stop_ids",
            Invalid::new("too_many", format!("at most {MAX_STOPS} stops")),
        );
        return None;
    }
    let mut out: Vec<Uuid> = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (i, id) in raw.iter().enumerate() {
        if !tour_stops.contains(id) {
            f.push(
                &format!("stop_ids[{i}]"),
                Invalid::new("not_a_stop_of_the_tour", "is not a stop of the position's tour"),
            );
            ok = false;
        } else if !out.contains(id) {
            out.push(*id);
        }
    }
    ok.then_some(out)
}

/// Whether the position takes applications at `now`: its tour must be published (not yet
/// completed, nor cancelled), the position open, and `now` before the end of its `closes_on`
/// day (`closes_at`, that day's end in the tour's time zone).
pub fn accepts_applications(
    tour: TourStatus,
    status: PositionStatus,
    closes_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    if tour != TourStatus::Published {
        return Err(DomainError::PositionNotOpen {
            reason: format!("its tour is {}", tour.as_str()),
        });
    }
    if status != PositionStatus::Open {
        return Err(DomainError::PositionNotOpen {
            reason: format!("the position is {}", status.as_str()),
        });
    }
    match closes_at {
        Some(at) if now >= at => Err(DomainError::PositionNotOpen {
            reason: "the position closed to applications".to_owned(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input() -> PositionInput {
        PositionInput {
            title: "Conseiller clientèle (H/F)".into(),
            contract_type: "cdi".into(),
            working_time: "full_time".into(),
            city: "Metz".into(),
            ..Default::default()
        }
    }

    fn fields_of(err: DomainError) -> Vec<(String, &'static str)> {
        let DomainError::Invalid(errors) = err else {
            panic!("{err:?}")
        };
        errors.into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn a_minimal_position_is_accepted() {
        let p = PositionFields::parse(input(), &[]).unwrap();
        assert_eq!(p.contract_type, ContractType::Cdi);
        assert_eq!(p.working_time, WorkingTime::FullTime);
        assert_eq!(p.salary, None);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let err = PositionFields::parse(
            PositionInput {
                title: " ".into(),
                contract_type: "freelance".into(),
                working_time: "sometimes".into(),
                salary_min: Some(-1),
                ..input()
            },
            &[],
        )
        .unwrap_err();
        assert_eq!(
            fields_of(err),
            [
                ("title".into(), "blank"),
                ("contract_type".into(), "invalid_choice"),
                ("working_time".into(), "invalid_choice"),
                ("salary_min".into(), "out_of_range"),
            ]
        );
    }

    #[test]
    fn a_salary_range_is_ordered_and_has_a_period() {
        let with = |min, max, period: Option<&str>| {
            PositionFields::parse(
                PositionInput {
                    salary_min: min,
                    salary_max: max,
                    salary_period: period.map(str::to_owned),
                    ..input()
                },
                &[],
            )
        };
        assert_eq!(
            with(Some(1900), Some(2300), Some("month")).unwrap().salary,
            Some(Salary {
                min: Some(1900),
                max: Some(2300),
                period: SalaryPeriod::Month
            })
        );
        assert!(with(Some(2000), Some(2000), Some("month")).is_ok());
        assert!(with(None, Some(30000), Some("year")).is_ok());
        assert_eq!(
            fields_of(with(Some(2300), Some(1900), Some("month")).unwrap_err()),
            [("salary_max".into(), "below_minimum")]
        );
        assert_eq!(
            fields_of(with(Some(1900), None, None).unwrap_err()),
            [("salary_period".into(), "required")]
        );
        assert_eq!(
            fields_of(with(None, None, Some("hour")).unwrap_err()),
            [("salary_period".into(), "without_salary")]
        );
    }

    #[test]
    fn stops_must_belong_to_the_tour() {
        let (a, b, stranger) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let p = PositionFields::parse(
            PositionInput {
                stop_ids: vec![b, a, b],
                ..input()
            },
            &[a, b],
        )
        .unwrap();
        assert_eq!(p.stop_ids, [b, a], "repeats dropped, order kept");
        let err = PositionFields::parse(
            PositionInput {
                stop_ids: vec![a, stranger],
                ..input()
            },
            &[a, b],
        )
        .unwrap_err();
        assert_eq!(fields_of(err), [("stop_ids[1]".into(), "not_a_stop_of_the_tour")]);
    }

    #[test]
    fn the_workflow_is_draft_open_closed() {
        use PositionStatus::*;
        assert_eq!(Draft.transition(Open), Ok(Open));
        assert_eq!(Open.transition(Closed), Ok(Closed));
        assert_eq!(Filled.transition(Closed), Ok(Closed));
        assert_eq!(Open.transition(Open), Ok(Open));
        assert_eq!(
            Open.transition(Filled),
            Err(DomainError::InvalidTransition {
                from: "open",
                to: "filled",
                allowed: vec!["closed"]
            }),
            "filled comes with hires, never by hand"
        );
        assert!(Draft.transition(Closed).is_err());
        assert!(Closed.transition(Open).is_err());
    }

    #[test]
    fn the_last_hire_fills_the_position() {
        let s = Staffing::openings(2).unwrap();
        let s = s.hire().unwrap();
        assert!(!s.is_full());
        assert_eq!(PositionStatus::Open.settle(s), PositionStatus::Open);
        let s = s.hire().unwrap();
        assert!(s.is_full());
        assert_eq!(PositionStatus::Open.settle(s), PositionStatus::Filled);
        assert_eq!(s.hire(), Err(DomainError::PositionFilled));
        let more = s.with_openings(3).unwrap();
        assert_eq!(PositionStatus::Filled.settle(more), PositionStatus::Open);
        assert_eq!(s.with_openings(1), Err(DomainError::OpeningsBelowFilled { filled: 2 }));
        assert_eq!(PositionStatus::Closed.settle(s), PositionStatus::Closed);
        assert!(Staffing::openings(0).is_err() && Staffing::openings(10_001).is_err());
    }

    #[test]
    fn only_open_positions_before_their_closing_take_applications() {
        let now = DateTime::parse_from_rfc3339("2027-10-20T10:00:00Z").unwrap().to_utc();
        let later = now + chrono::TimeDelta::hours(1);
        let published = TourStatus::Published;
        assert!(accepts_applications(published, PositionStatus::Open, None, now).is_ok());
        assert!(accepts_applications(published, PositionStatus::Open, Some(later), now).is_ok());
        assert!(accepts_applications(published, PositionStatus::Open, Some(now), now).is_err());
        for status in [PositionStatus::Draft, PositionStatus::Filled, PositionStatus::Closed] {
            assert!(accepts_applications(published, status, None, now).is_err());
        }
        for tour in [TourStatus::Draft, TourStatus::Completed, TourStatus::Cancelled] {
            assert!(accepts_applications(tour, PositionStatus::Open, None, now).is_err());
        }
    }

    proptest! {
        #[test]
        fn hires_never_pass_the_openings(openings in 1i64..50, attempts in 0usize..100) {
            let mut s = Staffing::openings(openings).unwrap();
            let mut hired = 0;
            for _ in 0..attempts {
                if let Ok(next) = s.hire() {
                    s = next;
                    hired += 1;
                }
            }
            prop_assert_eq!(i64::from(s.filled()), (attempts as i64).min(openings));
            prop_assert_eq!(hired, s.filled());
            prop_assert!(Staffing::stored(s.openings_count(), s.filled()).is_some());
            prop_assert_eq!(s.is_full(), attempts as i64 >= openings);
        }
    }
}
