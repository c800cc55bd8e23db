//! `DomainError`: one enum, every variant a rule that was broken.

use std::fmt;

/// Why one input field was refused: a stable machine `code` and a human `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as the client sent it (`email`, `sectors[2]`…).
    pub field: String,
    /// Stable, machine-readable reason (`too_short`, `invalid_email`…).
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

/// A refusal of one value, before it is attached to a field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Every rule of the domain that a request can break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// One or more fields hold values the domain refuses.
    #[error("{} field(s) are invalid", .0.len())]
    Invalid(Vec<FieldError>),
    /// A status change the workflow does not allow; `allowed` lists the possible next states.
    #[error("cannot go from {from} to {to}")]
    InvalidTransition {
        from: &'static str,
        to: &'static str,
        allowed: Vec<&'static str>,
    },
    /// Two stops of one tour would overlap (one bus).
    #[error("the stop overlaps stop {other}")]
    StopOverlap { other: uuid::Uuid },
    /// New tour dates or time zone would leave these stops outside the tour.
    #[error("{} stop(s) would fall outside the tour", .stops.len())]
    StopsOutsideTour { stops: Vec<uuid::Uuid> },
    /// The position does not take applications (draft, filled, closed, or past its closing day).
    #[error("the position is not open to applications: {reason}")]
    PositionNotOpen { reason: String },
    /// Every opening of the position is filled: no one else can be hired.
    #[error("every opening of the position is filled")]
    PositionFilled,
    /// Fewer openings than people already hired.
    #[error("the position has already hired {filled}")]
    OpeningsBelowFilled { filled: i32 },
    /// One employer's slots at one stop would overlap.
    #[error("the slot overlaps slot {other}")]
    SlotOverlap { other: uuid::Uuid },
    /// A slot's capacity below the seats already booked.
    #[error("the slot has {booked} booking(s)")]
    CapacityBelowBooked { booked: i32 },
    /// A slot with bookings cannot simply go.
    #[error("the slot has {booked} booking(s)")]
    SlotHasBookings { booked: i32 },
    /// New stop times would leave these interview slots outside the stop.
    #[error("{} slot(s) would fall outside the stop", .slots.len())]
    SlotsOutsideStop { slots: Vec<uuid::Uuid> },
    /// Every seat of the slot is taken.
    #[error("the slot is full")]
    SlotFull,
    /// The slot has a free seat: book it rather than wait.
    #[error("the slot has a free seat")]
    SlotAvailable,
    /// The application holds a booking in another slot.
    #[error("the application is booked in slot {slot_id}")]
    AlreadyBooked { slot_id: uuid::Uuid },
    /// The application waits in another slot's line.
    #[error("the application waits for slot {slot_id}")]
    AlreadyWaiting { slot_id: uuid::Uuid },
    /// The application is withdrawn, rejected or hired: it books nothing more.
    #[error("the application is {status}")]
    ApplicationNotActive { status: &'static str },
    /// The tour was cancelled.
    #[error("the tour is cancelled")]
    TourCancelled,
    /// The slot has begun.
    #[error("the slot has started")]
    SlotStarted,
    /// The slot is at a stop of another tour than the application's.
    #[error("the slot is on another tour")]
    WrongTour,
    /// The stop takes no check-ins at this time (an hour before arrival to departure).
    #[error("the stop takes check-ins from {opens_at} to {closes_at}")]
    StopNotOpen {
        opens_at: chrono::DateTime<chrono::Utc>,
        closes_at: chrono::DateTime<chrono::Utc>,
    },
    /// Only a club has members, and is merged.
    #[error("organisation {id} is not a club")]
    NotAClub { id: uuid::Uuid },
    /// The organisation was merged into another: it changes no more.
    #[error("organisation {id} was merged into another")]
    OrganisationMerged { id: uuid::Uuid },
    /// A club is not a member of itself.
    #[error("a club is not a member of itself")]
    OwnMember,
    /// A club is not merged into itself.
    #[error("club {id} cannot be merged into itself")]
    MergeIntoItself { id: uuid::Uuid },
    /// The slot is another employer's than the application's position.
    #[error("the slot is another employer's")]
    WrongEmployer,
}

impl DomainError {
    /// A single-field validation failure.
    pub fn field(field: impl Into<String>, invalid: Invalid) -> Self {
        Self::Invalid(vec![FieldError {
            field: field.into(),
            code: invalid.code,
            message: invalid.message,
        }])
    }
}

/// Collects per-field failures so that a request learns about every bad field at once.
///
/// ```
/// use jobtour_domain::{Fields, text::Text};
/// let mut f = Fields::default();
/// let name = f.take("name", Text::<1, 200>::parse("Banque Lorraine"));
/// let built = f.finish(|| Some(name?.into_inner()));
/// assert_eq!(built.unwrap(), "Banque Lorraine");
/// ```
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
    /// A refusal that is not about one field, from [`Fields::absorb`].
    other: Option<DomainError>,
}

impl Fields {
    /// Records the failure, if any, under `field` and hands back the parsed value.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, Invalid>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(Invalid { code, message }) => {
                self.errors.push(FieldError {
                    field: field.to_owned(),
                    code,
                    message,
                });
                None
            }
        }
    }

    /// Like [`Fields::take`] for an optional input: `None` stays `None` and is not an error.
    pub fn take_opt<T, U>(
        &mut self,
        field: &str,
        raw: Option<U>,
        parse: impl FnOnce(U) -> Result<T, Invalid>,
    ) -> Option<Option<T>> {
        match raw {
            None => Some(None),
            Some(raw) => self.take(field, parse(raw)).map(Some),
        }
    }

    /// Records a failure that is not the result of a parse (a rule across fields).
    pub fn push(&mut self, field: &str, invalid: Invalid) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            code: invalid.code,
            message: invalid.message,
        });
    }

    /// Records the failures of a whole group of fields checked elsewhere, and hands back
    /// the checked value.
    pub fn absorb<T>(&mut self, checked: Result<T, DomainError>) -> Option<T> {
        match checked {
            Ok(value) => Some(value),
            Err(DomainError::Invalid(errors)) => {
                self.errors.extend(errors);
                None
            }
            Err(other) => {
                self.other.get_or_insert(other);
                None
            }
        }
    }

    /// `Err` with every failure recorded, or the value `build` makes from the parsed parts.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, DomainError> {
        if let Some(other) = self.other {
            return Err(other);
        }
        if self.errors.is_empty() {
            // `build` only sees `None` parts when a failure was recorded, so it returns `Some` here.
            build().ok_or(DomainError::Invalid(self.errors))
        } else {
            Err(DomainError::Invalid(self.errors))
        }
    }
}
