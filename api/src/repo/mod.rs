//! Queries: one file per aggregate, the only place that builds SQL. Functions take any
//! connection or transaction; the caller decides the transaction boundaries.

pub mod organisations;
pub mod sessions;
pub mod stops;
pub mod throttle;
pub mod tours;
pub mod users;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// The current instant, truncated to microseconds: PostgreSQL keeps microseconds, so both
/// backends then store, compare and return the very same value.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}
