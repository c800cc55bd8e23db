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

    /// Most connections held open to the database for requests, shared by the HTTP workers
    /// (each at least one); the background work draws on a pool of as many.
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

    /// Months after an enquiry is closed before its enquirer's personal data is erased.
    #[arg(long, env = "JOBTOUR_ENQUIRY_RETENTION_MONTHS", value_name = "JOBTOUR_ENQUIRY_RETENTION_MONTHS", default_value_t = 36,
          value_parser = clap::value_parser!(u32).range(1..=120))]
    pub enquiry_retention_months: u32,

    /// Memory for public reads served without the database, in MiB (0 turns it off).
    #[arg(long, env = "JOBTOUR_CACHE_MB", value_name = "JOBTOUR_CACHE_MB", default_value_t = 16,
          value_parser = clap::value_parser!(u64).range(0..=4096))]
    pub cache_megabytes: u64,

    /// Writes a candidate (anyone without a staff token) may make per minute from one client
    /// address: applying, booking, waiting lists (0 turns the limit off).
    #[arg(
        long,
        env = "JOBTOUR_ANON_WRITES_PER_MINUTE",
        value_name = "JOBTOUR_ANON_WRITES_PER_MINUTE",
        default_value_t = 30
    )]
    pub anon_writes_per_minute: u32,

    /// Reverse proxies (addresses or CIDR blocks, comma-separated) whose `X-Forwarded-For` is
    /// believed; from any other peer the client address is the peer's.
    #[arg(long, env = "JOBTOUR_TRUSTED_PROXIES", value_name = "JOBTOUR_TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = parse_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// The key check-in codes are signed with (at least 32 characters). Unset: a random key is
    /// generated on first start and kept in the database, shared by every instance.
    #[arg(long, env = "JOBTOUR_SIGNING_KEY", value_name = "JOBTOUR_SIGNING_KEY", value_parser = parse_signing_key,
          hide_env_values = true)]
    pub signing_key: Option<SigningKey>,

    /// E-mail and webhook delivery.
    #[command(flatten)]
    pub notify: NotifySettings,

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
            enquiry_retention_months: 36,
            cache_megabytes: 16,
            anon_writes_per_minute: 30,
            trusted_proxies: Vec::new(),
            signing_key: None,
            notify: NotifySettings::default(),
            no_migrate: false,
            demo: false,
        }
    }
}

/// How notifications leave: the mail server, the sender, the links in the mails, webhook
/// targets, and the outbox worker's pace.
#[derive(Debug, Clone, clap::Args)]
pub struct NotifySettings {
    /// Address of the candidates' front-end, used in the self-service links of e-mails.
    #[arg(long, env = "JOBTOUR_PUBLIC_URL", value_name = "JOBTOUR_PUBLIC_URL", default_value = "http://127.0.0.1:8080",
          value_parser = parse_public_url)]
    pub public_url: String,

    /// Mail server: `smtp://host:port` (no TLS), `smtp://host:port?tls=required` (STARTTLS),
    /// `smtps://host:465`, with `user:password@` if it wants a login. Without it, e-mails are
    /// only logged (without personal data) and marked sent.
    #[arg(long, env = "JOBTOUR_SMTP_URL", value_name = "JOBTOUR_SMTP_URL", value_parser = parse_smtp_url)]
    pub smtp_url: Option<String>,

    /// Sender of the e-mails, e.g. `Jobtour <ne-pas-repondre@jobtour.fr>`.
    #[arg(long, env = "JOBTOUR_MAIL_FROM", value_name = "JOBTOUR_MAIL_FROM",
          default_value = "Jobtour <ne-pas-repondre@jobtour.localhost>", value_parser = parse_mailbox)]
    pub mail_from: String,

    /// Allow webhooks to loopback, private and link-local addresses (tests, local development).
    #[arg(
        long,
        env = "JOBTOUR_WEBHOOK_ALLOW_PRIVATE",
        value_name = "JOBTOUR_WEBHOOK_ALLOW_PRIVATE"
    )]
    pub webhook_allow_private: bool,

    /// How often the outbox worker looks for messages due, in milliseconds.
    #[arg(long, env = "JOBTOUR_OUTBOX_POLL_MS", value_name = "JOBTOUR_OUTBOX_POLL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub outbox_poll_ms: u64,

    /// First retry delay of a failed delivery, in milliseconds; it doubles at each attempt (at
    /// most one hour apart) until the message is 24 hours old, then it is marked failed.
    #[arg(long, env = "JOBTOUR_OUTBOX_RETRY_BASE_MS", value_name = "JOBTOUR_OUTBOX_RETRY_BASE_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub outbox_retry_base_ms: u64,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            smtp_url: None,
            mail_from: "Jobtour <ne-pas-repondre@jobtour.localhost>".to_owned(),
            webhook_allow_private: false,
            outbox_poll_ms: 1000,
            outbox_retry_base_ms: 30_000,
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

