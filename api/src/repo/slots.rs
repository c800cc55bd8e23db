//! Interview slots, their bookings and their waiting lines. Seats and places are counted by
//! conditional updates of the slot's row: the database refuses a booking past the capacity
//! (and the CHECK backs it), whatever runs at the same time.

use crate::entities::booking;
use crate::entities::slot::{ActiveModel, Column, Entity, Model};
use crate::entities::waiting_place;
use crate::http::PageRequest;
use chrono::{DateTime, Utc};
use jobtour_domain::slot::{Capacity, SlotTimes};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, QueryStatementBuilder};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// A slot's own fields.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub times: SlotTimes,
    pub capacity: Capacity,
    pub position_id: Option<Uuid>,
}

/// Where a slot is and whose it is.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub stop_id: Uuid,
    pub tour_id: Uuid,
    pub organisation_id: Uuid,
}

pub async fn insert(db: &impl ConnectionTrait, place: Place, w: Written) -> Result<Model, DbErr> {
    let now = super::now();
    let model = ActiveModel {
        id: Set(Uuid::now_v7()),
        stop_id: Set(place.stop_id),
        tour_id: Set(place.tour_id),
        organisation_id: Set(place.organisation_id),
        position_id: Set(w.position_id),
        starts_at: Set(w.times.starts_at()),
        ends_at: Set(w.times.ends_at()),
        capacity: Set(w.capacity.get()),
        booked: Set(0),
        waiting: Set(0),
        tickets: Set(0),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Entity::insert(model).exec_with_returning(db).await
}

/// Replaces the slot's times, capacity and position if it is still at `version`.
pub async fn update(db: &impl ConnectionTrait, id: Uuid, version: i32, w: Written) -> Result<Option<Model>, DbErr> {
    let changes = ActiveModel {
        position_id: Set(w.position_id),
        starts_at: Set(w.times.starts_at()),
        ends_at: Set(w.times.ends_at()),
        capacity: Set(w.capacity.get()),
        version: Set(version + 1),
        updated_at: Set(super::now()),
        ..Default::default()
    };
    if !super::update_versioned(db, changes, (Column::Id, id), (Column::Version, version)).await? {
        return Ok(None);
    }
    // The active bookings keep the slot's start, for the record should the slot go.
    booking::Entity::update_many()
        .col_expr(booking::Column::SlotStartsAt, Expr::value(w.times.starts_at()))
        .filter(booking::Column::SlotId.eq(id))
        .filter(booking::Column::Status.eq("active"))
        .exec(db)
        .await?;
    find(db, id).await
}

pub async fn delete(db: &impl ConnectionTrait, id: Uuid, version: i32) -> Result<bool, DbErr> {
    super::delete_versioned::<Entity>(db, (Column::Id, id), (Column::Version, version)).await
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// Reads and locks the slot until the transaction ends.
pub async fn find_for_update(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).lock_exclusive().one(db).await
}

/// These slots, by id, in one query.
pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, Model>, DbErr> {
    super::find_many::<Entity>(db, Column::Id, ids, |m| m.id).await
}

/// One employer's slots at one stop, in time order: what a new one must not overlap.
pub async fn of_employer_at(
    db: &impl ConnectionTrait,
    stop_id: Uuid,
    organisation_id: Uuid,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::StopId.eq(stop_id))
        .filter(Column::OrganisationId.eq(organisation_id))
        .order_by_asc(Column::StartsAt)
        .all(db)
        .await
}

/// Every slot at a stop.
pub async fn of_stop(db: &impl ConnectionTrait, stop_id: Uuid) -> Result<Vec<Model>, DbErr> {
    Entity::find().filter(Column::StopId.eq(stop_id)).all(db).await
}

/// The list's filters.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub organisation_id: Option<Uuid>,
    pub position_id: Option<Uuid>,
    /// Only slots with a free seat.
    pub available: bool,
}

