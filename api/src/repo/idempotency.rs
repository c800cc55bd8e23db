//! Idempotency records: one row per operation and client key, claimed by an insert that the
//! primary key lets only one request win.

use crate::entities::idempotency_key::{ActiveModel, Column, Entity, Model};
use crate::error::{Violation, violation};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// A claim on a key, before the request runs.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    pub scope: &'a str,
    pub key_hash: &'a str,
    pub fingerprint: &'a str,
    pub secret_salt: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Inserts the key as in flight: `true` if this request claimed it, `false` if a row with
/// that key was there already.
pub async fn claim(db: &impl ConnectionTrait, c: Claim<'_>) -> Result<bool, DbErr> {
    let row = ActiveModel {
        scope: Set(c.scope.to_owned()),
        key_hash: Set(c.key_hash.to_owned()),
        fingerprint: Set(c.fingerprint.to_owned()),
        state: Set("in_flight".to_owned()),
        status_code: Set(None),
        location: Set(None),
        etag: Set(None),
        body: Set(None),
        secret_salt: Set(c.secret_salt.to_owned()),
        created_at: Set(c.now),
        expires_at: Set(c.expires_at),
        resource_id: Set(None),
    };
    match Entity::insert(row).exec_without_returning(db).await {
        Ok(_) => Ok(true),
        Err(e) if violation(&e) == Some(Violation::Unique) => Ok(false),
        Err(e) => Err(e),
    }
}

pub async fn find(db: &impl ConnectionTrait, scope: &str, key_hash: &str) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id((scope.to_owned(), key_hash.to_owned()))
        .one(db)
        .await
}

/// The answer to keep for replays.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The resource the answer is about.
    pub resource_id: Option<Uuid>,
    pub status: u16,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: String,
}

/// Records the answer, if this claim (known by its salt) still holds the key: `false` when it
/// was taken over meanwhile. Called in the transaction that made the change, so that both land
/// or neither does.
pub async fn complete(
    db: &impl ConnectionTrait,
    scope: &str,
    key_hash: &str,
    salt: &str,
    answer: Answer,
) -> Result<bool, DbErr> {
    let changes = ActiveModel {
        state: Set("done".to_owned()),
        status_code: Set(Some(i32::from(answer.status))),
        location: Set(answer.location),
        etag: Set(answer.etag),
        body: Set(Some(answer.body)),
        resource_id: Set(answer.resource_id),
        ..Default::default()
    };
    let done = Entity::update_many()
        .set(changes)
        .filter(held(scope, key_hash, salt))
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}

/// Gives up a claim whose request failed: a retry with the key runs again.
pub async fn release(db: &impl ConnectionTrait, scope: &str, key_hash: &str, salt: &str) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(held(scope, key_hash, salt))
        .exec(db)
        .await?;
    Ok(())
}

/// The key, still in flight under the claim with this salt.
fn held(scope: &str, key_hash: &str, salt: &str) -> Condition {
    Condition::all()
        .add(Column::Scope.eq(scope))
        .add(Column::KeyHash.eq(key_hash))
        .add(Column::SecretSalt.eq(salt))
        .add(Column::State.eq("in_flight"))
}

/// Removes the key if it has expired, or if it has been in flight since before
/// `abandoned_before` (its request died with its server): whether it did.
pub async fn remove_if_dead(
    db: &impl ConnectionTrait,
    scope: &str,
    key_hash: &str,
    now: DateTime<Utc>,
    abandoned_before: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = Entity::delete_many()
        .filter(Column::Scope.eq(scope))
        .filter(Column::KeyHash.eq(key_hash))
        .filter(
            Condition::any().add(Column::ExpiresAt.lte(now)).add(
                Condition::all()
                    .add(Column::State.eq("in_flight"))
                    .add(Column::CreatedAt.lt(abandoned_before)),
            ),
        )
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}

/// Forgets the answers about a resource (an erased application's, which hold personal data).
pub async fn forget_resource(db: &impl ConnectionTrait, resource_id: Uuid) -> Result<u64, DbErr> {
    let done = Entity::delete_many()
        .filter(Column::ResourceId.eq(resource_id))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Deletes every expired key: how many.
pub async fn sweep(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let done = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}
