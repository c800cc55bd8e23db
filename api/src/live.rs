//! Check-ins as they happen, for the attendance screens on the bus (`GET
//! /stops/{id}/attendance/stream`).
//!
//! Every instance keeps one in-memory channel that its open streams listen to. On SQLite (one
//! instance) a check-in goes straight into it. On PostgreSQL it goes out as `NOTIFY
//! jobtour_checkins` once committed, and each instance's listener (one connection of its own,
//! outside the request pool) puts what it hears into its channel: a screen connected to any
//! instance sees the check-ins made through every other.

use crate::db::{Db, Heard};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;
use utoipa::ToSchema;
use uuid::Uuid;

/// The PostgreSQL channel of check-ins.
pub const CHANNEL: &str = "jobtour_checkins";
/// Events a slow screen may fall behind by before it skips some.
const BACKLOG: usize = 1024;

/// One check-in, as a screen shows it: no personal data beyond a first name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckinEvent {
    pub checkin_id: Uuid,
    pub stop_id: Uuid,
    /// `null` once the candidate's data was erased.
    #[schema(example = "Camille")]
    pub first_name: Option<String>,
    /// The employer of the position applied to.
    pub organisation_id: Uuid,
    pub walk_in: bool,
    pub scanned_at: DateTime<Utc>,
    /// The stop's check-ins so far, this one included, and the walk-ins among them.
    pub checked_in: i64,
    pub walk_ins: i64,
}

/// The check-in channel of one instance.
pub struct Live {
    sender: broadcast::Sender<Arc<CheckinEvent>>,
    /// The database to notify through, on PostgreSQL.
    notify: Option<Db>,
    listening: AtomicBool,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("subscribers", &self.sender.receiver_count())
            .finish()
    }
}

impl Live {
    pub fn new(db: &Db) -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
            notify: (db.backend() == DbBackend::Postgres).then(|| db.clone()),
            listening: AtomicBool::new(false),
        }
    }

    /// Every check-in from now on (of every stop: the subscriber picks its own).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<CheckinEvent>> {
        self.sender.subscribe()
    }

    /// Tells every screen of every instance about a committed check-in. A failure to notify is
    /// logged, not raised: the check-in stands, and the screens catch up on their next read.
    pub async fn publish(&self, event: CheckinEvent) {
        let Some(db) = &self.notify else {
            let _ = self.sender.send(Arc::new(event));
            return;
        };
        let payload = match serde_json::to_string(&event) {
            Ok(p) => p,
            Err(e) => return tracing::error!(error = %e, "cannot encode a check-in event"),
        };
        let sent = db
            .conn()
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            ))
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "cannot notify the other instances of a check-in");
        }
    }

    /// Waits (at most `wait`) until the instance hears the other instances, so that a stream
    /// opened now misses nothing; at once on SQLite.
    pub async fn ready(&self, wait: Duration) {
        if self.notify.is_none() {
            return;
        }
        let deadline = tokio::time::Instant::now() + wait;
        while !self.listening.load(Ordering::Acquire) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// On PostgreSQL, listens for check-ins until aborted (see [`crate::db::listen`]).
    pub fn spawn_listener(self: Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let db = self.notify.clone()?;
        crate::db::listen(&db, CHANNEL, move |heard| match heard {
            Heard::Connected => self.listening.store(true, Ordering::Release),
            Heard::Message(payload) => match serde_json::from_str::<CheckinEvent>(payload) {
                Ok(event) => {
                    let _ = self.sender.send(Arc::new(event));
                }
                Err(e) => tracing::warn!(error = %e, "an unreadable check-in notification"),
            },
            Heard::Lost => self.listening.store(false, Ordering::Release),
        })
    }
}
