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
//! Every call runs in an explicit transaction ([`Tx`]) on a task of its own, and the caller
//! waits for it until its deadline (or [`DEFAULT_CALL_TIMEOUT`]). A request already sent to
//! the engine is never cut off half-way, as its pooled connection would fall out of step with
//! the server; instead the transaction checks the deadline before each step, and once it has
//! passed it rolls back rather than go on or commit. Writes that conflict (a transient error)
//! are retried [`WRITE_ATTEMPTS`] times in all, then answer ABORTED. While the engine is unreachable the
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

use std::sync::Arc;
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

/// See the module documentation. Cloning is cheap: clones share one pool and state.
#[derive(Clone)]
pub(crate) struct BoltGraph {
    inner: Arc<Inner>,
}

struct Inner {
    graph: neo4rs::Graph,
    url: String,
    connected: AtomicBool,
    trouble: Notify,
}

/// A transaction body: `fn(tx, args) -> future`, as the transaction helpers run it.
type Body<A, T> = for<'t> fn(&'t mut Tx, &'t A) -> BoxFuture<'t, std::result::Result<T, Failure>>;

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
        let inner = Inner {
            graph,
            url: settings.url.clone(),
            connected: AtomicBool::new(false),
            trouble: Notify::new(),
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Whether the last probe (or call) reached the engine.
    pub(crate) fn is_connected(&self) -> bool {
        self.inner.connected.load(Ordering::Acquire)
    }

    /// Resolves when a call found the engine gone.
    pub(crate) async fn trouble(&self) {
        self.inner.trouble.notified().await;
    }

    /// Runs `RETURN 1` within [`CONNECT_TIMEOUT`]; the store is connected when it answers.
    pub(crate) async fn probe(&self) -> std::result::Result<(), Failure> {
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let outcome = self
            .detached(deadline, (), move |graph, ()| async move {
                let mut tx = graph.begin(deadline).await?;
                tx.rows(neo4rs::query("RETURN 1 AS one")).await?;
                tx.rollback().await
            })
            .await
            .map_err(|f| match f {
                Failure::Answer(GraphError::DeadlineExceeded(_)) => Failure::Lost(format!(
                    "no answer to RETURN 1 within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )),
                other => other,
            });
        self.inner
            .connected
            .store(outcome.is_ok(), Ordering::Release);
        outcome
    }

    /// Remembers that the engine is gone, so calls answer at once until a probe reaches it.
    fn lost(&self, why: &str) {
        if self.inner.connected.swap(false, Ordering::AcqRel) {
            tracing::warn!(url = %self.inner.url, why, "graph engine lost");
        }
        self.inner.trouble.notify_one();
    }

    /// UNAVAILABLE at once while the engine is unreachable.
    fn check_connected(&self) -> Result<()> {
        if self.is_connected() {
            Ok(())
        } else {
            Err(GraphError::Unavailable(format!(
                "the graph engine at {} is unreachable; the service retries every second",
                self.inner.url
            )))
        }
    }

    /// A transaction, unless the deadline has passed.
    async fn begin(&self, deadline: Instant) -> std::result::Result<Tx, Failure> {
        if Instant::now() >= deadline {
            return Err(Failure::Answer(past_deadline()));
        }
        let txn = self
            .inner
            .graph
            .start_txn()
            .await
            .map_err(errors::classify)?;
        Ok(Tx { txn, deadline })
    }

    /// The answer for `failure`, noting a lost engine.
    fn answer(&self, failure: Failure) -> GraphError {
        if let Failure::Lost(why) = &failure {
            self.lost(why);
        }
        failure.into_error()
    }

    /// Runs `work` on a task of its own and waits for it until `deadline`. A request to the
    /// engine is never abandoned half-way (its connection would go back to the pool out of
    /// step with the server): the task goes on after the deadline, and the transaction helpers
    /// roll back instead of taking the next step.
    async fn detached<A, T, F>(
        &self,
        deadline: Instant,
        args: A,
        work: impl FnOnce(BoltGraph, A) -> F + Send + 'static,
    ) -> std::result::Result<T, Failure>
    where
        A: Send + 'static,
        T: Send + 'static,
        F: Future<Output = std::result::Result<T, Failure>> + Send + 'static,
    {
        let task = tokio::spawn(work(self.clone(), args));
        match tokio::time::timeout_at(deadline.into(), task).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => Err(Failure::Answer(GraphError::Internal(format!(
                "graph engine task failed: {e}"
            )))),
            Err(_) => Err(Failure::Answer(past_deadline())),
        }
    }

    /// Runs `body` in a transaction that is rolled back afterwards, whatever it did.
    async fn read<A, T>(&self, deadline: Option<Instant>, args: A, body: Body<A, T>) -> Result<T>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
    {
        self.check_connected()?;
        let deadline = deadline.unwrap_or_else(|| Instant::now() + DEFAULT_CALL_TIMEOUT);
        self.detached(deadline, args, move |graph, args| async move {
            let mut tx = graph.begin(deadline).await?;
            // After a failure the transaction is dropped: the pool resets its connection before
            // reusing it, which rolls it back (an explicit ROLLBACK would be ignored then).
            let value = body(&mut tx, &args).await?;
            tx.rollback().await?;
            Ok(value)
        })
        .await
        .map_err(|f| self.answer(f))
    }

    /// Runs `body` in a transaction that is committed when it succeeds before the deadline;
    /// a transient failure (a write conflict) runs it again, [`WRITE_ATTEMPTS`] times in all.
    async fn write<A, T>(&self, deadline: Option<Instant>, args: A, body: Body<A, T>) -> Result<T>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
    {
        self.check_connected()?;
        let deadline = deadline.unwrap_or_else(|| Instant::now() + DEFAULT_CALL_TIMEOUT);
        self.detached(deadline, args, move |graph, args| async move {
            let mut attempt = 1;
            loop {
                let outcome = graph.attempt(deadline, &args, body).await;
                match outcome {
                    Err(Failure::Transient(why)) if attempt < WRITE_ATTEMPTS => {
                        tracing::debug!(attempt, why, "graph write conflicted; retrying");
                        tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                        attempt += 1;
                    }
                    other => return other,
                }
            }
        })
        .await
        .map_err(|f| self.answer(f))
    }

    /// One attempt of a write: committed only when the body succeeded before the deadline.
    async fn attempt<A, T>(
        &self,
        deadline: Instant,
        args: &A,
        body: Body<A, T>,
    ) -> std::result::Result<T, Failure> {
        let mut tx = self.begin(deadline).await?;
        match body(&mut tx, args).await {
            Ok(value) if Instant::now() < deadline => {
                tx.txn.commit().await.map_err(errors::classify)?;
                Ok(value)
            }
            Ok(_) => {
                tx.rollback().await?;
                Err(Failure::Answer(past_deadline()))
            }
            // Dropped: the pool's RESET rolls it back (see `read`).
            Err(failure) => Err(failure),
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

/// One transaction of the engine. Each step checks the deadline before it starts and is never
/// cut short once sent (see [`BoltGraph::detached`]).
pub(super) struct Tx {
    txn: Txn,
    deadline: Instant,
}

impl Tx {
    /// Fails when the deadline has passed, before a step is sent.
    fn check_deadline(&self) -> std::result::Result<(), Failure> {
        if Instant::now() >= self.deadline {
            Err(Failure::Answer(past_deadline()))
        } else {
            Ok(())
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
        self.check_deadline()?;
        let mut stream = self.txn.execute(query).await.map_err(errors::classify)?;
        loop {
            self.check_deadline()?;
            let next = stream.next(self.txn.handle()).await;
            let Some(row) = next.map_err(errors::classify)? else {
                return Ok(());
            };
            if !take(row)? {
                return Ok(());
            }
        }
    }

    async fn rollback(self) -> std::result::Result<(), Failure> {
        self.txn.rollback().await.map_err(errors::classify)
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
