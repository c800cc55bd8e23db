//! Partners' webhook subscriptions.

use crate::entities::webhook::{ActiveModel, Column, Entity, Model};
use crate::http::PageRequest;
use chrono::{DateTime, Utc};
use jobtour_domain::webhook::EventType;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

pub async fn insert(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    url: &str,
    events: &[EventType],
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Model, DbErr> {
    let names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        organisation_id: Set(organisation_id),
        url: Set(url.to_owned()),
        events: Set(serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned())),
        secret: Set(secret.to_owned()),
        created_at: Set(now),
    };
    Entity::insert(row).exec_with_returning(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// One page of an organisation's webhooks, oldest first.
pub async fn of_organisation(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    page: &PageRequest<Uuid>,
) -> Result<Vec<Model>, DbErr> {
    let q = Entity::find().filter(Column::OrganisationId.eq(organisation_id));
    super::id_page(q, Column::Id, page).all(db).await
}

/// The organisation's webhooks that listen to `event`.
pub async fn subscribed(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    event: EventType,
) -> Result<Vec<Model>, DbErr> {
    let all = Entity::find()
        .filter(Column::OrganisationId.eq(organisation_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    Ok(all.into_iter().filter(|w| listens_to(w, event)).collect())
}

/// The events a stored webhook listens to.
pub fn events(webhook: &Model) -> Vec<EventType> {
    serde_json::from_str::<Vec<String>>(&webhook.events)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| EventType::parse(e).ok())
        .collect()
}

fn listens_to(webhook: &Model, event: EventType) -> bool {
    events(webhook).contains(&event)
}

/// Deletes the webhook, with its messages and the record of their deliveries (cascade).
pub async fn delete(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let done = Entity::delete_by_id(id).exec(db).await?;
    Ok(done.rows_affected > 0)
}
