//! The audit log: who changed what, when, in which request. No candidate's personal data.

use crate::entities::audit_log::{ActiveModel, Column, Entity, Model};
use crate::http::PageRequest;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// One line of the log.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor_kind: &'static str,
    pub user_id: Option<Uuid>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<Uuid>,
    pub request_id: String,
    pub status: u16,
    pub at: DateTime<Utc>,
}

pub async fn insert(db: &impl ConnectionTrait, e: Entry) -> Result<(), DbErr> {
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_kind: Set(e.actor_kind.to_owned()),
        user_id: Set(e.user_id),
        action: Set(e.action),
        object_type: Set(e.object_type),
        object_id: Set(e.object_id),
        request_id: Set(e.request_id),
        status: Set(i32::from(e.status)),
        at: Set(e.at),
    };
    Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// The log's filters.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub object_type: Option<String>,
    pub object_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
}

/// One page in order of time (keyset on the id).
pub async fn list(db: &impl ConnectionTrait, filter: &Filter, page: &PageRequest<Uuid>) -> Result<Vec<Model>, DbErr> {
    let mut c = Condition::all();
    if let Some(t) = &filter.object_type {
        c = c.add(Column::ObjectType.eq(t.as_str()));
    }
    if let Some(id) = filter.object_id {
        c = c.add(Column::ObjectId.eq(id));
    }
    if let Some(id) = filter.user_id {
        c = c.add(Column::UserId.eq(id));
    }
    super::id_page(Entity::find().filter(c), Column::Id, page).all(db).await
}
