//! The outbox: notifications written in the transaction that causes them, claimed by a worker
//! (several servers on one PostgreSQL database never take the same message at once: `FOR
//! UPDATE SKIP LOCKED` and a lease; SQLite has a single writer), and the record of webhook
//! delivery attempts.

use crate::entities::outbox::{ActiveModel, Column, Entity, Model};
use crate::entities::webhook_delivery;
use crate::http::PageRequest;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// A message to send.
#[derive(Debug, Clone)]
pub struct New {
    pub id: Uuid,
    /// `email` or `webhook`.
    pub kind: &'static str,
    pub event_type: String,
    pub application_id: Option<Uuid>,
    /// For an e-mail about an enquiry.
    pub enquiry_id: Option<Uuid>,
    pub webhook_id: Option<Uuid>,
    pub payload: String,
    /// What it is, without personal data.
    pub summary: String,
}

pub async fn enqueue(db: &impl ConnectionTrait, m: New, now: DateTime<Utc>) -> Result<(), DbErr> {
    let row = ActiveModel {
        id: Set(m.id),
        kind: Set(m.kind.to_owned()),
        event_type: Set(m.event_type),
        application_id: Set(m.application_id),
        webhook_id: Set(m.webhook_id),
        payload: Set(Some(m.payload)),
        summary: Set(m.summary),
        status: Set("pending".to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        delivered_at: Set(None),
        enquiry_id: Set(m.enquiry_id),
    };
    Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// Claims up to `limit` messages due at `now` (pending and due, or claimed by a worker whose
/// lease ran out), leasing them until `lease_until` and counting the attempt. Rows another
/// worker is claiming at that moment are skipped, not waited for.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let due = Condition::any()
        .add(
            Condition::all()
                .add(Column::Status.eq("pending"))
                .add(Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(Column::Status.eq("sending"))
                .add(Column::LeaseUntil.lt(now)),
        );
    let ids = Query::select()
        .column(Column::Id)
        .from(Entity)
        .cond_where(due)
        .order_by(Column::NextAttemptAt, sea_orm::Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    Entity::update_many()
        .col_expr(Column::Status, Expr::value("sending"))
        .col_expr(Column::LeaseUntil, Expr::value(lease_until))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.in_subquery(ids))
        .exec_with_returning(db)
        .await
}

/// Delivered (`summary`: what it turned out to say, without personal data), or dropped
/// (`delivered` false: nothing to send any more, e.g. the person was erased). The payload
/// goes; what it was stays. Written only while the claim is still this courier's (same
/// attempt, still sending).
pub async fn settled(
    db: &impl ConnectionTrait,
    m: &Model,
    delivered: bool,
    summary: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut update = Entity::update_many();
    if let Some(summary) = summary {
        update = update.col_expr(Column::Summary, Expr::value(summary));
    }
    update = if delivered {
        update
            .col_expr(Column::Status, Expr::value("delivered"))
            .col_expr(Column::DeliveredAt, Expr::value(now))
    } else {
        update.col_expr(Column::Status, Expr::value("cancelled"))
    };
    update
        .col_expr(Column::Payload, Expr::value(Option::<String>::None))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::LastError, Expr::value(Option::<String>::None))
        .filter(claimed(m))
        .exec(db)
        .await?;
    Ok(())
}

/// The row as claimed for `m`'s attempt.
fn claimed(m: &Model) -> Condition {
    Condition::all()
        .add(Column::Id.eq(m.id))
        .add(Column::Status.eq("sending"))
        .add(Column::Attempts.eq(m.attempts))
}

/// Not delivered this time: try again at `next`, or give up (`failed`, payload gone) when
/// `next` is `None`.
pub async fn not_delivered(
    db: &impl ConnectionTrait,
    m: &Model,
    next: Option<DateTime<Utc>>,
    error: &str,
) -> Result<(), DbErr> {
    let mut update = Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::LastError, Expr::value(error))
        .filter(claimed(m));
    update = match next {
        Some(at) => update
            .col_expr(Column::Status, Expr::value("pending"))
            .col_expr(Column::NextAttemptAt, Expr::value(at)),
        None => update
            .col_expr(Column::Status, Expr::value("failed"))
            .col_expr(Column::Payload, Expr::value(Option::<String>::None)),
    };
    update.exec(db).await?;
    Ok(())
}

/// An erased candidate's messages: payloads and errors wiped, those not sent yet cancelled.
pub async fn forget_application(db: &impl ConnectionTrait, application_id: Uuid) -> Result<u64, DbErr> {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value("cancelled"))
        .filter(Column::ApplicationId.eq(application_id))
        .filter(Column::Status.is_in(["pending", "sending"]))
        .exec(db)
        .await?;
    let done = Entity::update_many()
        .col_expr(Column::Payload, Expr::value(Option::<String>::None))
        .col_expr(Column::LastError, Expr::value(Option::<String>::None))
        .filter(Column::ApplicationId.eq(application_id))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Cancels what is queued for the enquiry and wipes what was held of every message about it.
pub async fn forget_enquiry(db: &impl ConnectionTrait, enquiry_id: Uuid) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value("cancelled"))
        .filter(Column::EnquiryId.eq(enquiry_id))
        .filter(Column::Status.is_in(["pending", "sending"]))
        .exec(db)
        .await?;
    Entity::update_many()
        .col_expr(Column::Payload, Expr::value(Option::<String>::None))
        .col_expr(Column::LastError, Expr::value(Option::<String>::None))
        .filter(Column::EnquiryId.eq(enquiry_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Drops the messages about these applications, unsent (the demo's).
pub async fn discard(db: &impl ConnectionTrait, application_ids: &[Uuid]) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::ApplicationId.is_in(application_ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// The messages about these applications, oldest first (for an export).
pub async fn of_applications(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::ApplicationId.is_in(ids.iter().copied()))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// The messages about an enquiry, oldest first (for an export).
pub async fn of_enquiry(db: &impl ConnectionTrait, enquiry_id: Uuid) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::EnquiryId.eq(enquiry_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// How many messages wait, are being sent, or failed (for the metrics; the delivered ones,
/// which only grow, are counted by the couriers instead).
pub async fn count_by_status(db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbErr> {
    Entity::find()
        .filter(Column::Status.is_in(["pending", "sending", "failed"]))
        .select_only()
        .column(Column::Status)
        .column_as(Expr::col(Column::Id).count(), "n")
        .group_by(Column::Status)
        .into_tuple()
        .all(db)
        .await
}

/// Records one webhook delivery attempt.
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    message: &Model,
    webhook_id: Uuid,
    status_code: Option<u16>,
    error: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        outbox_id: Set(message.id),
        webhook_id: Set(webhook_id),
        attempt: Set(message.attempts),
        status_code: Set(status_code.map(i32::from)),
        error: Set(error),
        at: Set(now),
    };
    webhook_delivery::Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// One page of a webhook's delivery attempts, in the order they happened.
pub async fn attempts(
    db: &impl ConnectionTrait,
    webhook_id: Uuid,
    page: &PageRequest<Uuid>,
) -> Result<Vec<(webhook_delivery::Model, Option<Model>)>, DbErr> {
    let q = webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook_id));
    let rows = super::id_page(q, webhook_delivery::Column::Id, page).all(db).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.outbox_id).collect();
    let messages = super::find_many::<Entity>(db, Column::Id, &ids, |m| m.id).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let m = messages.get(&r.outbox_id).cloned();
            (r, m)
        })
        .collect())
}
