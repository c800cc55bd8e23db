//! What every handler can reach: the database, the settings, the metrics, the signing key and
//! the live check-ins.

use crate::config::{ServeSettings, SigningKey};
use crate::db::Db;
use crate::live::Live;
use crate::metrics::Metrics;
use std::sync::Arc;

/// Shared by all workers (`web::Data<AppState>`).
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: ServeSettings,
    pub metrics: Metrics,
    /// Signs check-in codes (`JOBTOUR_SIGNING_KEY`, or the database's).
    pub signing_key: SigningKey,
    /// Check-ins as they happen, for the attendance streams.
    pub live: Arc<Live>,
}
