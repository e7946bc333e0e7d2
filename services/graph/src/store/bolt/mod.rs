//! The Bolt engine: the graph kept by a server that speaks the Neo4j wire protocol (Neo4j,
//! Memgraph, ArcadeDB, Neptune), through `neo4rs` 0.8, selected with `--graph-url bolt://…`.
//! It implements the same [`GraphStore`](super::GraphStore) as the embedded engine, so the
//! gRPC edge cannot tell them apart except where the engine itself differs (see README "Graph
//! on a Bolt server"):
//!
//! - ids are the engine's, shifted by one ([`values`]); nothing here invents or keeps ids;
//! - CRUD ([`crud`]) is parameterised Cypher; labels, types and keys are backtick-quoted after
//!   the model's name check, never spliced otherwise;
//! - ListNeighbors and weighted paths walk in Rust with one batched query per step ([`walk`]),
//!   so depth is the breadth-first distance and the order and limits are the embedded ones;
//!   unweighted paths are the engine's `shortestPath()`;
//! - ExecuteQuery and StreamQuery pass the Cypher through ([`query`], [`scan`]); a READ query
//!   runs in a transaction that is always rolled back, as neither neo4rs 0.8 nor ArcadeDB
//!   enforce read-only sessions;
//! - GetSchema counts by scanning ([`schema`]);
//! - errors are sorted once ([`errors`]).
//!
//! Every call runs in an explicit transaction ([`Tx`]), bounded by the caller's deadline (or
//! [`DEFAULT_CALL_TIMEOUT`]); a dropped transaction is rolled back by the server when its
//! connection is reset. Writes that conflict (a transient error) are retried
//! [`WRITE_ATTEMPTS`] times in all, then answer ABORTED. While the engine is unreachable the
//! store says so at once (UNAVAILABLE) instead of waiting for a connection: the service's
//! lifecycle probes it ([`BoltGraph::probe`]) and flips health and this store together.

mod crud;
mod dijkstra;
mod errors;
mod graph_store;
mod query;
mod scan;
mod schema;
mod values;
mod walk;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use neo4rs::{BoltType, ConfigBuilder, Query, Row, Txn};
use tokio::sync::Notify;

use crate::error::{GraphError, Result};
pub(crate) use errors::Failure;

/// How long getting a connection and starting a transaction may take before the engine is
/// taken for unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The bound of a call without a deadline (the engine is another process: never wait forever).
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts of a write whose commit conflicts with another.
const WRITE_ATTEMPTS: u32 = 4;
/// Rows per PULL.
const FETCH_SIZE: usize = 500;
/// Pooled connections.
const MAX_CONNECTIONS: usize = 32;

/// How to reach the Bolt server.
#[derive(Clone)]
pub(crate) struct BoltSettings {
    /// `bolt://host:port` or `neo4j://host:port` (also `+s` / `+ssc` for TLS).
    pub(crate) url: String,
    /// The user.
    pub(crate) user: String,
    /// The password.
    pub(crate) password: String,
    /// The database; `None` lets neo4rs ask for `neo4j`, the server's default.
    pub(crate) database: Option<String>,
}

impl std::fmt::Debug for BoltSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoltSettings")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

/// See the module documentation.
pub(crate) struct BoltGraph {
    graph: neo4rs::Graph,
    url: String,
    connected: AtomicBool,
    trouble: Notify,
}

impl BoltGraph {
    /// A store for `settings`, not yet connected (see [`BoltGraph::probe`]).
    pub(crate) async fn new(settings: &BoltSettings) -> std::result::Result<Self, String> {
        let mut config = ConfigBuilder::default()
            .uri(settings.url.as_str())
            .user(settings.user.as_str())
            .password(settings.password.as_str())
            .fetch_size(FETCH_SIZE)
            .max_connections(MAX_CONNECTIONS);
        if let Some(db) = &settings.database {
            config = config.db(db.as_str());
        }
        let config = config
            .build()
            .map_err(|e| format!("--graph-url {}: {e}", settings.url))?;
        let graph = neo4rs::Graph::connect(config)
            .await
            .map_err(|e| format!("--graph-url {}: {e}", settings.url))?;
        Ok(Self {
            graph,
            url: settings.url.clone(),
            connected: AtomicBool::new(false),
            trouble: Notify::new(),
        })
    }

    /// Whether the last probe (or call) reached the engine.
    pub(crate) fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    /// Resolves when a call found the engine gone.
    pub(crate) async fn trouble(&self) {
        self.trouble.notified().await;
    }

    /// Runs `RETURN 1`; the store is connected when it answers.
    pub(crate) async fn probe(&self) -> std::result::Result<(), Failure> {
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let outcome = async {
            let mut tx = self.begin(Some(deadline)).await?;
            tx.rows(neo4rs::query("RETURN 1 AS one")).await?;
            tx.rollback().await
        }
        .await;
        self.connected.store(outcome.is_ok(), Ordering::Release);
        outcome
    }

    /// Remembers that the engine is gone, so calls answer at once until a probe reaches it.
    fn lost(&self, why: &str) {
        if self.connected.swap(false, Ordering::AcqRel) {
            tracing::warn!(url = %self.url, why, "graph engine lost");
        }
        self.trouble.notify_one();
    }

    /// UNAVAILABLE at once while the engine is unreachable.
    fn check_connected(&self) -> Result<()> {
        if self.is_connected() {
            Ok(())
        } else {
            Err(GraphError::Unavailable(format!(
                "the graph engine at {} is unreachable; the service retries every second",
                self.url
            )))
        }
    }

