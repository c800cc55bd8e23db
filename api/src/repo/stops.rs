//! Stops of a tour.

use crate::entities::position_stop;
use crate::entities::stop::{ActiveModel, Column, Entity, Model};
use crate::http::PageRequest;
use chrono::{DateTime, Utc};
use jobtour_domain::tour::{StopFields, StopTimes};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Query,
};
use std::collections::HashMap;
use uuid::Uuid;

fn fields(f: StopFields) -> ActiveModel {
    ActiveModel {
        city: Set(f.city),
        postcode: Set(f.postcode),
        venue: Set(f.venue),
        address: Set(f.address),
        latitude: Set(f.latitude),
        longitude: Set(f.longitude),
        arrives_at: Set(f.times.arrives_at()),
        departs_at: Set(f.times.departs_at()),
        notes: Set(f.notes),
        ..Default::default()
    }
}

pub async fn insert(db: &impl ConnectionTrait, tour_id: Uuid, f: StopFields) -> Result<Model, DbErr> {
    let now = super::now();
    let model = ActiveModel {
        id: Set(Uuid::now_v7()),
        tour_id: Set(tour_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..fields(f)
    };
    Entity::insert(model).exec_with_returning(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// These rows, by id, in one query.
pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, Model>, DbErr> {
    super::find_many::<Entity>(db, Column::Id, ids, |m| m.id).await
}

/// All stops of a tour, in time order.
pub async fn all_for_tour(db: &impl ConnectionTrait, tour_id: Uuid) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::TourId.eq(tour_id))
        .order_by_asc(Column::ArrivesAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// The stops of a position, in itinerary order (arrival, then id, as `positions::stops_of`).
pub async fn of_position(db: &impl ConnectionTrait, position_id: Uuid) -> Result<Vec<Model>, DbErr> {
    let at = Query::select()
        .column(position_stop::Column::StopId)
        .from(position_stop::Entity)
        .and_where(position_stop::Column::PositionId.eq(position_id))
        .to_owned();
    Entity::find()
        .filter(Column::Id.in_subquery(at))
        .order_by_asc(Column::ArrivesAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// One page of a tour's stops, in time order (keyset on arrival, then id).
pub async fn page_for_tour(
    db: &impl ConnectionTrait,
    tour_id: Uuid,
    page: &PageRequest<(DateTime<Utc>, Uuid)>,
) -> Result<Vec<Model>, DbErr> {
    let mut q = Entity::find()
        .filter(Column::TourId.eq(tour_id))
        .order_by_asc(Column::ArrivesAt)
        .order_by_asc(Column::Id)
        .limit(page.limit + 1);
    if let Some((at, id)) = page.after {
        q = q.filter(
            Condition::any()
                .add(Column::ArrivesAt.gt(at))
                .add(Condition::all().add(Column::ArrivesAt.eq(at)).add(Column::Id.gt(id))),
        );
    }
    q.all(db).await
}

/// The stays of a tour's stops, but `except` (the stop being changed).
pub fn stays(stops: &[Model], except: Option<Uuid>) -> Vec<(Uuid, StopTimes)> {
    stops
        .iter()
        .filter(|s| Some(s.id) != except)
        .filter_map(|s| StopTimes::new(s.arrives_at, s.departs_at).ok().map(|t| (s.id, t)))
        .collect()
}

pub async fn update(db: &impl ConnectionTrait, id: Uuid, version: i32, f: StopFields) -> Result<Option<Model>, DbErr> {
    let model = ActiveModel {
        version: Set(version + 1),
        updated_at: Set(super::now()),
        ..fields(f)
    };
    if super::update_versioned(db, model, (Column::Id, id), (Column::Version, version)).await? {
        find(db, id).await
    } else {
        Ok(None)
    }
}

pub async fn delete(db: &impl ConnectionTrait, id: Uuid, version: i32) -> Result<bool, DbErr> {
    super::delete_versioned::<Entity>(db, (Column::Id, id), (Column::Version, version)).await
}
