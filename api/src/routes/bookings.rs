//! A candidate's seat in an interview slot, and its place in a full slot's waiting line, both
//! taken with the application's access token; who booked a slot, for staff. Every step runs in
//! one transaction with the seats it frees refilled from the line (`crate::seats`).

use crate::auth::{Actor, SignedIn};
use crate::entities::{application, booking, slot, tour};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, Page};
use crate::policy::{self, Action, Object};
use crate::repo::{self, slots};
use crate::routes::slots::readable;
use crate::routes::stops::tour_zone;
use crate::routes::tours::is_public;
use crate::seats;
use crate::state::AppState;

use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpResponse, delete, get, put};
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use jobtour_domain::application::ApplicationStatus;
use jobtour_domain::slot::{Fit, SlotTimes, may_book};
use jobtour_domain::tour::TourStatus;
use sea_orm::DatabaseTransaction;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A seat in an interview slot for one application.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "slot_id": "019a6b2e-4444-7e21-9a3f-2b8c4d5e6f70", "application_id": "019a6b2e-9999-7e21-9a3f-2b8c4d5e6f70",
    "stop_id": "019a6b2e-3333-7e21-9a3f-2b8c4d5e6f70", "starts_at": "2027-10-19T10:00:00+02:00",
    "ends_at": "2027-10-19T10:20:00+02:00", "booked_at": "2027-10-02T18:30:00Z"
}))]
pub struct Booking {
    pub slot_id: Uuid,
    pub application_id: Uuid,
    pub stop_id: Uuid,
    /// In the tour's time zone.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<FixedOffset>,
    pub booked_at: DateTime<Utc>,
}

impl Booking {
    pub fn new(booking: &booking::Model, slot: &slot::Model, tz: Tz) -> Self {
        Self {
            slot_id: slot.id,
            application_id: booking.application_id,
            stop_id: slot.stop_id,
            starts_at: slot.starts_at.with_timezone(&tz).fixed_offset(),
            ends_at: slot.ends_at.with_timezone(&tz).fixed_offset(),
            booked_at: booking.created_at,
        }
    }
}

/// A place in a full slot's waiting line: when a seat frees, the first in line is booked at once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({ "slot_id": "019a6b2e-4444-7e21-9a3f-2b8c4d5e6f70",
    "application_id": "019a6b2e-9999-7e21-9a3f-2b8c4d5e6f70", "position": 3 }))]
pub struct WaitingPlace {
    pub slot_id: Uuid,
    pub application_id: Uuid,
    /// Place in line, 1-based.
    pub position: i64,
}

/// A candidate booked in a slot, as staff see it: the names for the slot's employer and
/// organisers only.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotBooking {
    pub application_id: Uuid,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub booked_at: DateTime<Utc>,
}

/// `?move=true`: leave the other slot (or line) for this one, in one transaction.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MoveQuery {
    #[serde(rename = "move")]
    #[param(rename = "move")]
    pub move_it: Option<bool>,
}

