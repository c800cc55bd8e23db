//! Organisations.

use crate::entities::organisation::{self, ActiveModel, Column, Entity, Model};
use crate::http::PageRequest;
use jobtour_domain::organisation::OrganisationFields;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// List filters.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub kind: Option<String>,
    pub city: Option<String>,
}

fn fields(f: OrganisationFields) -> ActiveModel {
    ActiveModel {
        name: Set(f.name),
        kind: Set(f.kind.as_str().to_owned()),
        sectors: Set(serde_json::to_string(&f.sectors).unwrap_or_else(|_| "[]".into())),
        city: Set(f.city),
        website: Set(f.website),
        contact_email: Set(f.contact_email),
        description: Set(f.description),
        employees: Set(f.employees),
        centres: Set(f.centres),
        founded_on: Set(f.founded_on),
        ..Default::default()
    }
}

pub async fn insert(db: &impl ConnectionTrait, f: OrganisationFields) -> Result<Model, DbErr> {
    let now = super::now();
    let model = ActiveModel {
        id: Set(Uuid::now_v7()),
        status: Set("active".to_owned()),
        merged_into_id: Set(None),
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

/// Reads the row and locks it until the transaction ends (`FOR UPDATE` on PostgreSQL; on
/// SQLite the transaction already holds the write lock), so that a read-modify-write is not
/// overtaken by a concurrent one.
pub async fn find_for_update(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).lock_exclusive().one(db).await
}

/// One page in id (creation) order.
pub async fn list(db: &impl ConnectionTrait, filter: &Filter, page: &PageRequest<Uuid>) -> Result<Vec<Model>, DbErr> {
    let mut q = super::id_page(Entity::find(), Column::Id, page);
    if let Some(kind) = &filter.kind {
        q = q.filter(Column::Kind.eq(kind.as_str()));
    }
    if let Some(city) = &filter.city {
        q = q.filter(Column::City.eq(city.as_str()));
    }
    q.all(db).await
}

/// Replaces the fields if the row is still at `version`; `None` when it is not (or is gone).
pub async fn update(
    db: &impl ConnectionTrait,
    id: Uuid,
    version: i32,
    f: OrganisationFields,
) -> Result<Option<Model>, DbErr> {
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

/// Deletes the row if it is still at `version`; whether it did.
pub async fn delete(db: &impl ConnectionTrait, id: Uuid, version: i32) -> Result<bool, DbErr> {
    super::delete_versioned::<Entity>(db, (Column::Id, id), (Column::Version, version)).await
}

/// The names of these organisations, in one query.
pub async fn names(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, String>, DbErr> {
    let rows: Vec<(Uuid, String)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Name)
        .filter(super::any_of(db.get_database_backend(), "organisations", "id", ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The sectors column, decoded.
pub fn sectors(model: &organisation::Model) -> Vec<String> {
    serde_json::from_str(&model.sectors).unwrap_or_default()
}

/// These organisations, locked until the transaction ends, taken in id order (two
/// transactions locking overlapping sets then wait for each other instead of deadlocking).
pub async fn find_many_for_update(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Model>, DbErr> {
    use sea_orm::QueryOrder;
    Entity::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(Column::Id)
        .lock_exclusive()
        .all(db)
        .await
}

/// Marks these clubs merged into `into`.
pub async fn mark_merged(db: &impl ConnectionTrait, ids: &[Uuid], into: Uuid) -> Result<(), DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    Entity::update_many()
        .col_expr(Column::Status, Expr::val("merged"))
        .col_expr(Column::MergedIntoId, Expr::val(into))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::val(super::now()))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// These organisations, by id, in one query.
pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, Model>, DbErr> {
    super::find_many::<Entity>(db, Column::Id, ids, |m| m.id).await
}