/// `10.0.0.1` (one address) or `10.0.0.0/8`.
fn parse_proxy(raw: &str) -> Result<ipnet::IpNet, String> {
    let raw = raw.trim();
    raw.parse::<ipnet::IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{raw:?} is neither an IP address nor a CIDR block"))
}

fn parse_database_url(raw: &str) -> Result<String, String> {
    if raw.starts_with("postgres://") || raw.starts_with("postgresql://") || raw.starts_with("sqlite:") {
        Ok(raw.to_owned())
    } else {
        Err("must start with postgres://, postgresql:// or sqlite:".to_owned())
    }
}

fn parse_origin(raw: &str) -> Result<String, String> {
    base_url(raw, false).map_err(|()| format!("`{raw}` is not an origin (http(s)://host[:port])"))
}

fn parse_public_url(raw: &str) -> Result<String, String> {
    base_url(raw, true).map_err(|()| format!("`{raw}` is not a base URL (http(s)://host[:port][/path])"))
}

/// `http(s)://host[:port]`, and `[/path]` when `path` is allowed; without a trailing slash.
fn base_url(raw: &str, path: bool) -> Result<String, ()> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or(())?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || rest.contains(['?', '#', ' ']) || (!path && host.len() != rest.len()) {
        return Err(());
    }
    Ok(url.to_owned())
}

fn parse_smtp_url(raw: &str) -> Result<String, String> {
    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(raw)
        .map(|_| raw.to_owned())
        .map_err(|e| format!("not a mail server URL (smtp://host:port, smtps://host): {e}"))
}

fn parse_mailbox(raw: &str) -> Result<String, String> {
    raw.parse::<lettre::message::Mailbox>()
        .map(|_| raw.to_owned())
        .map_err(|e| format!("not a mailbox (`Name <address>`): {e}"))
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
        assert_eq!(parse_public_url("https://x.org/jobs/").unwrap(), "https://x.org/jobs");
        assert!(parse_public_url("https:///jobs").is_err());
        assert!(parse_public_url("https://x.org/?q").is_err());
    }

    #[test]
    fn database_urls_are_checked() {
        assert!(parse_database_url("postgres://u@h/db").is_ok());
        assert!(parse_database_url("sqlite://data/x.db").is_ok());
        assert!(parse_database_url("mysql://u@h/db").is_err());
    }

    #[test]
    fn mail_settings_are_checked() {
        assert!(parse_smtp_url("smtp://127.0.0.1:2525").is_ok());
        assert!(parse_smtp_url("smtps://mail.example.org").is_ok());
        assert!(parse_smtp_url("http://mail.example.org").is_err());
        assert!(parse_mailbox("Jobtour <noreply@example.org>").is_ok());
        assert!(parse_mailbox("not a mailbox").is_err());
    }
}

/// The secret that signs check-in codes. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(pub std::sync::Arc<[u8]>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(…)")
    }
}

fn parse_signing_key(raw: &str) -> Result<SigningKey, String> {
    if raw.chars().count() < 32 {
        return Err("must be at least 32 characters (e.g. `openssl rand -hex 32`)".into());
    }
    Ok(SigningKey(raw.as_bytes().into()))
}
