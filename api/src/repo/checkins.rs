//! Check-ins at the stops, the attendance counted from them, the server's signing keys and the
//! one-use tickets of the attendance stream.

use super::stats::{all, one, total};
use crate::entities::checkin::{ActiveModel, Column, Entity, Model};
use crate::entities::{booking, slot, stream_ticket};
use crate::http::PageRequest;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    Statement,
};
use std::collections::HashMap;
use uuid::Uuid;

/// A check-in to record.
#[derive(Debug, Clone, Copy)]
pub struct New {
    pub stop_id: Uuid,
    pub tour_id: Uuid,
    pub application_id: Uuid,
    pub organisation_id: Uuid,
    pub walk_in: bool,
    pub forced: bool,
    pub scanned_at: DateTime<Utc>,
    pub by_user_id: Uuid,
    pub now: DateTime<Utc>,
}

/// Records the check-in unless the application is checked in at the stop already; the
/// check-in that stands, and whether it is this one. Concurrent scans of one code all get the
/// same row: the unique index lets one insert through and the others find it.
pub async fn record(db: &impl ConnectionTrait, new: New) -> Result<(Model, bool), DbErr> {
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        stop_id: Set(new.stop_id),
        tour_id: Set(new.tour_id),
        application_id: Set(new.application_id),
        organisation_id: Set(new.organisation_id),
        walk_in: Set(new.walk_in),
        forced: Set(new.forced),
        scanned_at: Set(new.scanned_at),
        created_at: Set(new.now),
        by_user_id: Set(Some(new.by_user_id)),
    };
    let inserted = Entity::insert(row)
        .on_conflict_do_nothing_on([Column::StopId, Column::ApplicationId])
        .exec_without_returning(db)
        .await?;
    let created = matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0);
    let model = find_at(db, new.stop_id, new.application_id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("a check-in just recorded".into()))?;
    Ok((model, created))
}

/// The application's check-in at the stop, if any.
pub async fn find_at(db: &impl ConnectionTrait, stop_id: Uuid, application_id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::StopId.eq(stop_id))
        .filter(Column::ApplicationId.eq(application_id))
        .one(db)
        .await
}

/// Every check-in of these applications, oldest first (for the candidate's export).
pub async fn of_applications(db: &impl ConnectionTrait, application_ids: &[Uuid]) -> Result<Vec<Model>, DbErr> {
    use sea_orm::QueryOrder;
    Entity::find()
        .filter(Column::ApplicationId.is_in(application_ids.iter().copied()))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// One page of the stop's check-ins, in the order they were recorded.
pub async fn page_for_stop(
    db: &impl ConnectionTrait,
    stop_id: Uuid,
    page: &PageRequest<Uuid>,
) -> Result<Vec<Model>, DbErr> {
    super::id_page(Entity::find().filter(Column::StopId.eq(stop_id)), Column::Id, page)
        .all(db)
        .await
}

/// Check-ins and the walk-ins among them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromQueryResult)]
pub struct Arrivals {
    pub checked_in: i64,
    pub walk_ins: i64,
}

#[derive(Debug, FromQueryResult)]
struct ArrivalsBy {
    key: Uuid,
    checked_in: i64,
    walk_ins: i64,
}

#[derive(Debug, FromQueryResult)]
struct Waiting {
    organisation_id: Uuid,
    booked_not_arrived: i64,
}

/// A stop's arrivals in all.
pub async fn arrivals(db: &impl ConnectionTrait, stop_id: Uuid) -> Result<Arrivals, DbErr> {
    let mut q = arrivals_query();
    q.and_where(Expr::col(Column::StopId).eq(stop_id));
    one(db, q).await
}

/// A stop's arrivals per employer (of the position applied to).
pub async fn arrivals_by_employer(db: &impl ConnectionTrait, stop_id: Uuid) -> Result<HashMap<Uuid, Arrivals>, DbErr> {
    let mut q = arrivals_query();
    q.expr_as(Expr::col(Column::OrganisationId), Alias::new("key"))
        .and_where(Expr::col(Column::StopId).eq(stop_id))
        .group_by_col(Column::OrganisationId);
    by_key(db, q).await
}

/// A tour's arrivals per stop; only `organisation`'s when given.
pub async fn arrivals_by_stop(
    db: &impl ConnectionTrait,
    tour_id: Uuid,
    organisation: Option<Uuid>,
) -> Result<HashMap<Uuid, Arrivals>, DbErr> {
    let mut q = arrivals_query();
    q.expr_as(Expr::col(Column::StopId), Alias::new("key"))
        .and_where(Expr::col(Column::TourId).eq(tour_id))
        .group_by_col(Column::StopId);
    if let Some(org) = organisation {
        q.and_where(Expr::col(Column::OrganisationId).eq(org));
    }
    by_key(db, q).await
}

fn arrivals_query() -> SelectStatement {
    Query::select()
        .expr_as(Expr::col(Column::Id).count(), Alias::new("checked_in"))
        .expr_as(
            total(
                Expr::case(Expr::col(Column::WalkIn).eq(true), 1i32)
                    .finally(0i32)
                    .into(),
            ),
            Alias::new("walk_ins"),
        )
        .from(Entity)
        .to_owned()
}

async fn by_key(db: &impl ConnectionTrait, q: SelectStatement) -> Result<HashMap<Uuid, Arrivals>, DbErr> {
    Ok(all::<ArrivalsBy>(db, q)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.key,
                Arrivals {
                    checked_in: r.checked_in,
                    walk_ins: r.walk_ins,
                },
            )
        })
        .collect())
}