/// One page of a stop's slots in time order (keyset on the start, then the id).
pub async fn page_for_stop(
    db: &impl ConnectionTrait,
    stop_id: Uuid,
    filter: &Filter,
    page: &PageRequest<(DateTime<Utc>, Uuid)>,
) -> Result<Vec<Model>, DbErr> {
    let mut c = Condition::all().add(Column::StopId.eq(stop_id));
    if let Some(org) = filter.organisation_id {
        c = c.add(Column::OrganisationId.eq(org));
    }
    if let Some(position) = filter.position_id {
        c = c.add(Column::PositionId.eq(position));
    }
    if filter.available {
        c = c.add(Expr::col(Column::Booked).lt(Expr::col(Column::Capacity)));
    }
    if let Some((at, id)) = page.after {
        c = c.add(
            Condition::any()
                .add(Column::StartsAt.gt(at))
                .add(Condition::all().add(Column::StartsAt.eq(at)).add(Column::Id.gt(id))),
        );
    }
    Entity::find()
        .filter(c)
        .order_by_asc(Column::StartsAt)
        .order_by_asc(Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await
}

/// Takes a seat if one is free: `UPDATE … SET booked = booked + 1 WHERE booked < capacity`.
/// Whether it did.
pub async fn take_seat(db: &impl ConnectionTrait, slot_id: Uuid) -> Result<bool, DbErr> {
    let done = Entity::update_many()
        .col_expr(Column::Booked, Expr::col(Column::Booked).add(1))
        .filter(Column::Id.eq(slot_id))
        .filter(Expr::col(Column::Booked).lt(Expr::col(Column::Capacity)))
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}

/// Gives a seat back.
pub async fn free_seat(db: &impl ConnectionTrait, slot_id: Uuid) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Booked, Expr::col(Column::Booked).sub(1))
        .filter(Column::Id.eq(slot_id))
        .filter(Column::Booked.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Hands out the next ticket of a full slot's line: `None` when the slot has a free seat.
pub async fn next_ticket(db: &impl ConnectionTrait, slot_id: Uuid) -> Result<Option<i32>, DbErr> {
    let rows = Entity::update_many()
        .col_expr(Column::Waiting, Expr::col(Column::Waiting).add(1))
        .col_expr(Column::Tickets, Expr::col(Column::Tickets).add(1))
        .filter(Column::Id.eq(slot_id))
        .filter(Expr::col(Column::Booked).gte(Expr::col(Column::Capacity)))
        .exec_with_returning(db)
        .await?;
    Ok(rows.first().map(|m| m.tickets))
}

/// One fewer in the slot's line.
pub async fn left_line(db: &impl ConnectionTrait, slot_id: Uuid) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Waiting, Expr::col(Column::Waiting).sub(1))
        .filter(Column::Id.eq(slot_id))
        .filter(Column::Waiting.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find_booking(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<booking::Model>, DbErr> {
    booking::Entity::find_by_id(id).one(db).await
}

/// The application's active booking, if any.
pub async fn active_booking(db: &impl ConnectionTrait, application_id: Uuid) -> Result<Option<booking::Model>, DbErr> {
    booking::Entity::find()
        .filter(booking::Column::ApplicationId.eq(application_id))
        .filter(booking::Column::Status.eq("active"))
        .one(db)
        .await
}

/// The active bookings of these applications, by application.
pub async fn active_bookings(
    db: &impl ConnectionTrait,
    application_ids: &[Uuid],
) -> Result<HashMap<Uuid, booking::Model>, DbErr> {
    let rows = booking::Entity::find()
        .filter(booking::Column::ApplicationId.is_in(application_ids.iter().copied()))
        .filter(booking::Column::Status.eq("active"))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|b| (b.application_id, b)).collect())
}

/// Every booking of these applications, cancelled ones too, oldest first (for an export).
pub async fn all_bookings(db: &impl ConnectionTrait, application_ids: &[Uuid]) -> Result<Vec<booking::Model>, DbErr> {
    booking::Entity::find()
        .filter(booking::Column::ApplicationId.is_in(application_ids.iter().copied()))
        .order_by_asc(booking::Column::Id)
        .all(db)
        .await
}

/// A slot's active bookings, in the order they were made.
pub async fn bookings_of(db: &impl ConnectionTrait, slot_id: Uuid) -> Result<Vec<booking::Model>, DbErr> {
    booking::Entity::find()
        .filter(booking::Column::SlotId.eq(slot_id))
        .filter(booking::Column::Status.eq("active"))
        .order_by_asc(booking::Column::Id)
        .all(db)
        .await
}

