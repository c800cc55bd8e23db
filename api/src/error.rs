//! `ApiError`: the one error path. Every failure a handler, an extractor, the domain or the
//! database can produce becomes an RFC 9457 `application/problem+json` answer with a stable
//! machine `code`. Internal causes are logged, never sent.

use crate::messages;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use jobtour_domain::DomainError;
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem: what every error answer carries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:jobtour:problem:<code>`.
    #[schema(example = "urn:jobtour:problem:validation_failed")]
    pub r#type: String,
    /// Short summary of the kind of problem.
    #[schema(example = "Unprocessable Content")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong with this request, for a human.
    #[schema(example = "2 field(s) are invalid")]
    pub detail: String,
    /// Stable, machine-readable code; clients match on it.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Per-field failures, for `validation_failed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// For `invalid_transition`: the states the resource may move to from where it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// For `stop_overlap`: the stop this one would overlap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflicting_stop_id: Option<uuid::Uuid>,
    /// For `stops_outside_tour`: the stops the change would leave outside the tour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_ids: Option<Vec<uuid::Uuid>>,
    /// For `slots_outside_stop`: the interview slots the change would leave outside the stop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot_ids: Option<Vec<uuid::Uuid>>,
    /// For `slot_overlap`: the employer's slot this one would overlap; for `already_booked` and
    /// `already_waiting`: the slot the application is booked in or waits for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot_id: Option<uuid::Uuid>,
}

/// One field that failed validation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field, as named in the request (`email`, `sectors[1]`).
    #[schema(example = "email")]
    pub field: String,
    /// Stable reason code (`required`, `too_long`, `invalid_email`…).
    #[schema(example = "invalid_email")]
    pub code: String,
    /// Human explanation.
    #[schema(example = "must be an e-mail address like name@example.org")]
    pub message: String,
}

/// An error answer under construction; boxed so that `Result<T, ApiError>` stays small.
#[derive(Debug)]
pub struct ApiError(Box<ErrorParts>);

#[derive(Debug)]
pub struct ErrorParts {
    status: StatusCode,
    code: &'static str,
    detail: String,
    errors: Vec<ProblemField>,
    allowed: Option<Vec<String>>,
    conflicting_stop_id: Option<uuid::Uuid>,
    stop_ids: Option<Vec<uuid::Uuid>>,
    slot_id: Option<uuid::Uuid>,
    slot_ids: Option<Vec<uuid::Uuid>>,
    retry_after: Option<u64>,
    /// The database gave up the transaction to break a deadlock or a serialization conflict:
    /// running it again will likely succeed.
    retryable: bool,
    allow: Option<String>,
    /// Logged for 5xx answers, never sent.
    cause: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(ErrorParts {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            allowed: None,
            conflicting_stop_id: None,
            stop_ids: None,
            slot_id: None,
            slot_ids: None,
            retry_after: None,
            retryable: false,
            allow: None,
            cause: None,
        }))
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("no such {what}"))
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "log in and send the token as `Authorization: Bearer <token>`",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "the resource changed since you read it (If-Match does not match its ETag): read it again",
        )
    }

    pub fn too_many_attempts(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("too many failed attempts: try again in {retry_after_secs} s"),
        );
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// Tells the client when to try again (`Retry-After`, in seconds).
    pub fn set_retry_after(&mut self, secs: u64) {
        self.retry_after = Some(secs.max(1));
    }

    pub fn method_not_allowed(allow: String) -> Self {
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this resource allows {allow}"),
        );
        e.allow = Some(allow);
        e
    }

    /// A 500 whose cause is logged and hidden.
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong on our side; it has been logged",
        );
        e.cause = Some(cause.to_string());
        e
    }

    /// A 422 with one failed field.
    pub fn invalid_field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        DomainError::field(field, jobtour_domain::error::Invalid::new(code, message)).into()
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Whether the database aborted the transaction to break a deadlock or a serialization
    /// conflict (worth running again).
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The problem in English.
    pub fn problem(&self) -> Problem {
        self.problem_in(messages::Lang::En)
    }

    /// The problem in `lang`: title, detail and field messages from the catalogue
    /// (`messages`); codes and the rest are the same in every language.
    pub fn problem_in(&self, lang: messages::Lang) -> Problem {
        Problem {
            r#type: format!("urn:jobtour:problem:{}", self.code),
            title: messages::title(self.status, lang),
            status: self.status.as_u16(),
            detail: messages::detail(self.code, &self.detail, lang),
            code: self.code.to_owned(),
            errors: self
                .errors
                .iter()
                .map(|f| ProblemField {
                    field: f.field.clone(),
                    code: f.code.clone(),
                    message: messages::field_message(&f.code, &f.message, lang),
                })
                .collect(),
            allowed: self.allowed.clone(),
            conflicting_stop_id: self.conflicting_stop_id,
            stop_ids: self.stop_ids.clone(),
            slot_ids: self.slot_ids.clone(),
            slot_id: self.slot_id,
        }
    }

    /// Maps a database error met while deleting: a foreign key that still points at the row
    /// means the row owns data, which is a conflict (`in_use`, saying `detail`), not a bad
    /// reference.
    pub fn from_delete(err: DbErr, detail: &str) -> Self {
        match violation(&err) {
            Some(Violation::ForeignKey) => Self::conflict("in_use", detail),
            _ => err.into(),
        }
    }
}

