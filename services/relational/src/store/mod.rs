//! The store: the [`RelationalStore`] trait the gRPC edge talks to, and the one implementation
//! (`sql::SqlStore`) that runs on SQLite and PostgreSQL. The engine is chosen by the URL's scheme.
//!
//! Besides the reads and writes, a store knows whether it is connected: a lost database makes it
//! drop its pools and answer UNAVAILABLE at once, and [`RelationalStore::connect`] (called by the
//! supervisor in `crate::lifecycle`) brings it back without a restart.

mod direct;
mod engine;
mod errors;
mod lease;
mod schema;
mod sql;
mod statements;

use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::order::{NewOrder, Order, Patch};
use crate::query::{Filter, Group, GroupBy, ListQuery, Page};

/// How to reach the database.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `sqlite://PATH`, `sqlite::memory:` or `postgres://…`.
    pub url: String,
    /// Most connections (PostgreSQL) or reader connections (SQLite); opened as calls first need them.
    pub max_connections: u32,
    /// How long a call waits for a free connection before UNAVAILABLE.
    pub acquire_timeout: Duration,
    /// How long SQLite waits for a lock before giving up.
    pub busy_timeout: Duration,
}

/// The orders table, whatever engine holds it. Every method is one atomic statement (or a
/// read-only sequence), so a failed call never leaves a half-applied write.
#[tonic::async_trait]
pub(crate) trait RelationalStore: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn engine(&self) -> &'static str;

    /// Inserts an order at version 1 with both times set to now.
    async fn create(&self, order: NewOrder) -> Result<Order>;

    /// Reads one order.
    async fn get(&self, id: i64) -> Result<Order>;

    /// Changes the patched columns if the order is at `expected_version`, bumping the version.
    async fn update(&self, id: i64, patch: Patch, expected_version: i64) -> Result<Order>;

    /// Deletes an order, only at `expected_version` when given.
    async fn delete(&self, id: i64, expected_version: Option<i64>) -> Result<()>;

    /// One page of a listing and the total count of matching orders.
    async fn list(&self, query: ListQuery) -> Result<Page>;

    /// Count and sums per group, in the contract's order (status by number, else by key bytes).
    async fn aggregate(&self, filter: Filter, group_by: GroupBy) -> Result<Vec<Group>>;

    /// Up to `limit` matching orders with id > `after_id`, by id.
    async fn export_batch(&self, filter: &Filter, after_id: i64, limit: u32) -> Result<Vec<Order>>;

    /// Inserts complete rows whose ids are free and skips the others; returns how many were new.
    async fn insert_missing(&self, orders: &[Order]) -> Result<u64>;

    /// Opens (or reopens) the database and applies pending migrations.
    async fn connect(&self) -> Result<()>;

    /// The migrations recorded in the database: `(version, description)`, oldest first.
    async fn applied_migrations(&self) -> Result<Vec<(i64, String)>>;

    /// Whether the store currently has a database to talk to.
    fn is_connected(&self) -> bool;

    /// Checks that the database is still reachable; a failure disconnects the store.
    async fn probe(&self) -> Result<()>;

    /// Resolves when a call found the database gone (so the supervisor need not wait its turn).
    async fn trouble(&self);
}

/// The store for `settings.url`, not yet connected (see [`RelationalStore::connect`]).
pub(crate) fn open(settings: Settings) -> Arc<dyn RelationalStore> {
    if settings.url.starts_with("postgres") {
        Arc::new(sql::SqlStore::<engine::PostgresEngine>::new(settings))
    } else {
        Arc::new(sql::SqlStore::<engine::SqliteEngine>::new(settings))
    }
}
