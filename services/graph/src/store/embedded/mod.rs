//! The embedded store: the in-memory engine and Cypher, made durable by a write-ahead log and
//! snapshots in the data directory (on [`chatmesh_durable`]; the record format is
//! [`records`]).
//!
//! - A write runs as a [`Txn`] under the graph's write lock: its mutations are validated and
//!   applied as they come, then logged as one entry and fsync'd; only then is the lock released
//!   and the caller answered. When anything fails (validation, a later step, the disk) the
//!   transaction is rolled back, so a request changes everything it asked for or nothing, and an
//!   acknowledged write survives a crash.
//! - Reads take the read lock and run in parallel. Small reads (`try_*`) only try it, so they
//!   can run on an async thread without ever waiting behind a write's fsync; the async
//!   [`GraphStore`](super::GraphStore) methods ([`graph_store`]) answer those inline and run the
//!   rest on the blocking pool.
//! - When the log grows past a threshold (and at graceful shutdown) a snapshot is written (see
//!   [`snapshot`]) and the log emptied; entries carry sequence numbers, so a crash between the
//!   two steps replays nothing twice.
//! - At start the snapshot is loaded and the log replayed; a torn record at the end of the log
//!   (a write that was never acknowledged) is cut off.
//!
//! Each method here blocks (locks, fsync, long walks); the trait's async method of the same
//! name decides where it runs. Benchmarks call these directly.
//!
//! Locks, always taken in this order: the graph, then the log.

mod graph_store;
mod records;
mod snapshot;
mod statements;
#[cfg(test)]
mod tests;

pub use statements::{OVERHEAD as STATEMENT_OVERHEAD, TREE_PER_BYTE as STATEMENT_TREE_PER_BYTE};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chatmesh_durable::Log;
use parking_lot::{Mutex, RwLock};

use crate::cypher;
use crate::engine::{self, Budget, GraphState, MemoryPool, Mutation, QueryMemory, Txn};
use crate::error::{GraphError, Result};
use crate::model::{
    AccessMode, CypherQuery, FoundPath, NeighborQuery, Neighbors, Node, NodeMatch, NodeUpdate,
    PathQuery, Properties, QueryResult, Relationship, Schema, Value, WriteStats,
};
use records::{LogEntry, from_record, to_record};

const LOG_FILE: &str = "wal.log";

/// Tuning of the embedded store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Log size that triggers a snapshot.
    pub snapshot_after_bytes: u64,
    /// Memory one Cypher query may hold (estimated), in bytes.
    pub query_memory: u64,
    /// Memory the Cypher queries running at once may hold together, in bytes.
    pub total_query_memory: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            snapshot_after_bytes: 64 * 1024 * 1024,
            query_memory: 64 * 1024 * 1024,
            total_query_memory: 256 * 1024 * 1024,
        }
    }
}

/// See the module documentation. Cloning is cheap: clones share one graph and log.
#[derive(Clone)]
pub struct EmbeddedGraph {
    inner: Arc<Inner>,
}

/// The graph and its log, behind their locks.
struct Inner {
    dir: PathBuf,
    options: StoreOptions,
    state: RwLock<GraphState>,
    log: Mutex<Log<LogEntry>>,
    /// The memory the Cypher queries running at once share.
    memory: Arc<MemoryPool>,
    /// Statements parsed before, by their text.
    statements: statements::Statements,
}