/// Books the application (the bearer of its access token) into the slot: 201 the first time,
/// 200 when it is booked there already. 409 `slot_full`, `already_booked` (booked elsewhere;
/// `?move=true` moves it, freeing the other seat for that slot's line), `application_not_active`,
/// `tour_cancelled`, `slot_started`, `wrong_employer`.
#[utoipa::path(tag = "slots", operation_id = "bookSlot", params(("id" = Uuid, Path), MoveQuery), security(("candidate" = [])), responses(
    (status = 201, description = "Booked", body = Booking, headers(("Location" = String))),
    (status = 200, description = "Booked there already", body = Booking),
    (status = 409, description = "`slot_full`, `already_booked`, `application_not_active`, `tour_cancelled`, `slot_started`, `wrong_employer`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[put("/slots/{id}/booking")]
pub async fn book(
    state: Data<AppState>,
    actor: Actor,
    id: Path<Uuid>,
    query: Query<MoveQuery>,
) -> ApiResult<HttpResponse> {
    let (application_id, slot_id) = (candidate(&actor)?, id.into_inner());
    let move_it = query.into_inner().move_it.unwrap_or(false);
    let (booking, created) = state
        .db
        .transaction(async |tx| {
            let (application, slot, tz) = bookable(tx, application_id, slot_id).await?;
            let (booking, created) = seats::book(tx, &application, &slot, move_it, repo::now()).await?;
            Ok((Booking::new(&booking, &slot, tz), created))
        })
        .await?;
    Ok(http::created_or_ok(
        created,
        format!("/api/v1/slots/{slot_id}/booking"),
        &booking,
    ))
}

/// Cancels the application's booking in this slot; the seat goes to the first in line.
#[utoipa::path(tag = "slots", operation_id = "cancelBooking", params(("id" = Uuid, Path)), security(("candidate" = [])), responses(
    (status = 204, description = "Cancelled"),
))]
#[delete("/slots/{id}/booking")]
pub async fn cancel(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let (application_id, slot_id) = (candidate(&actor)?, id.into_inner());
    state
        .db
        .transaction(async |tx| {
            let application = own_application(tx, application_id).await?;
            seat_slot(tx, slot_id).await?;
            match slots::active_booking(tx, application.id).await? {
                Some(held) if held.slot_id == Some(slot_id) => {
                    seats::cancel(tx, &held, seats::Reason::Candidate, repo::now()).await
                }
                _ => Err(ApiError::not_found("booking")),
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Joins a full slot's waiting line: 201 with the place, 200 when in it already. A slot with a
/// free seat is a 409 `slot_available` (book it); waiting in another line, a 409
/// `already_waiting` (`?move=true` changes lines). The application may wait while booked in
/// another slot: when a seat frees here it moves, and its old seat goes to that slot's line.
#[utoipa::path(tag = "slots", operation_id = "joinWaitlist", params(("id" = Uuid, Path), MoveQuery), security(("candidate" = [])), responses(
    (status = 201, description = "In line", body = WaitingPlace, headers(("Location" = String))),
    (status = 200, description = "In this line already", body = WaitingPlace),
    (status = 409, description = "`slot_available`, `already_waiting`, `already_booked`, `application_not_active`, `tour_cancelled`, `slot_started`, `wrong_employer`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[put("/slots/{id}/waitlist")]
pub async fn join_waitlist(
    state: Data<AppState>,
    actor: Actor,
    id: Path<Uuid>,
    query: Query<MoveQuery>,
) -> ApiResult<HttpResponse> {
    let (application_id, slot_id) = (candidate(&actor)?, id.into_inner());
    let move_it = query.into_inner().move_it.unwrap_or(false);
    let (place, created) = state
        .db
        .transaction(async |tx| {
            let (application, slot, _) = bookable(tx, application_id, slot_id).await?;
            let (_, created) = seats::wait(tx, application.id, &slot, move_it).await?;
            let (_, position) = slots::places(tx, &[application.id])
                .await?
                .remove(&application.id)
                .ok_or_else(|| ApiError::internal("a waiting place went missing"))?;
            Ok((
                WaitingPlace {
                    slot_id,
                    application_id,
                    position,
                },
                created,
            ))
        })
        .await?;
    Ok(http::created_or_ok(
        created,
        format!("/api/v1/slots/{slot_id}/waitlist"),
        &place,
    ))
}

/// Leaves the slot's waiting line.
#[utoipa::path(tag = "slots", operation_id = "leaveWaitlist", params(("id" = Uuid, Path)), security(("candidate" = [])), responses(
    (status = 204, description = "Left the line"),
))]
#[delete("/slots/{id}/waitlist")]
pub async fn leave_waitlist(state: Data<AppState>, actor: Actor, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let (application_id, slot_id) = (candidate(&actor)?, id.into_inner());
    state
        .db
        .transaction(async |tx| {
            let application = own_application(tx, application_id).await?;
            seat_slot(tx, slot_id).await?;
            match slots::waiting_place(tx, application.id).await? {
                Some(place) if place.slot_id == slot_id => seats::leave_line(tx, &place).await,
                _ => Err(ApiError::not_found("waiting place")),
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who booked the slot, in booking order (staff: the names for the slot's employer and
/// organisers only).
#[utoipa::path(tag = "slots", operation_id = "listSlotBookings", params(("id" = Uuid, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "The slot's bookings (a slot seats at most 50: one page)", body = Page<SlotBooking>),
))]
#[get("/slots/{id}/bookings")]
pub async fn bookings(
    signed_in: SignedIn,
    state: Data<AppState>,
    id: Path<Uuid>,
) -> ApiResult<Json<Page<SlotBooking>>> {
    let actor = signed_in.actor();
    let db = state.db.conn();
    let (slot, tour) = readable(db, &actor, id.into_inner()).await?;
    policy::may(
        &actor,
        Action::Read,
        Object::SlotBookings {
            public: is_public(&tour),
        },
    )?;
    let names = policy::sees_candidates(&actor, slot.organisation_id);
    let rows = slots::bookings_of(db, slot.id).await?;
    let ids: Vec<Uuid> = rows.iter().map(|b| b.application_id).collect();
    let applications = if names {
        repo::applications::find_many(db, &ids).await?
    } else {
        Default::default()
    };
    Ok(Json(Page {
        items: rows
            .into_iter()
            .map(|b| {
                let who = applications.get(&b.application_id);
                SlotBooking {
                    application_id: b.application_id,
                    first_name: who.and_then(|a| a.first_name.clone()),
                    last_name: who.and_then(|a| a.last_name.clone()),
                    booked_at: b.created_at,
                }
            })
            .collect(),
        next_cursor: None,
    }))
}

/// The application a candidate's token opens; 401 for an anonymous caller, 403 for staff (who
/// do not book for candidates).
fn candidate(actor: &Actor) -> ApiResult<Uuid> {
    policy::may(actor, Action::Update, Object::Seat)?;
    match actor {
        Actor::Candidate { application_id } => Ok(*application_id),
        _ => Err(ApiError::forbidden(
            "only a candidate books, with its application's token",
        )),
    }
}

/// The caller's application, locked (every seat-keeping path locks it first).
async fn own_application(tx: &DatabaseTransaction, id: Uuid) -> ApiResult<application::Model> {
    repo::applications::find_for_update(tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("application"))
}

/// A slot as a candidate finds it to book or to wait for, with its tour: a draft tour's slots do
/// not exist for candidates (404); a cancelled tour's are there, to be refused (409
/// `tour_cancelled`).
async fn seat_slot(tx: &DatabaseTransaction, slot_id: Uuid) -> ApiResult<(slot::Model, tour::Model)> {
    let slot = slots::find(tx, slot_id)
        .await?
        .ok_or_else(|| ApiError::not_found("slot"))?;
    match repo::tours::find(tx, slot.tour_id).await? {
        Some(tour) if TourStatus::parse(&tour.status) != Ok(TourStatus::Draft) => Ok((slot, tour)),
        _ => Err(ApiError::not_found("slot")),
    }
}

/// The caller's application (locked) and a slot it may take a seat in, by the domain's rules.
async fn bookable(
    tx: &DatabaseTransaction,
    application_id: Uuid,
    slot_id: Uuid,
) -> ApiResult<(application::Model, slot::Model, Tz)> {
    let application = own_application(tx, application_id).await?;
    let (slot, tour) = seat_slot(tx, slot_id).await?;
    let tour_status = TourStatus::parse(&tour.status).map_err(|e| ApiError::internal(e.message))?;
    let status = ApplicationStatus::parse(&application.status).map_err(|e| ApiError::internal(e.message))?;
    let times = SlotTimes::new(slot.starts_at, slot.ends_at).map_err(|e| ApiError::internal(e.message))?;
    let fit = Fit {
        same_tour: slot.tour_id == application.tour_id,
        same_employer: slot.organisation_id == application.organisation_id,
    };
    may_book(tour_status, status, fit, times, repo::now())?;
    Ok((application, slot, tour_zone(&tour)?))
}
