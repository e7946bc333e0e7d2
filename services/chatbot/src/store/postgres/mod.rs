//! Sessions in PostgreSQL (`--session-url postgres://…`): one database shared by every chatbot
//! replica, so that any replica can serve any turn of a conversation.
//!
//! The store answers UNAVAILABLE, never waits long: while it is not connected (before the first
//! connect, after a failed probe) every call fails at once; while connected, each call gets the
//! store's timeout for finding a connection AND its statement's answer (PostgreSQL's own
//! `statement_timeout` is set to the same, so the server gives up too). A call that fails on the
//! wire or times out wakes the probe ([`Dependency::trouble`]) but does not disconnect the store:
//! only a failed probe on a fresh connection does. Schema changes are the versioned migrations
//! of `migrations/postgres/`, applied by [`Dependency::connect`] under sqlx's advisory lock (so
//! replicas starting together apply them once), recorded in their own table so that the
//! sessions may share a database with the relational service's orders.

mod connections;
mod errors;
mod statements;

use std::str::FromStr;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chatmesh_runtime::auth::Secret;
use sqlx::Connection;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::Notify;

use chatmesh_runtime::dependency::{Dependency, Unreached};

use super::{Clock, SessionStore, Settings, StoreError};
use crate::conversation::{Entity, Session, TurnRecord};
use connections::Connections;
use errors::classify;
use statements::Moment;

/// Where the applied migrations are recorded: not sqlx's default `_sqlx_migrations`, which the
/// relational service uses, so that both may live in one database.
const MIGRATIONS_TABLE: &str = "_chat_sessions_migrations";

/// Sessions a sweep deletes per statement.
const SWEEP_BATCH: i64 = 1000;

static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| {
    let mut migrator = sqlx::migrate!("./migrations/postgres");
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
});

/// Sessions in PostgreSQL.
pub(crate) struct PgSessions {
    connections: Connections,
    /// For migrations: no statement timeout (a migration may take long), same server.
    admin: PgConnectOptions,
    ttl: Duration,
    timeout: Duration,
    clock: Clock,
    connected: AtomicBool,
    trouble: Notify,
}

impl PgSessions {
    /// A store for the database at `url`, not connected yet.
    pub(crate) fn new(url: &Secret, settings: &Settings, clock: Clock) -> Result<Self, StoreError> {
        let admin = PgConnectOptions::from_str(url.expose())
            .map_err(|e| StoreError::Internal(format!("--session-url: {e}")))?
            .application_name("chatmesh-chatbot");
        let timeout_ms = settings.timeout.as_millis().max(1).to_string();
        let options = admin
            .clone()
            .options([("statement_timeout", timeout_ms.as_str())]);
        Ok(Self {
            connections: Connections::new(options, settings.max_connections, settings.timeout),
            admin,
            ttl: settings.ttl,
            timeout: settings.timeout,
            clock,
            connected: AtomicBool::new(false),
            trouble: Notify::new(),
        })
    }

    /// Now, and the last-use time at or before which a session has expired.
    fn moment(&self) -> Moment {
        let now = self.clock.micros();
        let ttl = i64::try_from(self.ttl.as_micros()).unwrap_or(i64::MAX);
        Moment {
            now,
            cutoff: now.saturating_sub(ttl),
        }
    }

    /// Runs one call's `work` within the timeout, or fails at once while disconnected. Failures
    /// become [`StoreError`]s; those that hint at a lost database wake the probe.
    async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        if !self.is_connected() {
            return Err(StoreError::Unavailable(
                "the session database cannot be reached; the chatbot reconnects by itself".into(),
            ));
        }
        match tokio::time::timeout(self.timeout, work).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                let failure = classify(&e);
                if failure.trouble {
                    // The idle connections were likely opened with the one that broke (before a
                    // server restart, say): retire them too, and let the probe decide the rest.
                    self.connections.clear();
                    self.trouble.notify_one();
                }
                if let StoreError::Internal(message) = &failure.error {
                    tracing::error!(%message, "session database error");
                }
                Err(failure.error)
            }
            Err(_) => {
                self.trouble.notify_one();
                Err(StoreError::Unavailable(format!(
                    "the session database did not answer within {:?}",
                    self.timeout
                )))
            }
        }
    }

    fn disconnect(&self) {
        if self.connected.swap(false, Ordering::SeqCst) {
            tracing::warn!("lost the session database; calls answer UNAVAILABLE");
        }
        self.connections.clear();
    }
}

