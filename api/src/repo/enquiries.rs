//! Enquiries to the development agency and their history.

use crate::entities::enquiry::{ActiveModel, Column, Entity, Model};
use crate::entities::enquiry_event;
use crate::http::PageRequest;
use chrono::{DateTime, Utc};
use jobtour_domain::enquiry::{EnquiryFields, EnquiryStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Stores a new enquiry and the first line of its history.
pub async fn insert(
    db: &impl ConnectionTrait,
    f: &EnquiryFields,
    token_hash: String,
    privacy_notice_version: &str,
    now: DateTime<Utc>,
) -> Result<Model, DbErr> {
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(Some(f.name.clone())),
        email: Set(Some(f.email.clone())),
        company: Set(Some(f.company.clone())),
        phone: Set(f.phone.clone()),
        subject: Set(f.subject.as_str().to_owned()),
        message: Set(Some(f.message.clone())),
        consent_at: Set(now),
        privacy_notice_version: Set(privacy_notice_version.to_owned()),
        status: Set(EnquiryStatus::New.as_str().to_owned()),
        assignee_id: Set(None),
        token_hash: Set(Some(token_hash)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        closed_at: Set(None),
        erased_at: Set(None),
    };
    let model = Entity::insert(row).exec_with_returning(db).await?;
    add_event(db, &model, None, None, now).await?;
    Ok(model)
}

/// A line of the history: the enquiry as it is now, moved from `from` by `by`.
pub async fn add_event(
    db: &impl ConnectionTrait,
    m: &Model,
    from: Option<&str>,
    by: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = enquiry_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        enquiry_id: Set(m.id),
        from_status: Set(from.map(str::to_owned)),
        to_status: Set(m.status.clone()),
        assignee_id: Set(m.assignee_id),
        by_user_id: Set(by),
        created_at: Set(at),
    };
    enquiry_event::Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

pub async fn find_for_update(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).lock_exclusive().one(db).await
}

/// The enquiry an access token opens, unless it was erased.
pub async fn id_for_token(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<Uuid>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::TokenHash.eq(token_hash))
        .filter(Column::ErasedAt.is_null())
        .into_tuple()
        .one(db)
        .await
}

/// The histories of these enquiries, oldest step first, in one query.
pub async fn histories(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<enquiry_event::Model>>, DbErr> {
    let rows = enquiry_event::Entity::find()
        .filter(enquiry_event::Column::EnquiryId.is_in(ids.iter().copied()))
        .order_by_asc(enquiry_event::Column::Id)
        .all(db)
        .await?;
    Ok(super::grouped(rows, |row| row.enquiry_id))
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<EnquiryStatus>,
    pub subject: Option<String>,
    pub assignee_id: Option<Uuid>,
}

/// One page in arrival order; erased enquiries are not listed.
pub async fn list(db: &impl ConnectionTrait, f: &Filter, page: &PageRequest<Uuid>) -> Result<Vec<Model>, DbErr> {
    let mut q = super::id_page(Entity::find().filter(Column::ErasedAt.is_null()), Column::Id, page);
    if let Some(status) = f.status {
        q = q.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(subject) = &f.subject {
        q = q.filter(Column::Subject.eq(subject.as_str()));
    }
    if let Some(assignee) = f.assignee_id {
        q = q.filter(Column::AssigneeId.eq(assignee));
    }
    q.all(db).await
}

/// Moves the enquiry to `status` with `assignee` if it is still at its version; the new row.
pub async fn update(
    db: &impl ConnectionTrait,
    current: &Model,
    status: EnquiryStatus,
    assignee: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<Model>, DbErr> {
    let closed_at = match status {
        EnquiryStatus::Closed => Some(current.closed_at.unwrap_or(now)),
        _ => None,
    };
    let changes = ActiveModel {
        status: Set(status.as_str().to_owned()),
        assignee_id: Set(assignee),
        closed_at: Set(closed_at),
        version: Set(current.version + 1),
        updated_at: Set(now),
        ..Default::default()
    };
    if super::update_versioned(
        db,
        changes,
        (Column::Id, current.id),
        (Column::Version, current.version),
    )
    .await?
    {
        find(db, current.id).await
    } else {
        Ok(None)
    }
}

/// Takes the enquirer's personal data out of the row, and its token: what stays (subject,
/// status, dates) counts in the statistics.
pub async fn erase(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Name, Expr::value(Option::<String>::None))
        .col_expr(Column::Email, Expr::value(Option::<String>::None))
        .col_expr(Column::Company, Expr::value(Option::<String>::None))
        .col_expr(Column::Phone, Expr::value(Option::<String>::None))
        .col_expr(Column::Message, Expr::value(Option::<String>::None))
        .col_expr(Column::TokenHash, Expr::value(Option::<String>::None))
        .col_expr(Column::ErasedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// `(subject, arrived at)` of every enquiry that arrived in `[from, to)`, erased ones included.
pub async fn arrivals(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>)>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Subject)
        .column(Column::CreatedAt)
        .filter(Column::CreatedAt.gte(from))
        .filter(Column::CreatedAt.lt(to))
        .into_tuple()
        .all(db)
        .await
}

/// The enquiries closed before `closed_before` that still hold personal data.
pub async fn past_retention(db: &impl ConnectionTrait, closed_before: DateTime<Utc>) -> Result<Vec<Uuid>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Status.eq(EnquiryStatus::Closed.as_str()))
        .filter(Column::ClosedAt.lt(closed_before))
        .filter(Column::ErasedAt.is_null())
        .order_by_asc(Column::Id)
        .into_tuple()
        .all(db)
        .await
}
