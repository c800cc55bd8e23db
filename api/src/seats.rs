//! Keeping the seats of interview slots, inside the caller's transaction: booking, cancelling,
//! waiting, and filling a freed seat from the slot's line at once (first come, first served).
//!
//! The database is the referee: a seat is taken by a conditional `UPDATE … WHERE booked <
//! capacity` (and a CHECK), an application holds one active booking and one waiting place at
//! most (unique indexes). Rust decides the order of the steps, never whether a seat is free.
//! Locks are taken application first, then slot, as every path here does.

use crate::entities::{application, booking, slot, waiting_place};
use crate::error::{ApiError, ApiResult, Violation, violation};
use crate::notify;
use crate::repo::{self, slots};
use chrono::{DateTime, Utc};
use jobtour_domain::DomainError;
use jobtour_domain::application::ApplicationStatus;
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::VecDeque;
use uuid::Uuid;

/// Why a booking ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The candidate cancelled it.
    Candidate,
    /// The application moved to another slot.
    Moved,
    /// The application was withdrawn.
    Withdrawn,
    /// The application was rejected.
    Rejected,
    /// An organiser deleted the slot.
    SlotDeleted,
    /// The candidate's personal data was erased.
    Erased,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Candidate => "candidate",
            Self::Moved => "moved",
            Self::Withdrawn => "withdrawn",
            Self::Rejected => "rejected",
            Self::SlotDeleted => "slot_deleted",
            Self::Erased => "erased",
        }
    }
}

/// Books `application` into `slot`, whose rules (`may_book`) the caller has checked, with the
/// application's row locked. Already booked there: the booking as it is (`false`: nothing new).
/// Booked elsewhere: 409 `already_booked`, unless `move_it`, which cancels the other booking
/// and fills the seat it frees from that slot's line. No seat left: 409 `slot_full`, and
/// nothing of the above stays (the caller's transaction rolls back).
pub async fn book(
    tx: &impl ConnectionTrait,
    application: &application::Model,
    slot: &slot::Model,
    move_it: bool,
    now: DateTime<Utc>,
) -> ApiResult<(booking::Model, bool)> {
    let held = slots::active_booking(tx, application.id).await?;
    if let Some(held) = held {
        match held.slot_id {
            Some(id) if id == slot.id => return Ok((held, false)),
            Some(other) if !move_it => return Err(DomainError::AlreadyBooked { slot_id: other }.into()),
            _ => {}
        }
        cancel(tx, &held, Reason::Moved, now).await?;
    }
    let booking = seat(tx, slot, application, false, now).await?;
    // A candidate who gets a seat in the slot it waited for leaves that line.
    if let Some(place) = slots::waiting_place(tx, application.id).await?
        && place.slot_id == slot.id
    {
        leave_line(tx, &place).await?;
    }
    Ok((booking, true))
}

/// Takes a seat in the slot, records the booking and tells the candidate and the employer:
/// 409 `slot_full` when none is left. `from_line`: the seat is given from the waiting list.
async fn seat(
    tx: &impl ConnectionTrait,
    slot: &slot::Model,
    application: &application::Model,
    from_line: bool,
    now: DateTime<Utc>,
) -> ApiResult<booking::Model> {
    if !slots::take_seat(tx, slot.id).await? {
        return Err(DomainError::SlotFull.into());
    }
    let booking = slots::insert_booking(tx, slot, application.id, now)
        .await
        .map_err(|e| one_booking_each(e, slot.id))?;
    notify::booked(tx, &booking, slot, application, from_line, now).await?;
    Ok(booking)
}

/// The unique index on active bookings fired: another request booked the application first.
fn one_booking_each(err: DbErr, slot_id: Uuid) -> ApiError {
    match violation(&err) {
        Some(Violation::Unique) => DomainError::AlreadyBooked { slot_id }.into(),
        _ => err.into(),
    }
}

/// Cancels an active booking, gives its seat back and fills it from the slot's line.
pub async fn cancel(
    tx: &impl ConnectionTrait,
    booking: &booking::Model,
    reason: Reason,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if !slots::cancel_booking(tx, booking.id, reason.as_str(), now).await? {
        return Ok(());
    }
    notify::cancelled(tx, booking, reason, now).await?;
    if let Some(slot_id) = booking.slot_id {
        slots::free_seat(tx, slot_id).await?;
        fill_from_line(tx, slot_id, now).await?;
    }
    Ok(())
}

