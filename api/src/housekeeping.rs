//! Chores a running server does on a timer: for now, forgetting expired idempotency keys.

use crate::db::Db;
use crate::{idempotency, repo};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the chores run (the first round runs at start).
pub const EVERY: Duration = Duration::from_secs(600);

/// Starts the chores; they stop when the handle is aborted or the runtime ends.
pub fn spawn(db: Db) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            match idempotency::sweep(db.conn(), repo::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired_keys = n, "idempotency keys swept"),
                Err(e) => tracing::warn!(error = %e, "could not sweep idempotency keys"),
            }
        }
    })
}
