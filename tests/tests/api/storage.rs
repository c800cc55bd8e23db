//! What the backends store: instants and UUIDv7 keys must order and compare in the database
//! exactly as they do in Rust, on SQLite (text and blobs) as on PostgreSQL.

use crate::common::{TestApp, both};
use chrono::{DateTime, TimeDelta, Utc};
use jobtour_api::entities::login_throttle::{ActiveModel, Column, Entity};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

both!(instants_sort_and_compare_like_rust);

async fn instants_sort_and_compare_like_rust(app: TestApp) {
    let base: DateTime<Utc> = "2026-10-25T00:59:59Z".parse().unwrap();
    // Whole seconds, milliseconds and microseconds: SQLite's text form has 0, 3 or 6 digits.
    let offsets_us = [
        0,
        1,
        999,
        1_000,
        1_000_000,
        1_000_001,
        1_500_000,
        999_999,
        3_600_000_000,
        59_000_000,
        120,
        7,
    ];
    let instants: Vec<DateTime<Utc>> = offsets_us
        .iter()
        .map(|us| base + TimeDelta::microseconds(*us))
        .collect();
    for (i, at) in instants.iter().enumerate() {
        let row = ActiveModel {
            key: Set(format!("k{i:02}")),
            failures: Set(0),
            window_started_at: Set(*at),
            locked_until: Set(None),
        };
        Entity::insert(row).exec(app.db.conn()).await.unwrap();
    }
    let ordered: Vec<DateTime<Utc>> = Entity::find()
        .order_by_asc(Column::WindowStartedAt)
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.window_started_at)
        .collect();
    let mut expected = instants.clone();
    expected.sort();
    assert_eq!(ordered, expected, "instants come back unchanged and in order");
    let pivot = base + TimeDelta::microseconds(1_000);
    let later = Entity::find()
        .filter(Column::WindowStartedAt.gt(pivot))
        .all(app.db.conn())
        .await
        .unwrap()
        .len();
    assert_eq!(later, instants.iter().filter(|t| **t > pivot).count());
}
