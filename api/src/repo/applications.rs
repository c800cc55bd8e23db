//! Applications and their status history.

use crate::entities::application::{ActiveModel, Column, Entity, Model};
use crate::entities::application_event;
use crate::http::PageRequest;
use chrono::{DateTime, Utc};
use jobtour_domain::application::{ApplicationFields, ApplicationStatus};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Who changed an application's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Staff(Uuid),
    Candidate,
}

impl By {
    fn kind(self) -> &'static str {
        match self {
            Self::Staff(_) => "staff",
            Self::Candidate => "candidate",
        }
    }

    fn user_id(self) -> Option<Uuid> {
        match self {
            Self::Staff(id) => Some(id),
            Self::Candidate => None,
        }
    }
}

/// What a new application is made of, besides the candidate's fields.
#[derive(Debug, Clone)]
pub struct New<'a> {
    pub position_id: Uuid,
    pub tour_id: Uuid,
    pub organisation_id: Uuid,
    pub fields: &'a ApplicationFields,
    pub token_hash: String,
    pub privacy_notice_version: &'a str,
    pub source: &'a str,
    pub now: DateTime<Utc>,
}

/// Stores a new application and the first line of its history. A second application with the
/// same e-mail to the same position breaks the unique index (the caller maps it to a 409).
pub async fn insert(db: &impl ConnectionTrait, new: New<'_>) -> Result<(Model, application_event::Model), DbErr> {
    let f = new.fields;
    let model = ActiveModel {
        id: Set(Uuid::now_v7()),
        position_id: Set(new.position_id),
        tour_id: Set(new.tour_id),
        organisation_id: Set(new.organisation_id),
        first_name: Set(Some(f.first_name.clone())),
        last_name: Set(Some(f.last_name.clone())),
        email: Set(Some(f.email.clone())),
        phone: Set(f.phone.clone()),
        message: Set(f.message.clone()),
        preferred_stop_id: Set(f.preferred_stop_id),
        consent_at: Set(new.now),
        privacy_notice_version: Set(new.privacy_notice_version.to_owned()),
        status: Set(ApplicationStatus::Submitted.as_str().to_owned()),
        source: Set(new.source.to_owned()),
        token_hash: Set(Some(new.token_hash)),
        version: Set(1),
        created_at: Set(new.now),
        updated_at: Set(new.now),
        erased_at: Set(None),
    };
    let model = Entity::insert(model).exec_with_returning(db).await?;
    let event = add_event(
        db,
        model.id,
        (None, ApplicationStatus::Submitted),
        By::Candidate,
        None,
        new.now,
    )
    .await?;
    Ok((model, event))
}

/// Every application made with this (lower-cased) e-mail, oldest first.
pub async fn with_email(db: &impl ConnectionTrait, email: &str) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Email.eq(email))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// Clears the application's personal data (names, e-mail, phone, message, access token) and the
/// notes of its history; the row stays, anonymous, for the figures.
pub async fn erase(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::FirstName, Expr::value(Option::<String>::None))
        .col_expr(Column::LastName, Expr::value(Option::<String>::None))
        .col_expr(Column::Email, Expr::value(Option::<String>::None))
        .col_expr(Column::Phone, Expr::value(Option::<String>::None))
        .col_expr(Column::Message, Expr::value(Option::<String>::None))
        .col_expr(Column::TokenHash, Expr::value(Option::<String>::None))
        .col_expr(Column::ErasedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    application_event::Entity::update_many()
        .col_expr(application_event::Column::Note, Expr::value(Option::<String>::None))
        .filter(application_event::Column::ApplicationId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Applications not yet erased whose tour ended on or before `ended_by`: the retention
/// period is over for them.
pub async fn past_retention(db: &impl ConnectionTrait, ended_by: chrono::NaiveDate) -> Result<Vec<Model>, DbErr> {
    use crate::entities::tour;
    use sea_orm::sea_query::Query;
    Entity::find()
        .filter(Column::ErasedAt.is_null())
        .filter(
            Column::TourId.in_subquery(
                Query::select()
                    .column(tour::Column::Id)
                    .from(tour::Entity)
                    .and_where(tour::Column::EndsOn.lte(ended_by))
                    .to_owned(),
            ),
        )
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// The application a candidate's token opens.
pub async fn id_for_token(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<Uuid>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::TokenHash.eq(token_hash))
        .into_tuple()
        .one(db)
        .await
}

/// Whether the position has an application with this (lower-cased) e-mail.
pub async fn exists(db: &impl ConnectionTrait, position_id: Uuid, email: &str) -> Result<bool, DbErr> {
    Ok(Entity::find()
        .filter(Column::PositionId.eq(position_id))
        .filter(Column::Email.eq(email))
        .one(db)
        .await?
        .is_some())
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// These applications, by id, in one query.
pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, Model>, DbErr> {
    super::find_many::<Entity>(db, Column::Id, ids, |m| m.id).await
}

/// Reads and locks the application until the transaction ends.
pub async fn find_for_update(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).lock_exclusive().one(db).await
}

/// Moves the application to `status` if it is still at `version`; the new row, or `None`.
pub async fn set_status(
    db: &impl ConnectionTrait,
    current: &Model,
    status: ApplicationStatus,
) -> Result<Option<Model>, DbErr> {
    let changes = ActiveModel {
        status: Set(status.as_str().to_owned()),
        version: Set(current.version + 1),
        updated_at: Set(super::now()),
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

/// Adds a line to the application's history: the change `(from, to)`, by whom, when.
pub async fn add_event(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    change: (Option<ApplicationStatus>, ApplicationStatus),
    by: By,
    note: Option<String>,
    at: DateTime<Utc>,
) -> Result<application_event::Model, DbErr> {
    let event = application_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(application_id),
        from_status: Set(change.0.map(|s| s.as_str().to_owned())),
        to_status: Set(change.1.as_str().to_owned()),
        by_kind: Set(by.kind().to_owned()),
        by_user_id: Set(by.user_id()),
        note: Set(note),
        created_at: Set(at),
    };
    application_event::Entity::insert(event).exec_with_returning(db).await
}

/// The histories of these applications, each oldest first, in one query.
pub async fn histories(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<application_event::Model>>, DbErr> {
    let rows = application_event::Entity::find()
        .filter(application_event::Column::ApplicationId.is_in(ids.iter().copied()))
        .order_by_asc(application_event::Column::Id)
        .all(db)
        .await?;
    Ok(super::grouped(rows, |row| row.application_id))
}

/// The pipeline's filters, with the organisation a partner is limited to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub organisation_scope: Option<Uuid>,
    pub position_id: Option<Uuid>,
    pub tour_id: Option<Uuid>,
    pub stop_id: Option<Uuid>,
    pub status: Option<ApplicationStatus>,
}

/// One page of applications in creation order (keyset on the id).
pub async fn list(db: &impl ConnectionTrait, filter: &Filter, page: &PageRequest<Uuid>) -> Result<Vec<Model>, DbErr> {
    let mut c = Condition::all();
    if let Some(org) = filter.organisation_scope {
        c = c.add(Column::OrganisationId.eq(org));
    }
    if let Some(id) = filter.position_id {
        c = c.add(Column::PositionId.eq(id));
    }
    if let Some(id) = filter.tour_id {
        c = c.add(Column::TourId.eq(id));
    }
    if let Some(id) = filter.stop_id {
        c = c.add(Column::PreferredStopId.eq(id));
    }
    if let Some(status) = filter.status {
        c = c.add(Column::Status.eq(status.as_str()));
    }
    super::id_page(Entity::find().filter(c), Column::Id, page).all(db).await
}