impl std::ops::Deref for ApiError {
    type Target = ErrorParts;

    fn deref(&self) -> &ErrorParts {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorParts {
        &mut self.0
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)?;
        if let Some(cause) = &self.cause {
            write!(f, " (cause: {cause})")?;
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(
                code = self.code,
                cause = self.cause.as_deref().unwrap_or(""),
                "request failed"
            );
        }
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(allow) = &self.allow {
            res.insert_header((header::ALLOW, allow.clone()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        let lang = messages::current();
        res.insert_header((header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag())));
        res.body(serde_json::to_vec(&self.problem_in(lang)).unwrap_or_default())
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Invalid(fields) => {
                let mut e = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    format!("{} field(s) are invalid", fields.len()),
                );
                e.errors = fields
                    .into_iter()
                    .map(|f| ProblemField {
                        field: f.field,
                        code: f.code.to_owned(),
                        message: f.message,
                    })
                    .collect();
                e
            }
            DomainError::InvalidTransition { from, to, allowed } => {
                let mut e = Self::conflict(
                    "invalid_transition",
                    format!(
                        "cannot go from {from} to {to}; allowed: {}",
                        if allowed.is_empty() {
                            "none".to_owned()
                        } else {
                            allowed.join(", ")
                        }
                    ),
                );
                e.allowed = Some(allowed.into_iter().map(str::to_owned).collect());
                e
            }
            DomainError::StopOverlap { other } => {
                let mut e = Self::conflict("stop_overlap", format!("the bus is at stop {other} at that time"));
                e.conflicting_stop_id = Some(other);
                e
            }
            DomainError::StopsOutsideTour { stops } => {
                let mut e = Self::conflict(
                    "stops_outside_tour",
                    format!(
                        "{} stop(s) would fall outside the tour's days: move or delete them first",
                        stops.len()
                    ),
                );
                e.stop_ids = Some(stops);
                e
            }
            DomainError::PositionNotOpen { reason } => {
                Self::conflict("position_not_open", format!("{reason}: it does not take applications"))
            }
            DomainError::PositionFilled => Self::conflict(
                "position_filled",
                "every opening of the position is filled: raise its openings to hire more",
            ),
            DomainError::OpeningsBelowFilled { filled } => Self::conflict(
                "openings_below_filled",
                format!("the position has already hired {filled}: openings cannot go below that"),
            ),
            DomainError::SlotOverlap { other } => {
                let mut e = Self::conflict(
                    "slot_overlap",
                    format!("the employer already has slot {other} at this stop at that time"),
                );
                e.slot_id = Some(other);
                e
            }
            DomainError::CapacityBelowBooked { booked } => Self::conflict(
                "capacity_below_booked",
                format!("{booked} seat(s) are booked: the capacity cannot go below that"),
            ),
            DomainError::SlotHasBookings { booked } => Self::conflict(
                "slot_has_bookings",
                format!("{booked} candidate(s) booked this slot: an organiser may delete it with ?force=true"),
            ),
            DomainError::SlotsOutsideStop { slots } => {
                let mut e = Self::conflict(
                    "slots_outside_stop",
                    format!(
                        "{} interview slot(s) would fall outside the stop's stay: move or delete them first",
                        slots.len()
                    ),
                );
                e.slot_ids = Some(slots);
                e
            }
            DomainError::SlotFull => {
                Self::conflict("slot_full", "every seat of this slot is taken: join its waiting list")
            }
            DomainError::SlotAvailable => {
                Self::conflict("slot_available", "this slot has a free seat: book it instead")
            }
            DomainError::AlreadyBooked { slot_id } => {
                let mut e = Self::conflict(
                    "already_booked",
                    "the application is booked in another slot: cancel that booking, or book with ?move=true",
                );
                e.slot_id = Some(slot_id);
                e
            }
            DomainError::AlreadyWaiting { slot_id } => {
                let mut e = Self::conflict(
                    "already_waiting",
                    "the application waits for another slot: leave that line, or join with ?move=true",
                );
                e.slot_id = Some(slot_id);
                e
            }
            DomainError::ApplicationNotActive { status } => Self::conflict(
                "application_not_active",
                format!("the application is {status}: it books no interview"),
            ),
            DomainError::TourCancelled => Self::conflict("tour_cancelled", "the tour was cancelled"),
            DomainError::SlotStarted => Self::conflict("slot_started", "the slot has already begun"),
            DomainError::WrongTour => Self::conflict(
                "wrong_tour",
                "this slot is on another tour than the one the application is for",
            ),
            DomainError::StopNotOpen { opens_at, closes_at } => Self::conflict(
                "stop_not_open",
                format!(
                    "the stop takes check-ins from {} to {} (an hour before the bus arrives until it leaves); an organiser may force one",
                    opens_at.to_rfc3339(),
                    closes_at.to_rfc3339()
                ),
            ),
            DomainError::NotAClub { id } => Self::conflict(
                "not_a_club",
                format!("organisation {id} is not a club: only a club has members and merges"),
            ),
            DomainError::OrganisationMerged { id } => Self::conflict(
                "organisation_merged",
                format!("organisation {id} was merged into another club: it changes no more"),
            ),
            DomainError::OwnMember => Self::conflict("own_member", "a club is not a member of itself"),
            DomainError::MergeIntoItself { id } => Self::conflict(
                "merge_into_itself",
                format!("club {id} is among the clubs merged: it cannot be the one they go into"),
            ),
            DomainError::WrongEmployer => Self::conflict(
                "wrong_employer",
                "this slot is another employer's than the one the application is for",
            ),
        }
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        match violation(&err) {
            Some(Violation::Unique) => {
                return Self::conflict("already_exists", "a resource with the same unique value already exists");
            }
            Some(Violation::ForeignKey) => {
                return Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_reference",
                    "a referenced resource does not exist",
                );
            }
            Some(Violation::Exclusion) => {
                return Self::conflict(
                    "conflict",
                    "the change conflicts with existing data (for a stop: another stop of the tour at that time)",
                );
            }
            Some(Violation::Check) => {
                return Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "constraint_violated",
                    "the request breaks a rule of the data model",
                );
            }
            None => {}
        }
        if aborted_to_resolve_a_conflict(&err) {
            let mut e = Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_busy",
                "the request met concurrent changes: retry shortly",
            );
            e.retry_after = Some(1);
            e.retryable = true;
            e.cause = Some(err.to_string());
            return e;
        }
        match &err {
            _ if database_unreachable(&err) => {
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_busy",
                    "the database is busy or unreachable: retry shortly",
                );
                e.retry_after = Some(1);
                e.cause = Some(err.to_string());
                e
            }
            _ => Self::internal(err),
        }
    }
}

