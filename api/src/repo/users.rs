//! Staff users.

use crate::entities::user::{ActiveModel, Column, Entity, Model};
use crate::http::PageRequest;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

/// A user to create: every value already checked.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub organisation_id: Option<Uuid>,
}

/// What a PATCH changes; `None` leaves a column as it is.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub role: Option<String>,
    pub organisation_id: Option<Option<Uuid>>,
}

/// List filters.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub role: Option<String>,
    pub organisation_id: Option<Uuid>,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewUser) -> Result<Model, DbErr> {
    let now = super::now();
    let model = ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email),
        password_hash: Set(new.password_hash),
        role: Set(new.role),
        organisation_id: Set(new.organisation_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
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

/// By lower-cased e-mail.
pub async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::Email.eq(email)).one(db).await
}

pub async fn list(db: &impl ConnectionTrait, filter: &Filter, page: &PageRequest<Uuid>) -> Result<Vec<Model>, DbErr> {
    let mut q = super::id_page(Entity::find(), Column::Id, page);
    if let Some(role) = &filter.role {
        q = q.filter(Column::Role.eq(role.as_str()));
    }
    if let Some(org) = filter.organisation_id {
        q = q.filter(Column::OrganisationId.eq(org));
    }
    q.all(db).await
}

/// Applies the changes if the row is still at `version`; `None` when it is not.
pub async fn update(db: &impl ConnectionTrait, id: Uuid, version: i32, c: Changes) -> Result<Option<Model>, DbErr> {
    let set_or_keep = |v: Option<String>| v.map_or(NotSet, Set);
    let model = ActiveModel {
        email: set_or_keep(c.email),
        password_hash: set_or_keep(c.password_hash),
        role: set_or_keep(c.role),
        organisation_id: c.organisation_id.map_or(NotSet, Set),
        version: Set(version + 1),
        updated_at: Set(super::now()),
        ..Default::default()
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
