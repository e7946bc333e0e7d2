//! Long-lived leases on sqlx pool connections. Returning a connection to an sqlx pool spawns a
//! task and pings the connection, which for every query costs a second round trip (to SQLite's
//! worker thread, or over the network to PostgreSQL). The store instead takes its connections
//! from the pool once, when it connects, and lends them to calls: a semaphore bounds the calls
//! in flight, the acquire timeout still applies, and a connection that breaks makes the store
//! drop all its leases and reconnect (see `sql.rs`).

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
    /// Takes `size` connections from `pool`.
    pub(super) async fn new(
        pool: Pool<DB>,
        size: u32,
        timeout: Duration,
    ) -> Result<Self, sqlx::Error> {
        let mut idle = Vec::with_capacity(size as usize);
        for _ in 0..size {
            idle.push(pool.acquire().await?);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                permits: Arc::new(Semaphore::new(idle.len())),
                idle: Mutex::new(idle),
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
        let conn = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .ok_or(sqlx::Error::PoolClosed)?;
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
