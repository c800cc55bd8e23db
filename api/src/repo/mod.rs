//! Queries: one file per aggregate, the only place that builds SQL. Functions take any
//! connection or transaction; the caller decides the transaction boundaries.

pub mod applications;
pub mod audit;
pub mod checkins;
pub mod enquiries;
pub mod idempotency;
pub mod memberships;
pub mod organisations;
pub mod outbox;
pub mod positions;
pub mod search;
pub mod sessions;
pub mod slots;
pub mod stats;
pub mod stops;
pub mod throttle;
pub mod tours;
pub mod users;
pub mod webhooks;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// The current instant, truncated to microseconds: PostgreSQL keeps microseconds, so both
/// backends then store, compare and return the very same value.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}

use crate::http::PageRequest;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

/// Writes `changes` to the row `id` if it is still at `version` (optimistic concurrency: the
/// caller bumps the version in `changes`); whether a row was written.
pub async fn update_versioned<A>(
    db: &impl ConnectionTrait,
    changes: A,
    id: (<A::Entity as EntityTrait>::Column, Uuid),
    version: (<A::Entity as EntityTrait>::Column, i32),
) -> Result<bool, DbErr>
where
    A: ActiveModelTrait + Send,
{
    let done = <A::Entity as EntityTrait>::update_many()
        .set(changes)
        .filter(id.0.eq(id.1))
        .filter(version.0.eq(version.1))
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}

/// Deletes the row `id` if it is still at `version`; whether a row was deleted.
pub async fn delete_versioned<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: (E::Column, Uuid),
    version: (E::Column, i32),
) -> Result<bool, DbErr> {
    let done = E::delete_many()
        .filter(id.0.eq(id.1))
        .filter(version.0.eq(version.1))
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}

/// `q` as one page in id (creation) order: after the cursor's id, `limit + 1` rows (the extra
/// one tells that there is a next page, see [`crate::http::page_of`]).
pub fn id_page<E: EntityTrait>(q: Select<E>, id: E::Column, page: &PageRequest<Uuid>) -> Select<E> {
    let q = q.order_by_asc(id).limit(page.limit + 1);
    match page.after {
        Some(after) => q.filter(id.gt(after)),
        None => q,
    }
}

/// Rows of `E` by id, in one query, keyed by `key`.
pub async fn find_many<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: E::Column,
    ids: &[Uuid],
    key: impl Fn(&E::Model) -> Uuid,
) -> Result<std::collections::HashMap<Uuid, E::Model>, DbErr> {
    let rows = E::find().filter(id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|m| (key(&m), m)).collect())
}

/// `rows` gathered by `key`, each group in the rows' order: a page's children in one query.
pub fn grouped<K: std::hash::Hash + Eq, T>(
    rows: Vec<T>,
    key: impl Fn(&T) -> K,
) -> std::collections::HashMap<K, Vec<T>> {
    let mut out: std::collections::HashMap<K, Vec<T>> = std::collections::HashMap::new();
    for row in rows {
        out.entry(key(&row)).or_default().push(row);
    }
    out
}

/// `"table"."column" IN (ids)`, written so that PostgreSQL plans it once: there, one array
/// parameter (`= ANY($1)`) makes the same statement whatever the number of ids, and its plan
/// is kept; a list of 50 placeholders was a new statement planned at every call (half the cost
/// of a page's stops). An `IN` list on SQLite, where plans cost next to nothing.
pub fn any_of(
    backend: sea_orm::DbBackend,
    table: &'static str,
    column: &'static str,
    ids: &[Uuid],
) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait};
    if backend == sea_orm::DbBackend::Postgres {
        let array = format!("{{{}}}", ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(","));
        Expr::cust_with_values(format!("\"{table}\".\"{column}\" = ANY(CAST($1 AS uuid[]))"), [array])
    } else {
        Expr::col((Alias::new(table), Alias::new(column))).is_in(ids.iter().copied())
    }
}
