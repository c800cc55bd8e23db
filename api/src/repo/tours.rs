//! Tours and the organisations taking part in them.

use crate::entities::organisation;
use crate::entities::tour::{ActiveModel, Column, Entity, Model};
use crate::entities::tour_partner;
use crate::http::PageRequest;
use chrono::NaiveDate;
use jobtour_domain::tour::{TourFields, TourStatus};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// List filters.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Only these statuses (the public sees published and completed tours only).
    pub statuses: Option<Vec<&'static str>>,
    pub status: Option<String>,
    /// Tours still running on or after this day.
    pub from: Option<NaiveDate>,
    /// Tours starting on or before this day.
    pub to: Option<NaiveDate>,
}

fn fields(f: TourFields, organiser: Uuid, status: TourStatus) -> ActiveModel {
    ActiveModel {
        name: Set(f.name),
        description: Set(f.description),
        starts_on: Set(f.dates.starts_on()),
        ends_on: Set(f.dates.ends_on()),
        timezone: Set(f.timezone.name().to_owned()),
        status: Set(status.as_str().to_owned()),
        organiser_organisation_id: Set(organiser),
        positions_target: Set(f.positions_target),
        ..Default::default()
    }
}

pub async fn insert(db: &impl ConnectionTrait, f: TourFields, organiser: Uuid) -> Result<Model, DbErr> {
    let now = super::now();
    let model = ActiveModel {
        id: Set(Uuid::now_v7()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..fields(f, organiser, TourStatus::Draft)
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

/// Reads the tour and locks it until the transaction ends: every change to the tour or its
/// stops goes through this lock, so that two of them cannot both pass the itinerary checks.
pub async fn find_for_update(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).lock_exclusive().one(db).await
}

pub async fn list(db: &impl ConnectionTrait, filter: &Filter, page: &PageRequest<Uuid>) -> Result<Vec<Model>, DbErr> {
    let mut q = super::id_page(Entity::find(), Column::Id, page);
    if let Some(statuses) = &filter.statuses {
        q = q.filter(Column::Status.is_in(statuses.iter().copied()));
    }
    if let Some(status) = &filter.status {
        q = q.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(from) = filter.from {
        q = q.filter(Column::EndsOn.gte(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(Column::StartsOn.lte(to));
    }
    q.all(db).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: Uuid,
    version: i32,
    f: TourFields,
    organiser: Uuid,
    status: TourStatus,
) -> Result<Option<Model>, DbErr> {
    let model = ActiveModel {
        version: Set(version + 1),
        updated_at: Set(super::now()),
        ..fields(f, organiser, status)
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

/// Adds the organisation to the tour, or changes its role: `(row, whether it is new)`.
pub async fn put_partner(
    db: &impl ConnectionTrait,
    tour_id: Uuid,
    organisation_id: Uuid,
    role: Option<&str>,
) -> Result<(tour_partner::Model, bool), DbErr> {
    let existing = tour_partner::Entity::find_by_id((tour_id, organisation_id))
        .one(db)
        .await?;
    match (existing, role) {
        (Some(row), None) => Ok((row, false)),
        (Some(row), Some(role)) if row.role == role => Ok((row, false)),
        (Some(_), Some(role)) => {
            tour_partner::Entity::update_many()
                .col_expr(tour_partner::Column::Role, sea_orm::sea_query::Expr::value(role))
                .filter(tour_partner::Column::TourId.eq(tour_id))
                .filter(tour_partner::Column::OrganisationId.eq(organisation_id))
                .exec(db)
                .await?;
            let row = tour_partner::Entity::find_by_id((tour_id, organisation_id))
                .one(db)
                .await?;
            row.map(|r| (r, false))
                .ok_or_else(|| DbErr::RecordNotFound("tour partner".into()))
        }
        (None, role) => {
            let row = tour_partner::ActiveModel {
                tour_id: Set(tour_id),
                organisation_id: Set(organisation_id),
                role: Set(role.unwrap_or("employer").to_owned()),
                created_at: Set(super::now()),
            };
            Ok((tour_partner::Entity::insert(row).exec_with_returning(db).await?, true))
        }
    }
}

/// Whether the organisation takes part in the tour.
pub async fn takes_part(db: &impl ConnectionTrait, tour_id: Uuid, organisation_id: Uuid) -> Result<bool, DbErr> {
    Ok(tour_partner::Entity::find_by_id((tour_id, organisation_id))
        .one(db)
        .await?
        .is_some())
}

pub async fn remove_partner(db: &impl ConnectionTrait, tour_id: Uuid, organisation_id: Uuid) -> Result<bool, DbErr> {
    let done = tour_partner::Entity::delete_many()
        .filter(tour_partner::Column::TourId.eq(tour_id))
        .filter(tour_partner::Column::OrganisationId.eq(organisation_id))
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}

/// One page of a tour's partners, in organisation id order, each with its organisation.
pub async fn partners(
    db: &impl ConnectionTrait,
    tour_id: Uuid,
    page: &PageRequest<Uuid>,
) -> Result<Vec<(tour_partner::Model, organisation::Model)>, DbErr> {
    let mut q = tour_partner::Entity::find()
        .filter(tour_partner::Column::TourId.eq(tour_id))
        .order_by_asc(tour_partner::Column::OrganisationId)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        q = q.filter(tour_partner::Column::OrganisationId.gt(after));
    }
    let rows = q.all(db).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.organisation_id).collect();
    let orgs = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| orgs.iter().find(|o| o.id == r.organisation_id).cloned().map(|o| (r, o)))
        .collect())
}

/// Moves on the version of the tours these organisations organise (what the tours show of
/// their organiser changed).
pub async fn touch_organised_by(db: &impl ConnectionTrait, organisers: &[Uuid]) -> Result<(), DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    Entity::update_many()
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::OrganiserOrganisationId.is_in(organisers.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}
