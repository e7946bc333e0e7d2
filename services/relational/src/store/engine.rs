//! The two database engines behind the one store: how to open them (SQLite in WAL mode with a
//! busy timeout, a single writer connection and a pool of readers; PostgreSQL through one bounded
//! pool), how to probe them, their migrations, and the three ways to run a statement. The store is
//! written once, generic over [`Engine`]; only what truly differs lives here.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;

use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_sqlx::{SqlxBinder, SqlxValues};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow, Postgres};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection, Database, FromRow, Pool};

use super::Settings;
use super::direct::DirectReads;
use super::lease::Lease;
use super::statements;

/// The connections of one database: reads go to `read`, writes to `write`. On PostgreSQL both
/// are the same lease; on SQLite `write` has one connection, so writers queue for it instead of
/// sleeping in SQLite's busy handler, while readers run in parallel (WAL).
pub(crate) struct Pools<DB: Database> {
    pub read: Lease<DB>,
    pub write: Lease<DB>,
    /// Point reads on the calling thread (a SQLite file; see `direct.rs`).
    pub direct: Option<Arc<DirectReads>>,
}

impl<DB: Database> Clone for Pools<DB> {
    fn clone(&self) -> Self {
        Self {
            read: self.read.clone(),
            write: self.write.clone(),
            direct: self.direct.clone(),
        }
    }
}

impl<DB: Database> Pools<DB> {
    /// Closes both.
    pub(super) async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// The sqlx pools an engine opens, before the store leases their connections.
pub(crate) struct Opened<DB: Database> {
    pub read: Pool<DB>,
    pub write: Pool<DB>,
    /// Connections to lease from `read` (when it is another pool than `write`).
    pub readers: u32,
    /// Connections to lease from `write`.
    pub writers: u32,
    /// Point reads on the calling thread, where the engine offers them.
    pub direct: Option<Arc<DirectReads>>,
}

impl<DB: Database> Opened<DB> {
    /// Leases the connections; a shared pool gets one shared lease.
    pub(super) async fn lease(
        self,
        timeout: std::time::Duration,
    ) -> Result<Pools<DB>, sqlx::Error> {
        let write = Lease::new(self.write.clone(), self.writers, timeout).await?;
        if self.readers == 0 {
            return Ok(Pools {
                read: write.clone(),
                write,
                direct: self.direct,
            });
        }
        let read = Lease::new(self.read, self.readers, timeout).await?;
        Ok(Pools {
            read,
            write,
            direct: self.direct,
        })
    }
}

/// A row type both drivers can decode (`Order`, `Group`, tuples). As a supertrait bound it lets
/// the generic store ask either engine for it.
pub(crate) trait Decoded:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Decoded for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// What the store needs from an engine.
pub(crate) trait Engine: Send + Sync + 'static {
    /// The sqlx driver.
    type Db: Database;
    /// `sqlite` or `postgres`, for logs.
    const NAME: &'static str;
    /// Whether ids given explicitly must be followed by `statements::sync_id_sequence`.
    const ID_SEQUENCE: bool;

    /// The versioned migrations of this engine.
    fn migrator() -> &'static Migrator;

    /// Whether the pools hold the only copy of the data (in-memory SQLite): then they are never
    /// dropped, since reconnecting would start from an empty database.
    fn keeps_data_in_pool(_settings: &Settings) -> bool {
        false
    }

    /// Renders a sea-query statement in this engine's dialect.
    fn build<S: SqlxBinder>(statement: &S) -> (String, SqlxValues);

    /// Opens the pools; `create` lets SQLite create a missing database file.
    fn open(
        settings: &Settings,
        create: bool,
    ) -> impl Future<Output = Result<Opened<Self::Db>, sqlx::Error>> + Send;

