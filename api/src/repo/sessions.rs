//! Login sessions: one row per issued bearer token.

use crate::auth::Staff;
use crate::entities::{session, user};
use chrono::{DateTime, Utc};
use jobtour_domain::user::Role;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<session::Model, DbErr> {
    let model = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        token_hash: Set(token_hash),
        user_id: Set(user_id),
        created_at: Set(super::now()),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    };
    session::Entity::insert(model).exec_with_returning(db).await
}

/// The staff user behind a token hash, if the session is neither expired nor revoked.
pub async fn find_active(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Staff>, DbErr> {
    let Some(s) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(u) = user::Entity::find_by_id(s.user_id).one(db).await? else {
        return Ok(None);
    };
    let Ok(role) = Role::parse(&u.role) else {
        return Ok(None);
    };
    Ok(Some(Staff {
        user_id: u.id,
        session_id: s.id,
        role,
        organisation_id: u.organisation_id,
    }))
}

/// Revokes one session.
pub async fn revoke(db: &impl ConnectionTrait, session_id: Uuid) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(super::now()))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every session of a user but `keep` (after a password or role change).
pub async fn revoke_all(db: &impl ConnectionTrait, user_id: Uuid, keep: Option<Uuid>) -> Result<(), DbErr> {
    let mut q = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(super::now()))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        q = q.filter(session::Column::Id.ne(keep));
    }
    q.exec(db).await?;
    Ok(())
}
