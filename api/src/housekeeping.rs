//! Chores a running server does on a timer: forgetting expired idempotency keys and past
//! minutes' anonymous write counts (every ten minutes) and erasing the candidates of tours and the enquirers past their retention periods (daily).

use crate::db::Db;
use crate::{idempotency, privacy, repo};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the chores run (the first round runs at start).
pub const EVERY: Duration = Duration::from_secs(600);
/// The retention purge runs on every this many rounds: daily.
const PURGE_EVERY: u32 = 144;

/// Starts the chores; they stop when the handle is aborted or the runtime ends.
pub fn spawn(db: Db, retention_months: u32, enquiry_retention_months: u32) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        for round in 0u32.. {
            tick.tick().await;
            match idempotency::sweep(db.conn(), repo::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired_keys = n, "idempotency keys swept"),
                Err(e) => tracing::warn!(error = %e, "could not sweep idempotency keys"),
            }
            let minute_ago = repo::now() - chrono::TimeDelta::minutes(1);
            if let Err(e) = repo::throttle::sweep_write_counts(db.conn(), minute_ago).await {
                tracing::warn!(error = %e, "could not sweep the anonymous write counts");
            }
            if round % PURGE_EVERY == 0 {
                match privacy::purge(&db, repo::now(), retention_months, false).await {
                    Ok(p) if p.applications == 0 => {}
                    Ok(p) => tracing::info!(applications = p.applications, "personal data past retention erased"),
                    Err(e) => tracing::warn!(error = %e, "the retention purge failed"),
                }
                match privacy::purge_enquiries(&db, repo::now(), enquiry_retention_months, false).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(enquiries = n, "enquirers' data past retention erased"),
                    Err(e) => tracing::warn!(error = %e, "the enquiries' retention purge failed"),
                }
            }
        }
    })
}
