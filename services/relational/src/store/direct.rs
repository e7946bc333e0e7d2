//! Point reads of a SQLite file on the calling thread. sqlx runs every SQLite statement on a
//! worker thread of its own and hands the rows back through a channel: for `GetOrder`, a lookup
//! by primary key that SQLite answers in microseconds, that hand-over (two thread wake-ups, the
//! channel, the row copied into sqlx's types) cost more than the lookup itself — profiled under
//! `GetOrder` at c=16, sqlx's worker thread was a quarter of the process and `sqlite3_step`
//! a third of that (docs/benchmarks.md). Here the lookup runs through rusqlite on the task's
//! own thread, on read-only connections kept beside the pools.
//!
//! Only bounded reads come here: one row by primary key, a few B-tree pages. Listings and
//! aggregates, whose cost grows with the table, stay on sqlx's threads, and so do all writes.
//! Anything this path cannot do at once (no idle connection and the cap reached, SQLite busy,
//! a connection that cannot be opened, a row that does not decode) answers `None` and the store
//! runs the same read through the pools, whose errors are classified as always: this module
//! adds speed, never a new way to fail. Its connections never wait for a lock (busy timeout 0),
//! so the calling thread never sleeps here.

use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row};
use sea_query::SqliteQueryBuilder;

use super::statements;
use crate::order::{Order, Status};

/// Read-only connections to one SQLite file, opened on first use, up to a cap.
pub(crate) struct DirectReads {
    path: PathBuf,
    /// `SELECT <columns> FROM orders WHERE id = ?`, rendered once.
    get_sql: String,
    idle: Mutex<Idle>,
    cap: usize,
}

struct Idle {
    connections: Vec<Connection>,
    /// Connections that exist, idle or lent.
    open: usize,
}

impl DirectReads {
    /// Reads of the database file at `path`, with at most `cap` connections.
    pub(crate) fn new(path: PathBuf, cap: usize) -> Self {
        let (get_sql, _) = statements::get(0).build(SqliteQueryBuilder);
        Self {
            path,
            get_sql,
            idle: Mutex::new(Idle {
                connections: Vec::new(),
                open: 0,
            }),
            cap: cap.max(1),
        }
    }

    /// The order with `id`: `Some(Some(order))`, `Some(None)` when there is none, `None` when
    /// this path could not answer and the pools must.
    pub(crate) fn get(&self, id: i64) -> Option<Option<Order>> {
        let conn = self.take()?;
        let read = conn
            .prepare_cached(&self.get_sql)
            .and_then(|mut statement| statement.query_row([id], decode).optional());
        match read {
            Ok(found) => {
                self.give_back(conn);
                found.map_or(Some(None), |order| order.map(Some))
            }
            Err(error) => {
                tracing::debug!(%error, id, "direct read failed; reading through the pool");
                self.forget();
                None
            }
        }
    }

    /// An idle connection, or a new one below the cap.
    fn take(&self) -> Option<Connection> {
        {
            let mut idle = self.lock();
            if let Some(conn) = idle.connections.pop() {
                return Some(conn);
            }
            if idle.open >= self.cap {
                return None;
            }
            idle.open += 1;
        }
        match self.open() {
            Ok(conn) => Some(conn),
            Err(error) => {
                tracing::debug!(%error, "cannot open a direct reader; reading through the pool");
                self.forget();
                None
            }
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        // No URI parsing and no CREATE: the pools made the file; a missing file is the pools'
        // outage to report. NO_MUTEX: a connection is lent to one caller at a time (taken out
        // of the idle list), so SQLite's own per-connection lock would guard nothing.
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(std::time::Duration::ZERO)?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        self.lock().connections.push(conn);
    }

    /// A lent connection was dropped (or never opened).
    fn forget(&self) {
        let mut idle = self.lock();
        idle.open = idle.open.saturating_sub(1);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Idle> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One row of `statements::get`, in `schema::COLUMNS` order; `None` for a status this build
/// does not know (the pools' decoder reports it as an error).
fn decode(row: &Row<'_>) -> rusqlite::Result<Option<Order>> {
    let status: String = row.get(4)?;
    let Some(status) = Status::from_db(&status) else {
        return Ok(None);
    };
    Ok(Some(Order {
        id: row.get(0)?,
        customer: row.get(1)?,
        product: row.get(2)?,
        quantity: row.get(3)?,
        status,
        total_cents: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        version: row.get(8)?,
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::order::{NewOrder, Patch};
    use crate::store::engine::SqliteEngine;
    use crate::store::sql::SqlStore;
    use crate::store::{RelationalStore, Settings};

    /// A store on a fresh file, and the file's path.
    async fn store(dir: &tempfile::TempDir) -> (SqlStore<SqliteEngine>, PathBuf) {
        let path = dir.path().join("orders.db");
        let store = SqlStore::<SqliteEngine>::new(Settings {
            url: format!("sqlite://{}", path.display()),
            max_connections: 2,
            acquire_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
        });
        store.connect().await.unwrap();
        (store, path)
    }

    fn new_order(id: i64) -> NewOrder {
        NewOrder {
            id: Some(id),
            customer: "ada".into(),
            product: "lamp".into(),
            quantity: 2,
            status: Status::Paid,
            total_cents: 4200,
        }
    }

    #[tokio::test]
    async fn reads_what_the_pools_wrote_and_sees_later_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (store, path) = store(&dir).await;
        let created = store.create(new_order(7)).await.unwrap();
        let direct = DirectReads::new(path, 2);
        assert_eq!(direct.get(7), Some(Some(created)));
        assert_eq!(
            direct.get(8),
            Some(None),
            "a missing id is an answer, not a fallback"
        );

        let patch = Patch {
            status: Some(Status::Shipped),
            ..Patch::default()
        };
        let updated = store.update(7, patch, 1).await.unwrap();
        let seen = direct.get(7).unwrap().unwrap();
        assert_eq!((seen.version, seen.status), (2, Status::Shipped));
        assert_eq!(seen, updated);
        store.delete(7, None).await.unwrap();
        assert_eq!(direct.get(7), Some(None));
    }

    #[tokio::test]
    async fn the_cap_bounds_the_connections_and_lent_ones_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let (store, path) = store(&dir).await;
        store.create(new_order(1)).await.unwrap();
        let direct = DirectReads::new(path, 1);
        let lent = direct.take().expect("one connection below the cap");
        assert!(direct.take().is_none(), "the cap is one connection");
        assert_eq!(direct.get(1), None, "at the cap the pools answer");
        direct.give_back(lent);
        assert!(direct.get(1).unwrap().is_some());
        assert_eq!(direct.lock().open, 1);
    }

    #[tokio::test]
    async fn a_file_it_cannot_open_leaves_the_read_to_the_pools() {
        let dir = tempfile::tempdir().unwrap();
        let direct = DirectReads::new(dir.path().join("missing.db"), 1);
        assert_eq!(direct.get(1), None);
        assert_eq!(direct.get(1), None, "a failed open does not use up the cap");
        assert_eq!(direct.lock().open, 0);
        assert!(
            !dir.path().join("missing.db").exists(),
            "read-only: nothing created"
        );
    }
}
