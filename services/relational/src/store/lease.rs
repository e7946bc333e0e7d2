//! Long-lived leases on sqlx pool connections. Returning a connection to an sqlx pool spawns a
//! task and pings the connection, which for every query costs a second round trip (to SQLite's
//! worker thread, or over the network to PostgreSQL). The store instead takes each connection
//! from the pool once and lends it to calls: a semaphore bounds the calls in flight, the acquire
//! timeout still applies, and a connection that breaks makes the store drop all its leases and
//! reconnect (see `sql.rs`). One connection is taken when the store connects (so a database it
//! cannot reach fails the connect), the others when calls first overlap: a quiet service holds
//! one (an SQLite reader is a thread and a page cache, a PostgreSQL one a server process).

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Connections taken from `pool`, lent one call at a time.
pub(crate) struct Lease<DB: Database> {
    inner: Arc<Inner<DB>>,
}

impl<DB: Database> Clone for Lease<DB> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<DB: Database> {
    pool: Pool<DB>,
    idle: Mutex<Vec<PoolConnection<DB>>>,
    permits: Arc<Semaphore>,
    timeout: Duration,
}

impl<DB: Database> Lease<DB> {
    /// Lends up to `size` connections of `pool` (at least one), taking the first now.
    pub(super) async fn new(
        pool: Pool<DB>,
        size: u32,
        timeout: Duration,
    ) -> Result<Self, sqlx::Error> {
        let first = pool.acquire().await?;
        Ok(Self {
            inner: Arc::new(Inner {
                permits: Arc::new(Semaphore::new(size.max(1) as usize)),
                idle: Mutex::new(vec![first]),
                pool,
                timeout,
            }),
        })
    }

    /// A connection for one call; `PoolTimedOut` when none frees up within the acquire timeout.
    pub(super) async fn get(&self) -> Result<Leased<DB>, sqlx::Error> {
        let permits = Arc::clone(&self.inner.permits);
        let permit = tokio::time::timeout(self.inner.timeout, permits.acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            // Every connection taken so far is lent, and the permit says fewer than `size` are:
            // the pool (sized alike) has one more to give, within its acquire timeout. When it
            // cannot open one (PostgreSQL at its connection limit, say), only this call fails, as
            // if none had come free: the connections already open are fine, and classifying the
            // error as a lost database would disconnect the store for everyone.
            None => self.inner.pool.acquire().await.map_err(|e| {
                tracing::warn!(error = %e, "could not open another database connection");
                sqlx::Error::PoolTimedOut
            })?,
        };
        Ok(Leased {
            conn: Some(conn),
            inner: Arc::clone(&self.inner),
            _permit: permit,
        })
    }

    /// Stops lending, gives the connections back and closes the pool.
    pub(super) async fn close(&self) {
        self.inner.permits.close();
        self.inner
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.inner.pool.close().await;
    }
}

/// One lent connection; it goes back when dropped.
pub(crate) struct Leased<DB: Database> {
    conn: Option<PoolConnection<DB>>,
    inner: Arc<Inner<DB>>,
    _permit: OwnedSemaphorePermit,
}

impl<DB: Database> Deref for Leased<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        self.conn.as_ref().expect("leased connection")
    }
}

impl<DB: Database> DerefMut for Leased<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.conn.as_mut().expect("leased connection")
    }
}

impl<DB: Database> Drop for Leased<DB> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.inner
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::Sqlite;
    use sqlx::pool::PoolOptions;

    use super::*;

    #[tokio::test]
    async fn connections_are_taken_when_calls_first_overlap_and_then_kept() {
        let pool = PoolOptions::<Sqlite>::new()
            .max_connections(3)
            .connect_lazy("sqlite::memory:")
            .unwrap();
        let lease = Lease::new(pool.clone(), 3, Duration::from_millis(200))
            .await
            .unwrap();
        assert_eq!(pool.size(), 1, "one connection at connect");

        let (a, b) = (lease.get().await.unwrap(), lease.get().await.unwrap());
        assert_eq!(pool.size(), 2, "a second when two calls overlap");
        drop((a, b));
        let again: Vec<_> = vec![lease.get().await.unwrap(), lease.get().await.unwrap()];
        assert_eq!(pool.size(), 2, "lent again, not taken again");

        let third = lease.get().await.unwrap();
        assert_eq!(pool.size(), 3);
        let waited = lease.get().await.map(|_| ()).unwrap_err();
        assert!(matches!(waited, sqlx::Error::PoolTimedOut), "{waited:?}");
        drop((again, third));
        assert_eq!(pool.size(), 3);

        lease.close().await;
        let closed = lease.get().await.map(|_| ()).unwrap_err();
        assert!(matches!(closed, sqlx::Error::PoolClosed), "{closed:?}");
    }

    #[tokio::test]
    async fn a_connection_that_cannot_be_opened_fails_only_the_call_that_wanted_it() {
        let dir = tempfile::tempdir().unwrap();
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("orders.db"))
            .create_if_missing(true);
        let pool = PoolOptions::<Sqlite>::new()
            .max_connections(2)
            .connect_lazy_with(options);
        let lease = Lease::new(pool, 2, Duration::from_secs(5)).await.unwrap();
        drop(dir); // the file goes: a second connection cannot be opened
        let first = lease.get().await.unwrap();
        let second = lease.get().await.map(|_| ()).unwrap_err();
        assert!(matches!(second, sqlx::Error::PoolTimedOut), "{second:?}");
        drop(first);
        assert!(
            lease.get().await.is_ok(),
            "the open connection is still lent"
        );
    }
}