/// Which database constraint an error reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    Unique,
    ForeignKey,
    /// CHECK constraints back the domain's rules; should one fire, the client sent bad data.
    Check,
    /// An exclusion rule (two stops of a tour overlapping): a conflict with existing data.
    Exclusion,
}

/// Classifies a constraint violation portably: sea-orm's `sql_err()`, plus the codes it does
/// not know (SQLite reports a RESTRICT foreign key as 1811, SQLITE_CONSTRAINT_TRIGGER).
pub fn violation(err: &DbErr) -> Option<Violation> {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => return Some(Violation::Unique),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => return Some(Violation::ForeignKey),
        _ => {}
    }
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err else {
        return None;
    };
    // PostgreSQL 23514 check_violation, 23P01 exclusion_violation; SQLite 275
    // SQLITE_CONSTRAINT_CHECK, 1811 SQLITE_CONSTRAINT_TRIGGER (a RESTRICT foreign key, or one
    // of our triggers, told apart by the message).
    let db = e.as_database_error()?;
    match db.code().as_deref() {
        Some("23514" | "275") => Some(Violation::Check),
        Some("23P01") => Some(Violation::Exclusion),
        Some("1811") if db.message().contains("FOREIGN KEY") => Some(Violation::ForeignKey),
        Some("1811") => Some(Violation::Exclusion),
        _ => None,
    }
}

/// PostgreSQL 40001 serialization_failure and 40P01 deadlock_detected: the database rolled the
/// transaction back so that others could go on.
fn aborted_to_resolve_a_conflict(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err else {
        return false;
    };
    e.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "40001" || code == "40P01")
}

/// Whether the error says the database is down, restarting or out of reach (not that the
/// statement was wrong): no free connection in time, a connection refused or cut, or PostgreSQL
/// shutting down or starting up (SQLSTATE classes 08 and 57). The client should retry.
fn database_unreachable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match &**e {
            Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
            Sqlx::Database(db) => db
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57")),
            _ => false,
        },
        _ => false,
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;