#[tonic::async_trait]
impl SessionStore for PgSessions {
    async fn last_entity(&self, session_id: &str) -> Result<Option<Entity>, StoreError> {
        let at = self.moment();
        self.bounded(async {
            let mut conn = self.connections.get().await?;
            let entity = statements::last_entity(&mut conn, session_id, at.cutoff).await;
            conn.finish(entity)
        })
        .await
    }

    async fn record(
        &self,
        session_id: &str,
        turn: TurnRecord,
        entity: Option<Entity>,
    ) -> Result<(), StoreError> {
        let at = self.moment();
        self.bounded(async {
            let mut conn = self.connections.get().await?;
            let done = statements::record(&mut conn, session_id, &turn, entity.as_ref(), at).await;
            conn.finish(done)
        })
        .await
    }

    async fn get(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        let at = self.moment();
        self.bounded(async {
            let mut conn = self.connections.get().await?;
            let session = statements::get(&mut conn, session_id, at.cutoff).await;
            conn.finish(session)
        })
        .await
    }

    async fn delete(&self, session_id: &str) -> Result<bool, StoreError> {
        let at = self.moment();
        self.bounded(async {
            let mut conn = self.connections.get().await?;
            let existed = statements::delete(&mut conn, session_id, at.cutoff).await;
            conn.finish(existed)
        })
        .await
    }

    async fn sweep(&self) -> Result<u64, StoreError> {
        let at = self.moment();
        let mut gone = 0;
        loop {
            let batch = self
                .bounded(async {
                    let mut conn = self.connections.get().await?;
                    let swept = statements::sweep(&mut conn, at.cutoff, SWEEP_BATCH).await;
                    conn.finish(swept)
                })
                .await?;
            gone += batch;
            if batch < SWEEP_BATCH as u64 {
                return Ok(gone);
            }
        }
    }
}

impl PgSessions {
    /// Opens (or reopens) the database and applies pending migrations. `Unavailable` when it
    /// cannot be reached; `Internal` when it can but cannot be used (credentials, migrations).
    async fn open(&self) -> Result<(), StoreError> {
        // A pool of one, for the migrator's sake (it takes a pool or a connection it can borrow
        // for any lifetime); it closes once the migrations are applied.
        let opening = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(self.timeout)
            .connect_with(self.admin.clone());
        let pool = match tokio::time::timeout(self.timeout, opening).await {
            Ok(Ok(pool)) => pool,
            Ok(Err(e)) => return Err(classify(&e).error),
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "no connection within {:?}",
                    self.timeout
                )));
            }
        };
        let migrated = MIGRATOR.run(&pool).await;
        pool.close().await;
        migrated.map_err(migrate_error)?;
        self.connections.clear();
        self.connected.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Checks on a fresh connection that the database answers; a failure disconnects the store.
    async fn check(&self) -> Result<(), StoreError> {
        let probe = async {
            let mut conn = self.connections.open().await?;
            let answered = statements::probe(&mut conn).await;
            let _ = conn.close().await;
            answered
        };
        let outcome = match tokio::time::timeout(self.timeout, probe).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(classify(&e).error),
            Err(_) => Err(StoreError::Unavailable(format!(
                "the probe got no answer within {:?}",
                self.timeout
            ))),
        };
        if let Err(error) = &outcome {
            tracing::warn!(%error, "session database probe failed");
            self.disconnect();
        }
        outcome
    }
}

#[tonic::async_trait]
impl Dependency for PgSessions {
    fn name(&self) -> &'static str {
        "session database"
    }

    fn location(&self) -> String {
        "postgres".to_owned()
    }

    async fn connect(&self) -> Result<(), Unreached> {
        self.open().await.map_err(|e| match e {
            StoreError::Unavailable(reason) => Unreached::Unreachable(reason),
            other => Unreached::Unusable(other.to_string()),
        })
    }

    fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    async fn probe(&self) {
        let _ = self.check().await;
    }

    async fn trouble(&self) {
        self.trouble.notified().await;
    }
}

/// Whether sqlx accepts `url` (its options, its percent-encoding).
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    PgConnectOptions::from_str(url)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A failed migration: UNAVAILABLE when the database went away, otherwise a problem with the
/// migrations themselves (changed, missing or partly applied), which needs an operator.
fn migrate_error(err: MigrateError) -> StoreError {
    match err {
        MigrateError::Execute(e) => match classify(&e).error {
            StoreError::Unavailable(m) => StoreError::Unavailable(m),
            StoreError::Internal(m) => StoreError::Internal(format!("migration failed: {m}")),
        },
        other => StoreError::Internal(format!("session migrations: {other}")),
    }
}
