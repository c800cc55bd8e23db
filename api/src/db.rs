//! The connection pool, for PostgreSQL or SQLite, chosen by URL.

use crate::config::DbSettings;
use crate::error::{ApiError, ApiResult};
use jobtour_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::Connection;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode, SqlxPostgresConnector,
    SqlxSqliteConnector, TransactionOptions, TransactionTrait,
};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long SQLite waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The database: a pool of connections and the way to start a write transaction.
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
    max_connections: u32,
    /// The HTTP workers' own pools made from this one ([`Db::for_worker`]): counted in its
    /// usage and closed with it.
    workers: Arc<Mutex<Vec<DatabaseConnection>>>,
}

/// A PostgreSQL connection is checked with a round trip before it is handed out only when it
/// has sat idle this long. sqlx's default checks before every acquire: under load, when
/// connections pass from request to request, that doubled the round trips of a read by id. A
/// connection that dies while in use fails its statement (a 503) and is closed when released,
/// where sqlx checks it again.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// A PostgreSQL pool of `size` connections, checked only after a second idle.
fn pg_pool_options(size: u32, acquire_timeout: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(size)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .acquire_timeout(acquire_timeout)
}

impl Db {
    /// Opens the pool; for SQLite, creates the file (and its directory) and turns on WAL,
    /// a busy timeout and foreign keys on every connection.
    pub async fn connect(settings: &DbSettings) -> Result<Self, DbErr> {
        let url = settings.url();
        let mut conn = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| DbErr::Custom(format!("DATABASE_URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
                // Erased personal data must not linger in freed pages.
                .pragma("secure_delete", "on");
            if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
                ensure_dir(dir)?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.db_pool_size)
                // A file does not hang up: no check before handing a connection out (a hop to
                // its worker thread and back otherwise).
                .test_before_acquire(false)
                .acquire_timeout(settings.acquire_timeout())
                .connect_with(options)
                .await
                .map_err(|e| DbErr::Custom(format!("cannot open the SQLite database: {e}")))?;
            SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
        } else {
            let options = PgConnectOptions::from_str(url).map_err(|e| DbErr::Custom(format!("DATABASE_URL: {e}")))?;
            let pool = pg_pool_options(settings.db_pool_size, settings.acquire_timeout())
                .connect_with(options)
                .await
                .map_err(|e| DbErr::Custom(format!("cannot connect to PostgreSQL: {e}")))?;
            SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
        };
        conn.set_metric_callback(|_| crate::metrics::count_query());
        Ok(Self {
            conn,
            max_connections: settings.db_pool_size,
            workers: Arc::default(),
        })
    }

    /// The pool of one of `workers` HTTP workers, to be made on the worker's own thread: on
    /// PostgreSQL, a pool of its own with its share of the connections (at least one), opened
    /// as the worker needs them. A connection's socket belongs to the Tokio runtime it was
    /// opened on, and each actix worker runs its own: a connection shared by every worker,
    /// woken by another worker's runtime at each reply, cost two thread hand-offs per round
    /// trip (a read by id 1.7x faster with a pool per worker, in alternated `wrk` runs). On SQLite,
    /// this pool: its connections are threads of their own whoever uses them.
    pub fn for_worker(&self, workers: usize) -> Db {
        if self.backend() != DbBackend::Postgres {
            return self.clone();
        }
        let mut made = self.workers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let workers = u32::try_from(workers.max(1)).unwrap_or(u32::MAX);
        let nth = u32::try_from(made.len()).unwrap_or(u32::MAX);
        // The connections shared out as evenly as they go, the first workers taking the rest.
        let share = (self.max_connections / workers + u32::from(nth < self.max_connections % workers)).max(1);
        let pool = self.conn.get_postgres_connection_pool();
        let pool = pg_pool_options(share, pool.options().get_acquire_timeout())
            .connect_lazy_with((*pool.connect_options()).clone());
        let mut conn = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
        conn.set_metric_callback(|_| crate::metrics::count_query());
        made.push(conn.clone());
        Db {
            conn,
            max_connections: share,
            workers: self.workers.clone(),
        }
    }