/// Records a booking; a second active one for the application breaks the unique index.
pub async fn insert_booking(
    db: &impl ConnectionTrait,
    slot: &Model,
    application_id: Uuid,
    now: DateTime<Utc>,
) -> Result<booking::Model, DbErr> {
    let row = booking::ActiveModel {
        id: Set(Uuid::now_v7()),
        slot_id: Set(Some(slot.id)),
        application_id: Set(application_id),
        status: Set("active".to_owned()),
        slot_starts_at: Set(slot.starts_at),
        created_at: Set(now),
        cancelled_at: Set(None),
        cancel_reason: Set(None),
    };
    booking::Entity::insert(row).exec_with_returning(db).await
}

/// Cancels an active booking, saying why: whether it was still active.
pub async fn cancel_booking(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value("cancelled"))
        .col_expr(booking::Column::CancelledAt, Expr::value(now))
        .col_expr(booking::Column::CancelReason, Expr::value(reason))
        .filter(booking::Column::Id.eq(booking_id))
        .filter(booking::Column::Status.eq("active"))
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}

/// The application's place in a line, if it waits.
pub async fn waiting_place(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Option<waiting_place::Model>, DbErr> {
    waiting_place::Entity::find()
        .filter(waiting_place::Column::ApplicationId.eq(application_id))
        .one(db)
        .await
}

/// Puts the application in the slot's line with its ticket; a second line for the application
/// breaks the unique index.
pub async fn insert_waiting(
    db: &impl ConnectionTrait,
    slot_id: Uuid,
    application_id: Uuid,
    ticket: i32,
) -> Result<waiting_place::Model, DbErr> {
    let row = waiting_place::ActiveModel {
        id: Set(Uuid::now_v7()),
        slot_id: Set(slot_id),
        application_id: Set(application_id),
        ticket: Set(ticket),
        created_at: Set(super::now()),
    };
    waiting_place::Entity::insert(row).exec_with_returning(db).await
}

pub async fn remove_waiting(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    waiting_place::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// The first in the slot's line (lowest ticket).
pub async fn first_in_line(db: &impl ConnectionTrait, slot_id: Uuid) -> Result<Option<waiting_place::Model>, DbErr> {
    waiting_place::Entity::find()
        .filter(waiting_place::Column::SlotId.eq(slot_id))
        .order_by_asc(waiting_place::Column::Ticket)
        .one(db)
        .await
}

#[derive(Debug, FromQueryResult)]
struct PlaceRow {
    application_id: Uuid,
    slot_id: Uuid,
    place: i64,
}

/// Where these applications stand in their lines, 1-based: `(slot, place)` by application, in
/// one query (a place is one more than the tickets before it in the same line).
pub async fn places(db: &impl ConnectionTrait, application_ids: &[Uuid]) -> Result<HashMap<Uuid, (Uuid, i64)>, DbErr> {
    use waiting_place::{Column as C, Entity as W};
    if application_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let other = Alias::new("other");
    let ahead = Query::select()
        .expr(Expr::col((other.clone(), C::Id)).count())
        .from_as(W, other.clone())
        .and_where(Expr::col((other.clone(), C::SlotId)).equals((W, C::SlotId)))
        .and_where(Expr::col((other, C::Ticket)).lt(Expr::col((W, C::Ticket))))
        .to_owned();
    let query = Query::select()
        .column((W, C::ApplicationId))
        .column((W, C::SlotId))
        .expr_as(
            Expr::expr(Expr::SubQuery(None, Box::new(ahead.into_sub_query_statement()))).add(1),
            Alias::new("place"),
        )
        .from(W)
        .and_where(Expr::col((W, C::ApplicationId)).is_in(application_ids.iter().copied()))
        .to_owned();
    let mut out = HashMap::new();
    for row in db.query_all(&query).await? {
        let r = PlaceRow::from_query_result(&row, "")?;
        out.insert(r.application_id, (r.slot_id, r.place));
    }
    Ok(out)
}
