//! Failed-login counters, one row per key (`account:<email>`, `address:<ip>`), and the
//! anonymous writes of each client address in the current minute.

use crate::entities::login_throttle::{ActiveModel, Column, Entity, Model};
use chrono::{DateTime, Utc};
use jobtour_domain::throttle::{ThrottlePolicy, ThrottleState};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QuerySelect, Statement,
};

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

/// Counts one write of `key` in the minute that starts at `window_start` and answers how many
/// it made in that minute, in one statement (an upsert: concurrent writes all count).
pub async fn count_write(db: &impl ConnectionTrait, key: &str, window_start: DateTime<Utc>) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let (k, w) = match backend {
        DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let sql = format!(
        "INSERT INTO write_quotas (key, window_start, writes) VALUES ({k}, {w}, 1) \
         ON CONFLICT (key) DO UPDATE SET \
         writes = CASE WHEN write_quotas.window_start = excluded.window_start THEN write_quotas.writes + 1 ELSE 1 END, \
         window_start = excluded.window_start \
         RETURNING writes"
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [key.into(), window_start.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the write count returned no row".into()))?;
    row.try_get::<i32>("", "writes").map(i64::from)
}

/// Forgets the write counts of minutes before `before`.
pub async fn sweep_write_counts(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let placeholder = if backend == DbBackend::Postgres { "$1" } else { "?" };
    let done = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            format!("DELETE FROM write_quotas WHERE window_start < {placeholder}"),
            [before.into()],
        ))
        .await?;
    Ok(done.rows_affected())
}
