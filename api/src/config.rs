//! Settings, read once from the command line and the environment, checked before anything
//! starts. A bad value stops start-up with one line naming the setting (clap's error).

use std::net::SocketAddr;
use std::time::Duration;

/// Where the data lives and how many connections to keep.
#[derive(Debug, Clone, clap::Args)]
pub struct DbSettings {
    /// Database URL: `postgres://user:pass@host/db` or `sqlite://path/to/file.db`.
    /// Without it, an SQLite file `./data/jobtour.db` is used (created if missing).
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL", global = true, value_parser = parse_database_url)]
    pub database_url: Option<String>,

    /// Most connections held open to the database.
    #[arg(long, env = "JOBTOUR_DB_POOL_SIZE", value_name = "JOBTOUR_DB_POOL_SIZE", global = true, default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: u32,

    /// How long a request waits for a free connection before it is answered 503, in milliseconds.
    #[arg(long, env = "JOBTOUR_DB_ACQUIRE_TIMEOUT_MS", value_name = "JOBTOUR_DB_ACQUIRE_TIMEOUT_MS", global = true, default_value_t = 5000,
          value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub db_acquire_timeout_ms: u64,
}

impl DbSettings {
    pub const DEFAULT_SQLITE_URL: &'static str = "sqlite://data/jobtour.db";

    pub fn url(&self) -> &str {
        self.database_url.as_deref().unwrap_or(Self::DEFAULT_SQLITE_URL)
    }

    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms)
    }
}

/// How the HTTP server runs.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeSettings {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(
        long,
        env = "JOBTOUR_BIND",
        value_name = "JOBTOUR_BIND",
        default_value = "127.0.0.1:8080"
    )]
    pub bind: SocketAddr,

    /// Origins of the partner front-end allowed by CORS, comma-separated
    /// (e.g. `https://partners.example.org`). Empty: no cross-origin access.
    #[arg(long, env = "JOBTOUR_CORS_ORIGINS", value_name = "JOBTOUR_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<String>,

    /// HTTP worker threads (0: one per CPU core).
    #[arg(long, env = "JOBTOUR_WORKERS", value_name = "JOBTOUR_WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// Lifetime of a staff login token, in minutes.
    #[arg(long, env = "JOBTOUR_TOKEN_TTL_MINUTES", value_name = "JOBTOUR_TOKEN_TTL_MINUTES", default_value_t = 720,
          value_parser = clap::value_parser!(u32).range(1..=525_600))]
    pub token_ttl_minutes: u32,

    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(
        long,
        env = "JOBTOUR_SHUTDOWN_TIMEOUT_SECS",
        value_name = "JOBTOUR_SHUTDOWN_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub shutdown_timeout_secs: u64,

    /// Version of the privacy notice candidates accept when they apply; recorded with each
    /// consent.
    #[arg(
        long,
        env = "JOBTOUR_PRIVACY_NOTICE_VERSION",
        value_name = "JOBTOUR_PRIVACY_NOTICE_VERSION",
        default_value = "2026-11"
    )]
    pub privacy_notice_version: String,

    /// How long an `Idempotency-Key` is remembered, in seconds (default one day).
    #[arg(long, env = "JOBTOUR_IDEMPOTENCY_TTL_SECS", value_name = "JOBTOUR_IDEMPOTENCY_TTL_SECS", default_value_t = 86_400,
          value_parser = clap::value_parser!(u64).range(1..=2_592_000))]
    pub idempotency_ttl_secs: u64,

    /// Months after a tour ends before its candidates' personal data is erased (checked daily).
    #[arg(long, env = "JOBTOUR_RETENTION_MONTHS", value_name = "JOBTOUR_RETENTION_MONTHS", default_value_t = 24,
          value_parser = clap::value_parser!(u32).range(1..=120))]
    pub retention_months: u32,

    /// Do not apply pending migrations at start.
    #[arg(long)]
    pub no_migrate: bool,

    /// Load the demo campaign before serving (idempotent; see `jobtour demo`).
    #[arg(long)]
    pub demo: bool,
}

impl ServeSettings {
    pub fn idempotency_ttl(&self) -> Duration {
        Duration::from_secs(self.idempotency_ttl_secs)
    }

    /// Settings for a server on `bind` with everything else at its default.
    pub fn on(bind: SocketAddr) -> Self {
        Self {
            bind,
            cors_origins: Vec::new(),
            workers: 0,
            token_ttl_minutes: 720,
            shutdown_timeout_secs: 30,
            privacy_notice_version: "2026-11".to_owned(),
            idempotency_ttl_secs: 86_400,
            retention_months: 24,
            no_migrate: false,
            demo: false,
        }
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, with the request id.
    Json,
}

fn parse_database_url(raw: &str) -> Result<String, String> {
    if raw.starts_with("postgres://") || raw.starts_with("postgresql://") || raw.starts_with("sqlite:") {
        Ok(raw.to_owned())
    } else {
        Err("must start with postgres://, postgresql:// or sqlite:".to_owned())
    }
}

fn parse_origin(raw: &str) -> Result<String, String> {
    let origin = raw.trim().trim_end_matches('/');
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or("an origin starts with http:// or https://")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(format!("`{raw}` is not an origin (scheme://host[:port])"));
    }
    Ok(origin.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked() {
        assert_eq!(
            parse_origin("https://partners.example.org/").unwrap(),
            "https://partners.example.org"
        );
        assert!(parse_origin("partners.example.org").is_err());
        assert!(parse_origin("https://x.org/path").is_err());
    }

    #[test]
    fn database_urls_are_checked() {
        assert!(parse_database_url("postgres://u@h/db").is_ok());
        assert!(parse_database_url("sqlite://data/x.db").is_ok());
        assert!(parse_database_url("mysql://u@h/db").is_err());
    }
}