    /// For reads and single-statement writes.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// A write transaction. On SQLite it is `BEGIN IMMEDIATE`, taking the write lock up front
    /// so that a read-then-write transaction waits for its turn instead of failing with
    /// `SQLITE_BUSY`; PostgreSQL ignores the mode.
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.conn
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    /// Runs `work` in a write transaction and commits it. When the database gave the
    /// transaction up to break a deadlock or a serialization conflict (two seat-keeping chains
    /// crossing), it runs again, up to three times in all.
    pub async fn transaction<T>(&self, work: impl AsyncFn(&DatabaseTransaction) -> ApiResult<T>) -> ApiResult<T> {
        let mut attempt = 1;
        loop {
            let tx = self.begin().await?;
            let outcome = match work(&tx).await {
                Ok(value) => tx.commit().await.map(|()| value).map_err(ApiError::from),
                Err(e) => Err(e),
            };
            match outcome {
                Err(e) if e.is_retryable() && attempt < 3 => {
                    tracing::debug!(
                        attempt,
                        "transaction aborted by the database to resolve a conflict: again"
                    );
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.conn, None).await
    }

    /// `(open, idle, max)` connections of the requests' pools (the workers' when there are),
    /// for the metrics.
    pub fn pool_usage(&self) -> (u32, usize, u32) {
        if self.backend() == DbBackend::Sqlite {
            let pool = self.conn.get_sqlite_connection_pool();
            return (pool.size(), pool.num_idle(), self.max_connections);
        }
        let workers = self.workers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let pools: Vec<_> = if workers.is_empty() {
            vec![self.conn.get_postgres_connection_pool()]
        } else {
            workers
                .iter()
                .map(DatabaseConnection::get_postgres_connection_pool)
                .collect()
        };
        pools.iter().fold((0, 0, 0), |(open, idle, max), pool| {
            (
                open + pool.size(),
                idle + pool.num_idle(),
                max + pool.options().get_max_connections(),
            )
        })
    }

    /// Whether the database answers, within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> bool {
        matches!(tokio::time::timeout(timeout, self.conn.ping()).await, Ok(Ok(())))
    }

    /// Closes the pool and the workers' pools made from it.
    pub async fn close(self) -> Result<(), DbErr> {
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        for pool in workers {
            pool.close().await?;
        }
        self.conn.close().await
    }
}

/// What a [`listen`]er hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard<'a> {
    /// Listening (again): what was sent while it was not is lost.
    Connected,
    /// A notification's payload.
    Message(&'a str),
    /// The connection dropped; it reconnects after a second.
    Lost,
}

/// On PostgreSQL, listens on `channel` until aborted, over a connection of its own (outside the
/// request pool), reconnecting after a second when it drops, and hands `on` what it hears.
/// `None` on SQLite: one instance per file, nobody else to hear.
pub fn listen(
    db: &Db,
    channel: &'static str,
    on: impl Fn(Heard<'_>) + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    if db.backend() != DbBackend::Postgres {
        return None;
    }
    let options = db.conn.get_postgres_connection_pool().connect_options();
    Some(tokio::spawn(async move {
        use sea_orm::sqlx::postgres::PgListener;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with((*options).clone());
        loop {
            if let Ok(mut listener) = PgListener::connect_with(&pool).await
                && listener.listen(channel).await.is_ok()
            {
                on(Heard::Connected);
                while let Ok(Some(notification)) = listener.try_recv().await {
                    on(Heard::Message(notification.payload()));
                }
                tracing::warn!(channel, "lost a notification channel: reconnecting");
            }
            on(Heard::Lost);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }))
}

fn ensure_dir(dir: &Path) -> Result<(), DbErr> {
    std::fs::create_dir_all(dir).map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))
}