    /// Proves the database is reachable now, on a fresh connection where that means something.
    fn probe(
        settings: &Settings,
        pools: &Pools<Self::Db>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Applies pending migrations.
    fn migrate(pool: &Pool<Self::Db>) -> impl Future<Output = Result<(), MigrateError>> + Send;

    /// Runs a statement and decodes every row.
    fn fetch_all<T>(
        conn: &mut <Self::Db as Database>::Connection,
        statement: (String, SqlxValues),
    ) -> impl Future<Output = Result<Vec<T>, sqlx::Error>> + Send
    where
        T: Decoded;

    /// Runs a statement and decodes the first row, if any.
    fn fetch_optional<T>(
        conn: &mut <Self::Db as Database>::Connection,
        statement: (String, SqlxValues),
    ) -> impl Future<Output = Result<Option<T>, sqlx::Error>> + Send
    where
        T: Decoded;

    /// Runs a statement and returns the number of rows it changed.
    fn execute(
        conn: &mut <Self::Db as Database>::Connection,
        statement: (String, SqlxValues),
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
}

/// The statement runners, identical for both drivers but for the driver type.
macro_rules! runners {
    ($db:ty) => {
        async fn fetch_all<T>(
            conn: &mut <$db as Database>::Connection,
            (sql, values): (String, SqlxValues),
        ) -> Result<Vec<T>, sqlx::Error>
        where
            T: Decoded,
        {
            sqlx::query_as_with::<$db, T, _>(AssertSqlSafe(sql), values)
                .fetch_all(conn)
                .await
        }

        async fn fetch_optional<T>(
            conn: &mut <$db as Database>::Connection,
            (sql, values): (String, SqlxValues),
        ) -> Result<Option<T>, sqlx::Error>
        where
            T: Decoded,
        {
            sqlx::query_as_with::<$db, T, _>(AssertSqlSafe(sql), values)
                .fetch_optional(conn)
                .await
        }

        async fn execute(
            conn: &mut <$db as Database>::Connection,
            (sql, values): (String, SqlxValues),
        ) -> Result<u64, sqlx::Error> {
            let done = sqlx::query_with::<$db, _>(AssertSqlSafe(sql), values)
                .execute(conn)
                .await?;
            Ok(done.rows_affected())
        }

        async fn migrate(pool: &Pool<$db>) -> Result<(), MigrateError> {
            Self::migrator().run(pool).await
        }
    };
}

/// Runs the probe statement on one connection.
macro_rules! probe_on {
    ($db:ty, $conn:expr) => {{
        let (sql, values) = Self::build(&statements::probe());
        sqlx::query_with::<$db, _>(AssertSqlSafe(sql), values)
            .fetch_optional($conn)
            .await
            .map(|_| ())
    }};
}

/// The embedded engine.
pub(crate) struct SqliteEngine;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

impl SqliteEngine {
    fn options(settings: &Settings) -> Result<SqliteConnectOptions, sqlx::Error> {
        Ok(SqliteConnectOptions::from_str(&settings.url)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(settings.busy_timeout))
    }

    fn is_memory(settings: &Settings) -> bool {
        settings.url.contains(":memory:") || settings.url.contains("mode=memory")
    }
}

impl Engine for SqliteEngine {
    type Db = Sqlite;
    const NAME: &'static str = "sqlite";
    const ID_SEQUENCE: bool = false;

    fn migrator() -> &'static Migrator {
        &SQLITE_MIGRATIONS
    }

    fn keeps_data_in_pool(settings: &Settings) -> bool {
        Self::is_memory(settings)
    }

    fn build<S: SqlxBinder>(statement: &S) -> (String, SqlxValues) {
        statement.build_sqlx(SqliteQueryBuilder)
    }

    async fn open(settings: &Settings, create: bool) -> Result<Opened<Sqlite>, sqlx::Error> {
        let options = Self::options(settings)?.create_if_missing(create);
        let base = || {
            PoolOptions::<Sqlite>::new()
                .acquire_timeout(settings.acquire_timeout)
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
        };
        if Self::is_memory(settings) {
            // One connection that lives as long as the pool: it *is* the database.
            let pool = base()
                .max_connections(1)
                .min_connections(1)
                .connect_with(options)
                .await?;
            return Ok(Opened {
                read: pool.clone(),
                write: pool,
                readers: 0,
                writers: 1,
                direct: None,
            });
        }
        let write = base()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        // The file exists now (the writer opened or created it): the direct readers may open it.
        let direct = DirectReads::new(
            options.get_filename().to_path_buf(),
            settings.max_connections as usize,
        );
        let read = base()
            .max_connections(settings.max_connections)
            .connect_lazy_with(options);
        Ok(Opened {
            read,
            write,
            readers: settings.max_connections,
            writers: 1,
            direct: Some(Arc::new(direct)),
        })
    }

    async fn probe(settings: &Settings, pools: &Pools<Sqlite>) -> Result<(), sqlx::Error> {
        if Self::is_memory(settings) {
            let mut conn = pools.read.get().await?;
            return probe_on!(Sqlite, &mut *conn);
        }
        // A fresh connection that may not create the file: finds a database that was moved,
        // deleted or unmounted even while pooled connections still hold the old file open.
        let options = Self::options(settings)?.create_if_missing(false);
        let mut conn = SqliteConnection::connect_with(&options).await?;
        let outcome = probe_on!(Sqlite, &mut conn);
        let _ = conn.close().await;
        outcome
    }

    runners!(Sqlite);
}

/// The engine for deployments.
pub(crate) struct PostgresEngine;

impl Engine for PostgresEngine {
    type Db = Postgres;
    const NAME: &'static str = "postgres";
    const ID_SEQUENCE: bool = true;

    fn migrator() -> &'static Migrator {
        &POSTGRES_MIGRATIONS
    }

    fn build<S: SqlxBinder>(statement: &S) -> (String, SqlxValues) {
        statement.build_sqlx(PostgresQueryBuilder)
    }

    async fn open(settings: &Settings, _create: bool) -> Result<Opened<Postgres>, sqlx::Error> {
        let options = PgConnectOptions::from_str(&settings.url)?;
        let pool = PoolOptions::<Postgres>::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .test_before_acquire(false)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Ok(Opened {
            read: pool.clone(),
            write: pool,
            readers: 0,
            writers: settings.max_connections,
            direct: None,
        })
    }

    async fn probe(settings: &Settings, _pools: &Pools<Postgres>) -> Result<(), sqlx::Error> {
        let options = PgConnectOptions::from_str(&settings.url)?;
        let connect = PgConnection::connect_with(&options);
        let mut conn = tokio::time::timeout(settings.acquire_timeout, connect)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        let outcome = probe_on!(Postgres, &mut conn);
        let _ = conn.close().await;
        outcome
    }

    runners!(Postgres);
}