    /// A transaction, within [`CONNECT_TIMEOUT`] (and the deadline).
    async fn begin(&self, deadline: Option<Instant>) -> std::result::Result<Tx, Failure> {
        let deadline = deadline.unwrap_or_else(|| Instant::now() + DEFAULT_CALL_TIMEOUT);
        let connect_by = deadline.min(Instant::now() + CONNECT_TIMEOUT);
        match tokio::time::timeout_at(connect_by.into(), self.graph.start_txn()).await {
            Ok(Ok(txn)) => Ok(Tx { txn, deadline }),
            Ok(Err(e)) => Err(errors::classify(e)),
            Err(_) if connect_by < deadline => Err(Failure::Lost(format!(
                "no connection within {} s",
                CONNECT_TIMEOUT.as_secs()
            ))),
            Err(_) => Err(Failure::Answer(past_deadline())),
        }
    }

    /// The answer for `failure`, noting a lost engine.
    fn answer(&self, failure: Failure) -> GraphError {
        if let Failure::Lost(why) = &failure {
            self.lost(why);
        }
        failure.into_error()
    }

    /// Runs `body` in a transaction that is rolled back afterwards, whatever it did.
    async fn read<A: Sync, T>(
        &self,
        deadline: Option<Instant>,
        args: &A,
        body: for<'t> fn(&'t mut Tx, &'t A) -> BoxFuture<'t, std::result::Result<T, Failure>>,
    ) -> Result<T> {
        self.check_connected()?;
        let outcome = async {
            let mut tx = self.begin(deadline).await?;
            let value = body(&mut tx, args).await?;
            tx.rollback().await?;
            Ok(value)
        }
        .await;
        outcome.map_err(|f| self.answer(f))
    }

    /// Runs `body` in a transaction that is committed when it succeeds; a transient failure
    /// (a write conflict) runs it again, [`WRITE_ATTEMPTS`] times in all.
    async fn write<A: Sync, T>(
        &self,
        deadline: Option<Instant>,
        args: &A,
        body: for<'t> fn(&'t mut Tx, &'t A) -> BoxFuture<'t, std::result::Result<T, Failure>>,
    ) -> Result<T> {
        self.check_connected()?;
        let mut attempt = 1;
        loop {
            let outcome = async {
                let mut tx = self.begin(deadline).await?;
                let value = body(&mut tx, args).await?;
                tx.commit().await?;
                Ok(value)
            }
            .await;
            match outcome {
                Err(Failure::Transient(why)) if attempt < WRITE_ATTEMPTS => {
                    tracing::debug!(attempt, why, "graph write conflicted; retrying");
                    tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                    attempt += 1;
                }
                other => return other.map_err(|f| self.answer(f)),
            }
        }
    }
}

/// DEADLINE_EXCEEDED, for a call that ran past the caller's deadline.
fn past_deadline() -> GraphError {
    GraphError::DeadlineExceeded(
        "the request ran past the caller's deadline; the engine's transaction was rolled back"
            .into(),
    )
}

/// One transaction of the engine, every step bounded by the call's deadline.
pub(super) struct Tx {
    txn: Txn,
    deadline: Instant,
}

impl Tx {
    /// Awaits `step` until the deadline.
    async fn bounded<T>(
        deadline: Instant,
        step: impl Future<Output = neo4rs::Result<T>>,
    ) -> std::result::Result<T, Failure> {
        match tokio::time::timeout_at(deadline.into(), step).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(errors::classify(e)),
            Err(_) => Err(Failure::Answer(past_deadline())),
        }
    }

    /// Every row of `query`.
    async fn rows(&mut self, query: Query) -> std::result::Result<Vec<Row>, Failure> {
        let mut rows = Vec::new();
        self.each(query, |row| {
            rows.push(row);
            Ok(true)
        })
        .await?;
        Ok(rows)
    }

    /// Feeds the rows of `query` to `take` until it answers `false` (the rest are left to the
    /// server, which discards them when the transaction ends).
    async fn each(
        &mut self,
        query: Query,
        mut take: impl FnMut(Row) -> std::result::Result<bool, Failure>,
    ) -> std::result::Result<(), Failure> {
        let deadline = self.deadline;
        let mut stream = Self::bounded(deadline, self.txn.execute(query)).await?;
        while let Some(row) = Self::bounded(deadline, stream.next(self.txn.handle())).await? {
            if !take(row)? {
                break;
            }
        }
        Ok(())
    }

    async fn commit(self) -> std::result::Result<(), Failure> {
        match tokio::time::timeout_at(self.deadline.into(), self.txn.commit()).await {
            Ok(result) => result.map_err(errors::classify),
            Err(_) => Err(Failure::Answer(GraphError::DeadlineExceeded(
                "the deadline passed while the engine was committing: the write may or may not \
                 have been applied"
                    .into(),
            ))),
        }
    }

    async fn rollback(self) -> std::result::Result<(), Failure> {
        Self::bounded(self.deadline, self.txn.rollback()).await
    }
}

/// The column `name` of a row.
fn column(row: &Row, name: &str) -> std::result::Result<BoltType, Failure> {
    row.get::<BoltType>(name)
        .map_err(|e| Failure::Answer(values::unexpected(format!("column {name}: {e}"))))
}

/// An integer column.
fn int_column(row: &Row, name: &str) -> std::result::Result<i64, Failure> {
    match column(row, name)? {
        BoltType::Integer(i) => Ok(i.value),
        other => Err(Failure::Answer(values::unexpected(format!(
            "column {name}: {other:?}"
        )))),
    }
}
