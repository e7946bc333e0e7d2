//! The PostgreSQL connections of the session store: at most `size` open, each lent to one call
//! at a time, opened when a call needs one and none is idle.
//!
//! Why not `sqlx::PgPool`: it pings every connection it gets back (a second round trip per
//! statement, and the chat turn makes two statements), and it has no notion of "this connection
//! broke, that one did not". Here a connection goes back to the idle list only when its call
//! says it ended cleanly ([`Conn::finish`]); a call that failed on the wire, timed out or was
//! cancelled drops its connection, and the next call opens a fresh one. One broken connection
//! therefore costs one call, never the store; whether the database itself is gone is decided by
//! the probe (see `crate::lifecycle`). [`Connections::clear`] starts a new generation: idle
//! connections are closed and those lent out are dropped when they come back, so nothing from
//! before a loss is reused after it.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// At most `size` connections to one database.
pub(super) struct Connections {
    options: PgConnectOptions,
    idle: Mutex<Vec<PgConnection>>,
    permits: Arc<Semaphore>,
    generation: AtomicU64,
    /// The longest wait for a free connection, and for a new one to open.
    timeout: Duration,
}

impl Connections {
    /// No connection open yet; up to `size` of them with `options`.
    pub(super) fn new(options: PgConnectOptions, size: u32, timeout: Duration) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size.max(1) as usize)),
            generation: AtomicU64::new(0),
            timeout,
        }
    }

    /// A connection for one call: an idle one, or a new one. `PoolTimedOut` when no connection
    /// frees up, or none opens, within the timeout.
    pub(super) async fn get(&self) -> Result<Conn<'_>, sqlx::Error> {
        let permits = Arc::clone(&self.permits);
        let permit = tokio::time::timeout(self.timeout, permits.acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let generation = self.generation.load(Ordering::SeqCst);
        let idle = self.idle.lock().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().await?,
        };
        Ok(Conn {
            conn: Some(conn),
            home: self,
            generation,
            _permit: permit,
        })
    }

    /// A new connection outside the set (for probes), within the timeout.
    pub(super) async fn open(&self) -> Result<PgConnection, sqlx::Error> {
        tokio::time::timeout(self.timeout, PgConnection::connect_with(&self.options))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
    }

    /// Closes the idle connections and retires those lent out.
    pub(super) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let closed = std::mem::take(&mut *self.idle.lock());
        if !closed.is_empty() {
            tokio::spawn(async move {
                for conn in closed {
                    let _ = conn.close().await;
                }
            });
        }
    }

    fn give_back(&self, conn: PgConnection, generation: u64) {
        if generation == self.generation.load(Ordering::SeqCst) {
            self.idle.lock().push(conn);
        }
    }
}

/// One lent connection. Dropped without [`Conn::finish`], it is closed instead of reused.
pub(super) struct Conn<'a> {
    conn: Option<PgConnection>,
    home: &'a Connections,
    generation: u64,
    _permit: OwnedSemaphorePermit,
}

impl Conn<'_> {
    /// Ends the call with `outcome`: the connection goes back to the idle list unless the
    /// failure may have left it unusable (a broken wire, a server that ended the session).
    pub(super) fn finish<T>(mut self, outcome: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        let reusable = match &outcome {
            Ok(_) => true,
            Err(e) => !super::errors::classify(e).trouble,
        };
        if reusable && let Some(conn) = self.conn.take() {
            self.home.give_back(conn, self.generation);
        }
        outcome
    }
}

impl Deref for Conn<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.conn.as_ref().expect("a lent connection")
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("a lent connection")
    }
}
