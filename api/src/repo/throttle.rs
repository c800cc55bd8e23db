//! Failed-login counters, one row per key (`account:<email>`, `address:<ip>`).

use crate::entities::login_throttle::{ActiveModel, Column, Entity, Model};
use chrono::{DateTime, Utc};
use jobtour_domain::throttle::{ThrottlePolicy, ThrottleState};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

fn state(m: &Model) -> ThrottleState {
    ThrottleState {
        failures: u32::try_from(m.failures).unwrap_or(0),
        window_started_at: m.window_started_at,
        locked_until: m.locked_until,
    }
}

/// The current state of a key, if it has failures on record.
pub async fn get(db: &impl ConnectionTrait, key: &str) -> Result<Option<ThrottleState>, DbErr> {
    Ok(Entity::find_by_id(key.to_owned()).one(db).await?.as_ref().map(state))
}

/// Counts one failure. Call inside a write transaction: the row is created if missing, then
/// read under a row lock (PostgreSQL) or the write lock (SQLite), so concurrent failures all count.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    key: &str,
    policy: ThrottlePolicy,
    now: DateTime<Utc>,
) -> Result<ThrottleState, DbErr> {
    let fresh = ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(0),
        window_started_at: Set(now),
        locked_until: Set(None),
    };
    Entity::insert(fresh)
        .on_conflict_do_nothing_on([Column::Key])
        .exec(db)
        .await?;
    let previous = Entity::find_by_id(key.to_owned())
        .lock_exclusive()
        .one(db)
        .await?
        .as_ref()
        .map(state);
    let next = ThrottleState::after_failure(
        previous.filter(|p| p.failures > 0 || p.locked_until.is_some()),
        policy,
        now,
    );
    Entity::update_many()
        .set(ActiveModel {
            failures: Set(i32::try_from(next.failures).unwrap_or(i32::MAX)),
            window_started_at: Set(next.window_started_at),
            locked_until: Set(next.locked_until),
            ..Default::default()
        })
        .filter(Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(next)
}

/// Forgets a key's failures (after a successful login).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    Entity::delete_many().filter(Column::Key.eq(key)).exec(db).await?;
    Ok(())
}