/// Puts the application in a full slot's line, with its application row locked. Already in
/// that line: its place as it is. In another line: 409 `already_waiting` unless `move_it`. A
/// slot with a free seat: 409 `slot_available`. Booked in this very slot: 409 `already_booked`.
pub async fn wait(
    tx: &impl ConnectionTrait,
    application_id: Uuid,
    slot: &slot::Model,
    move_it: bool,
) -> ApiResult<(waiting_place::Model, bool)> {
    if let Some(held) = slots::active_booking(tx, application_id).await?
        && held.slot_id == Some(slot.id)
    {
        return Err(DomainError::AlreadyBooked { slot_id: slot.id }.into());
    }
    if let Some(place) = slots::waiting_place(tx, application_id).await? {
        if place.slot_id == slot.id {
            return Ok((place, false));
        }
        if !move_it {
            return Err(DomainError::AlreadyWaiting { slot_id: place.slot_id }.into());
        }
        leave_line(tx, &place).await?;
    }
    let ticket = slots::next_ticket(tx, slot.id)
        .await?
        .ok_or(DomainError::SlotAvailable)?;
    let place = slots::insert_waiting(tx, slot.id, application_id, ticket)
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::Unique) => DomainError::AlreadyWaiting { slot_id: slot.id }.into(),
            _ => ApiError::from(e),
        })?;
    Ok((place, true))
}

/// Takes the application out of the line it waits in.
pub async fn leave_line(tx: &impl ConnectionTrait, place: &waiting_place::Model) -> ApiResult<()> {
    slots::remove_waiting(tx, place.id).await?;
    slots::left_line(tx, place.slot_id).await?;
    Ok(())
}

/// Takes the application out of whatever line it waits in (a hired candidate waits no more).
pub async fn leave_lines(tx: &impl ConnectionTrait, application_id: Uuid) -> ApiResult<()> {
    if let Some(place) = slots::waiting_place(tx, application_id).await? {
        leave_line(tx, &place).await?;
    }
    Ok(())
}

/// An application leaves the game (withdrawn, rejected): its booking is cancelled (the seat
/// goes to the first in line) and it leaves the line it waits in.
pub async fn release_all(
    tx: &impl ConnectionTrait,
    application_id: Uuid,
    reason: Reason,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    leave_lines(tx, application_id).await?;
    if let Some(held) = slots::active_booking(tx, application_id).await? {
        cancel(tx, &held, reason, now).await?;
    }
    Ok(())
}

/// Fills the free seats of `slot_id` from its line, first ticket first, in the caller's
/// transaction. A promoted candidate booked in another slot moves, and the seat it frees goes to
/// that slot's line in turn: a chain, finite because every step empties a waiting place. A slot
/// that has begun takes nobody from its line.
pub async fn fill_from_line(tx: &impl ConnectionTrait, slot_id: Uuid, now: DateTime<Utc>) -> ApiResult<()> {
    let mut freed = VecDeque::from([slot_id]);
    while let Some(slot_id) = freed.pop_front() {
        loop {
            let Some(slot) = slots::find_for_update(tx, slot_id).await? else {
                break;
            };
            if slot.booked >= slot.capacity || now >= slot.starts_at {
                break;
            }
            let Some(first) = slots::first_in_line(tx, slot.id).await? else {
                break;
            };
            // The promoted candidate's row, locked as every booking path locks it. One that left
            // the pipeline has left the line already; should one be found, it is passed over.
            let candidate = repo::applications::find_for_update(tx, first.application_id).await?;
            leave_line(tx, &first).await?;
            let Some(candidate) =
                candidate.filter(|a| ApplicationStatus::parse(&a.status).is_ok_and(ApplicationStatus::is_active))
            else {
                continue;
            };
            if let Some(held) = slots::active_booking(tx, first.application_id).await? {
                slots::cancel_booking(tx, held.id, Reason::Moved.as_str(), now).await?;
                notify::cancelled(tx, &held, Reason::Moved, now).await?;
                if let Some(other) = held.slot_id {
                    slots::free_seat(tx, other).await?;
                    freed.push_back(other);
                }
            }
            seat(tx, &slot, &candidate, true, now).await?;
        }
    }
    Ok(())
}