impl EmbeddedGraph {
    /// Opens (or creates) the store in `dir`: loads the snapshot, replays the log.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (snapshot_lsn, mut state) = snapshot::load(dir)?;
        let (log, replayed) = Log::open(&dir.join(LOG_FILE), snapshot_lsn, |entry: LogEntry| {
            for record in entry.mutations {
                let mutation = from_record(record).map_err(|e| e.to_string())?;
                state.apply(mutation).map_err(|e| e.to_string())?;
            }
            Ok(())
        })?;
        tracing::info!(
            nodes = state.node_count(),
            relationships = state.relationship_count(),
            replayed,
            "graph store loaded"
        );
        let inner = Inner {
            dir: dir.to_path_buf(),
            memory: MemoryPool::new(options.query_memory, options.total_query_memory),
            options,
            state: RwLock::new(state),
            log: Mutex::new(log),
            statements: statements::Statements::default(),
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Runs `read` on the graph; reads run in parallel with each other.
    pub fn read<T>(&self, read: impl FnOnce(&GraphState) -> T) -> T {
        read(&self.inner.state.read())
    }

    /// Runs `read` on the graph if that needs no waiting (no write holds it), else `None`.
    fn try_read<T>(&self, read: impl FnOnce(&GraphState) -> T) -> Option<T> {
        Some(read(&*self.inner.state.try_read()?))
    }

    /// Runs `write` as one transaction: committed (logged and fsync'd) when it returns `Ok`,
    /// rolled back completely when it or the log fails. Writes are serialized.
    pub fn write<T>(&self, write: impl FnOnce(&mut Txn) -> Result<T>) -> Result<(T, WriteStats)> {
        let result = {
            let mut state = self.inner.state.write();
            let mut txn = Txn::new(&mut state);
            match write(&mut txn) {
                Err(e) => {
                    txn.rollback();
                    Err(e)
                }
                Ok(value) => match self.append(txn.mutations()) {
                    Ok(()) => Ok((value, txn.stats())),
                    Err(e) => {
                        txn.rollback();
                        Err(e)
                    }
                },
            }
        };
        self.snapshot_if_due();
        result
    }

    /// Appends and fsyncs one entry holding `mutations` (nothing when there are none).
    fn append(&self, mutations: &[Mutation]) -> Result<()> {
        if mutations.is_empty() {
            return Ok(());
        }
        self.inner.log.lock().append(|lsn| LogEntry {
            lsn,
            mutations: mutations.iter().map(to_record).collect(),
        })?;
        Ok(())
    }

    fn snapshot_if_due(&self) {
        if self.inner.log.lock().bytes() < self.inner.options.snapshot_after_bytes {
            return;
        }
        if let Err(e) = self.flush() {
            tracing::error!(error = %e, "snapshot failed; the log keeps every write");
        }
    }

    /// Writes a snapshot and empties the log, so the next start-up is fast. Blocks writes (not
    /// reads) while it runs.
    pub fn flush(&self) -> Result<()> {
        let state = self.inner.state.read();
        let mut log = self.inner.log.lock();
        snapshot::write(&self.inner.dir, &state, log.last_lsn())?;
        log.truncate()?;
        Ok(())
    }

    /// Creates a node.
    pub fn create_node(&self, labels: BTreeSet<String>, properties: Properties) -> Result<Node> {
        let (node, _) = self.write(|txn| {
            let id = txn.create_node(labels, properties)?;
            txn.state().cloned_node(id)
        })?;
        Ok(node)
    }

    /// One node by id.
    pub fn node(&self, id: u64) -> Result<Node> {
        self.read(|state| state.cloned_node(id))
    }

    /// [`EmbeddedGraph::node`] when it can answer without waiting (no write holds the graph).
    pub fn try_node(&self, id: u64) -> Option<Result<Node>> {
        self.try_read(|state| state.cloned_node(id))
    }

    /// Changes a node's properties and labels atomically; returns it afterwards.
    pub(crate) fn update_node(&self, update: NodeUpdate) -> Result<Node> {
        let (node, _) = self.write(|txn| {
            let id = update.id;
            txn.state().node(id)?;
            for key in update.remove_keys {
                txn.set_node_property(id, key, Value::Null)?;
            }
            for label in update.remove_labels {
                txn.set_node_label(id, label, false)?;
            }
            for (key, value) in update.set_properties {
                txn.set_node_property(id, key, value)?;
            }
            for label in update.add_labels {
                txn.set_node_label(id, label, true)?;
            }
            txn.state().cloned_node(id)
        })?;
        Ok(node)
    }

    /// Deletes a node with its relationships; returns how many relationships went with it.
    pub fn delete_node(&self, id: u64) -> Result<u64> {
        let (deleted, _) = self.write(|txn| txn.delete_node(id, true))?;
        Ok(deleted)
    }

    /// Creates a relationship.
    pub fn create_relationship(
        &self,
        start: u64,
        end: u64,
        rel_type: String,
        properties: Properties,
    ) -> Result<Relationship> {
        let (relationship, _) = self.write(|txn| {
            let id = txn.create_relationship(start, end, rel_type, properties)?;
            txn.state().cloned_relationship(id)
        })?;
        Ok(relationship)
    }

    /// One relationship by id.
    pub fn relationship(&self, id: u64) -> Result<Relationship> {
        self.read(|state| state.cloned_relationship(id))
    }

    /// [`EmbeddedGraph::relationship`] when it can answer without waiting.
    pub fn try_relationship(&self, id: u64) -> Option<Result<Relationship>> {
        self.try_read(|state| state.cloned_relationship(id))
    }

    /// Deletes a relationship.
    pub fn delete_relationship(&self, id: u64) -> Result<()> {
        self.write(|txn| txn.delete_relationship(id))?;
        Ok(())
    }

    /// Nodes within the depth range, by depth then id.
    pub fn neighbors(&self, query: &NeighborQuery) -> Result<Neighbors> {
        self.read(|state| engine::neighbors(state, query))
    }

    /// [`EmbeddedGraph::neighbors`] when it can answer without waiting and the walk takes at
    /// most `max_steps` relationships; `None` leaves it to the blocking method.
    pub fn try_neighbors(
        &self,
        query: &NeighborQuery,
        max_steps: usize,
    ) -> Option<Result<Neighbors>> {
        self.try_read(|state| engine::neighbors_within(state, query, max_steps))?
            .transpose()
    }

    /// One shortest path; NOT_FOUND when there is none within the depth.
    pub fn shortest_path(&self, query: &PathQuery) -> Result<FoundPath> {
        self.read(|state| engine::shortest_path(state, query))
    }

    /// Labels, relationship types and property keys in use, with counts.
    pub fn schema(&self) -> Schema {
        self.read(engine::summarize)
    }

    /// Parses and runs one Cypher statement: a read under the read lock, a statement with a
    /// writing clause as one write transaction (refused unless the access mode allows it).
    pub fn query(&self, query: &CypherQuery) -> Result<QueryResult> {
        self.parse_and_run(query, None)
    }

    /// [`EmbeddedGraph::query`] when it can answer without waiting: a read (no writing clause)
    /// that finds the read lock free and finishes within `max_steps` steps of its budget.
    /// `None` leaves it to the blocking method.
    pub fn try_query(&self, query: &CypherQuery, max_steps: u64) -> Option<Result<QueryResult>> {
        match self.parse_and_run(query, Some(max_steps)) {
            Err(GraphError::Reschedule) => None,
            answer => Some(answer),
        }
    }

    /// The lowest id of the node `start` names (`None`: there is none), by the same matching
    /// as the Cypher statement [`NodeMatch::lookup`] but with no statement to parse.
    pub(crate) fn lowest_node(
        &self,
        start: &NodeMatch,
        deadline: Option<Instant>,
    ) -> Result<Option<u64>> {
        let budget = Budget::new(deadline);
        self.read(|state| start_lookup(state, &budget, start))
    }

    /// [`EmbeddedGraph::lowest_node`] when it can answer without waiting: the read lock is free
    /// and the lookup checks at most `max_steps` nodes. `None` leaves it to the blocking method.
    pub(crate) fn try_lowest_node(
        &self,
        start: &NodeMatch,
        deadline: Option<Instant>,
        max_steps: u64,
    ) -> Option<Result<Option<u64>>> {
        let budget = Budget::new(deadline).inline(max_steps);
        match self.try_read(|state| start_lookup(state, &budget, start))? {
            Err(GraphError::Reschedule) => None,
            answer => Some(answer),
        }
    }

    /// Parses and runs a query; with `inline` steps, only as a read that needs no waiting and
    /// ends within them (else [`GraphError::Reschedule`]).
    fn parse_and_run(&self, query: &CypherQuery, inline: Option<u64>) -> Result<QueryResult> {
        let statement = self.inner.statements.parse(&query.text)?;
        let writes = statement.first_write();
        if let Some(clause) = writes
            && query.access_mode == AccessMode::Read
        {
            return Err(GraphError::InvalidArgument(format!(
                "the query writes ({clause}) but access_mode is READ; send ACCESS_MODE_WRITE to allow writes"
            )));
        }
        if inline.is_some() && writes.is_some() {
            return Err(GraphError::Reschedule);
        }
        let mut budget = Budget::with_memory(query.deadline, QueryMemory::new(&self.inner.memory));
        if let Some(max_steps) = inline {
            budget = budget.inline(max_steps);
        }
        let run = |graph: cypher::Graph| {
            cypher::execute(
                graph,
                &statement,
                &query.parameters,
                &budget,
                query.row_limit,
            )
        };
        let (output, stats) = if writes.is_some() {
            // Past the deadline, the transaction is rolled back rather than committed.
            self.write(|txn| {
                let output = run(cypher::Graph::Write(txn))?;
                budget.check()?;
                Ok(output)
            })?
        } else if inline.is_some() {
            let output = self
                .try_read(|state| run(cypher::Graph::Read(state)))
                .ok_or(GraphError::Reschedule)??;
            (output, WriteStats::default())
        } else {
            let output = self.read(|state| run(cypher::Graph::Read(state)))?;
            (output, WriteStats::default())
        };
        Ok(QueryResult {
            columns: output.columns,
            rows: output.rows,
            truncated: output.truncated,
            stats,
        })
    }
}

/// `start`'s lowest node in `state`, within `budget`.
fn start_lookup(state: &GraphState, budget: &Budget, start: &NodeMatch) -> Result<Option<u64>> {
    cypher::lowest_node_with(state, budget, &start.label, &start.property, &start.value)
}