/// Per employer: the candidates booked in its interview slots at the stop who have not checked
/// in there (yet).
pub async fn booked_not_arrived(db: &impl ConnectionTrait, stop_id: Uuid) -> Result<HashMap<Uuid, i64>, DbErr> {
    let (b, s) = (booking::Entity, slot::Entity);
    let arrived = Query::select()
        .expr(Expr::val(1))
        .from(Entity)
        .and_where(Expr::col((Entity, Column::StopId)).equals((s, slot::Column::StopId)))
        .and_where(Expr::col((Entity, Column::ApplicationId)).equals((b, booking::Column::ApplicationId)))
        .to_owned();
    let q = Query::select()
        .expr_as(
            Expr::col((s, slot::Column::OrganisationId)),
            Alias::new("organisation_id"),
        )
        .expr_as(
            Expr::col((b, booking::Column::Id)).count(),
            Alias::new("booked_not_arrived"),
        )
        .from(b)
        .inner_join(s, Expr::col((s, slot::Column::Id)).equals((b, booking::Column::SlotId)))
        .and_where(Expr::col((s, slot::Column::StopId)).eq(stop_id))
        .and_where(Expr::col((b, booking::Column::Status)).eq("active"))
        .and_where(Expr::exists(arrived).not())
        .group_by_col((s, slot::Column::OrganisationId))
        .to_owned();
    Ok(all::<Waiting>(db, q)
        .await?
        .into_iter()
        .map(|r| (r.organisation_id, r.booked_not_arrived))
        .collect())
}

/// The secret kept under `name`: the one stored, or `fresh` stored now. Of instances starting
/// together, the first to insert wins and every one reads its secret back.
pub async fn server_key(
    db: &impl ConnectionTrait,
    name: &str,
    fresh: &str,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let backend = db.get_database_backend();
    let (insert, select) = match backend {
        DbBackend::Postgres => (
            "INSERT INTO server_keys (name, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
            "SELECT secret FROM server_keys WHERE name = $1",
        ),
        _ => (
            "INSERT INTO server_keys (name, secret, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
            "SELECT secret FROM server_keys WHERE name = ?",
        ),
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        insert,
        [name.into(), fresh.into(), now.into()],
    ))
    .await?;
    db.query_one_raw(Statement::from_sql_and_values(backend, select, [name.into()]))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("server key {name}")))?
        .try_get::<String>("", "secret")
}

/// Stores a stream ticket (by its hash).
pub async fn insert_ticket(db: &impl ConnectionTrait, ticket: stream_ticket::Model) -> Result<(), DbErr> {
    let row = stream_ticket::ActiveModel {
        token_hash: Set(ticket.token_hash),
        stop_id: Set(ticket.stop_id),
        user_id: Set(ticket.user_id),
        expires_at: Set(ticket.expires_at),
    };
    stream_ticket::Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// Uses up the ticket: the ticket if it was there, for this stop, and not expired; it is gone
/// afterwards whatever the answer (of two requests with one ticket, one gets it). Expired
/// tickets are swept on the way.
pub async fn take_ticket(
    db: &impl ConnectionTrait,
    token_hash: &str,
    stop_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<stream_ticket::Model>, DbErr> {
    use stream_ticket::{Column as T, Entity as Tickets};
    let found = Tickets::find_by_id(token_hash.to_owned()).one(db).await?;
    let taken = Tickets::delete_many()
        .filter(T::TokenHash.eq(token_hash))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    Tickets::delete_many().filter(T::ExpiresAt.lt(now)).exec(db).await?;
    Ok(found.filter(|t| taken && t.stop_id == stop_id && t.expires_at >= now))
}
