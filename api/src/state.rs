//! What every handler can reach: the database, the settings, the metrics.

use crate::config::ServeSettings;
use crate::db::Db;
use crate::metrics::Metrics;

/// Shared by all workers (`web::Data<AppState>`).
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: ServeSettings,
    pub metrics: Metrics,
}
