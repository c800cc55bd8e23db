//! Memberships of organisations in clubs, with their history, and what mergers write.

use super::stats::{all, one};
use crate::entities::membership::{ActiveModel, Column, Entity, Model};
use crate::entities::organisation;
use crate::http::PageRequest;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

/// The membership of `member` in `club` that has not ended, if any.
pub async fn open(db: &impl ConnectionTrait, club: Uuid, member: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::ClubId.eq(club))
        .filter(Column::MemberId.eq(member))
        .filter(Column::LeftOn.is_null())
        .one(db)
        .await
}

/// A new membership from `joined_on`.
pub async fn insert(
    db: &impl ConnectionTrait,
    club: Uuid,
    member: Uuid,
    joined_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Model, DbErr> {
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        club_id: Set(club),
        member_id: Set(member),
        joined_on: Set(joined_on),
        left_on: Set(None),
        created_at: Set(now),
    };
    Entity::insert(row).exec_with_returning(db).await
}

/// Ends the open memberships matching `which` on `left_on` (on the day they began, for those
/// that begin later); how many.
async fn end(db: &impl ConnectionTrait, which: Condition, left_on: NaiveDate) -> Result<u64, DbErr> {
    let done = Entity::update_many()
        .col_expr(
            Column::LeftOn,
            Expr::case(Expr::col(Column::JoinedOn).gt(left_on), Expr::col(Column::JoinedOn))
                .finally(Expr::val(left_on))
                .into(),
        )
        .filter(which)
        .filter(Column::LeftOn.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Ends this one membership on `left_on`.
pub async fn end_one(db: &impl ConnectionTrait, id: Uuid, left_on: NaiveDate) -> Result<u64, DbErr> {
    end(db, Condition::all().add(Column::Id.eq(id)), left_on).await
}

/// Ends every open membership in these clubs on `left_on`; how many.
pub async fn end_all_in(db: &impl ConnectionTrait, clubs: &[Uuid], left_on: NaiveDate) -> Result<u64, DbErr> {
    end(
        db,
        Condition::all().add(Column::ClubId.is_in(clubs.iter().copied())),
        left_on,
    )
    .await
}

/// The members of these clubs whose membership has not ended, in the order they joined.
pub async fn open_members(db: &impl ConnectionTrait, clubs: &[Uuid]) -> Result<Vec<Uuid>, DbErr> {
    Ok(Entity::find()
        .filter(Column::ClubId.is_in(clubs.iter().copied()))
        .filter(Column::LeftOn.is_null())
        .order_by_asc(Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.member_id)
        .collect())
}

/// A page of the club's memberships that hold on `day`, in the order they began.
pub async fn page_on(
    db: &impl ConnectionTrait,
    club: Uuid,
    day: NaiveDate,
    page: &PageRequest<Uuid>,
) -> Result<Vec<Model>, DbErr> {
    let q = Entity::find().filter(Column::ClubId.eq(club)).filter(holds_on(day));
    super::id_page(q, Column::Id, page).all(db).await
}

fn holds_on(day: NaiveDate) -> Condition {
    Condition::all().add(Column::JoinedOn.lte(day)).add(
        Condition::any()
            .add(Column::LeftOn.is_null())
            .add(Column::LeftOn.gt(day)),
    )
}

/// A club's members on a day, and their head counts and sites summed (unknown ones count 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromQueryResult)]
pub struct Figures {
    pub members: i64,
    pub employees: i64,
    pub centres: i64,
}

pub async fn figures_on(db: &impl ConnectionTrait, club: Uuid, day: NaiveDate) -> Result<Figures, DbErr> {
    let (m, o) = (Entity, organisation::Entity);
    let sum = |c: organisation::Column| -> Expr {
        Func::coalesce([Func::sum(Expr::col((o, c))).into(), Expr::val(0i64)]).into()
    };
    let q = Query::select()
        .expr_as(Expr::col((m, Column::Id)).count(), Alias::new("members"))
        .expr_as(sum(organisation::Column::Employees), Alias::new("employees"))
        .expr_as(sum(organisation::Column::Centres), Alias::new("centres"))
        .from(m)
        .inner_join(
            o,
            Expr::col((o, organisation::Column::Id)).equals((m, Column::MemberId)),
        )
        .and_where(Expr::col((m, Column::ClubId)).eq(club))
        .and_where(Expr::col((m, Column::JoinedOn)).lte(day))
        .and_where(
            Expr::col((m, Column::LeftOn))
                .is_null()
                .or(Expr::col((m, Column::LeftOn)).gt(day)),
        )
        .to_owned();
    one(db, q).await
}

/// The memberships of `member` that hold on `day`.
pub async fn clubs_of(db: &impl ConnectionTrait, member: Uuid, day: NaiveDate) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::MemberId.eq(member))
        .filter(holds_on(day))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

#[derive(Debug, FromQueryResult)]
struct Related {
    id: Uuid,
}

/// Moves the version of these organisations on, so that their `ETag`s change with what their
/// representation shows of memberships.
pub async fn touch(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    organisation::Entity::update_many()
        .col_expr(
            organisation::Column::Version,
            Expr::col(organisation::Column::Version).add(1),
        )
        .filter(organisation::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// The organisations whose representation shows `id`'s name or figures: the clubs it belongs
/// to and its members, while their memberships last.
pub async fn related(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<Uuid>, DbErr> {
    let clubs = Query::select()
        .expr_as(Expr::col(Column::ClubId), Alias::new("id"))
        .from(Entity)
        .and_where(Expr::col(Column::MemberId).eq(id))
        .and_where(Expr::col(Column::LeftOn).is_null())
        .to_owned();
    let members = Query::select()
        .expr_as(Expr::col(Column::MemberId), Alias::new("id"))
        .from(Entity)
        .and_where(Expr::col(Column::ClubId).eq(id))
        .and_where(Expr::col(Column::LeftOn).is_null())
        .to_owned();
    let mut ids: Vec<Uuid> = all::<Related>(db, clubs).await?.into_iter().map(|r| r.id).collect();
    ids.extend(all::<Related>(db, members).await?.into_iter().map(|r| r.id));
    Ok(ids)
}
