//! The store: the [`GraphStore`] trait, the gRPC edge's only door to data, and its two engines:
//! [`embedded`] (the default; [`open`] opens it), the in-memory engine and Cypher made durable
//! by a write-ahead log and snapshots, and [`bolt`], a Bolt server (Neo4j, Memgraph, ArcadeDB)
//! selected with `--graph-url` and run by `crate::lifecycle`. The trait is async and speaks
//! domain types only (no protobuf, no locks, no petgraph indices); how an engine keeps blocking
//! work off the async threads is its own business.

pub(crate) mod bolt;
pub(crate) mod embedded;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::error::Result;
use crate::model::{
    CypherQuery, FoundPath, NeighborQuery, Neighbors, Node, NodeMatch, NodeUpdate, PathQuery,
    Properties, QueryResult, Relationship, Schema,
};
use embedded::{EmbeddedGraph, StoreOptions};

/// Storage of a property graph. Every call is atomic: a write changes everything it asked
/// for or nothing, and is durable when it returns `Ok`.
#[tonic::async_trait]
pub(crate) trait GraphStore: Send + Sync + 'static {
    /// Creates a node with a fresh id.
    async fn create_node(&self, labels: BTreeSet<String>, properties: Properties) -> Result<Node>;
    /// One node by id.
    async fn node(&self, id: u64) -> Result<Node>;
    /// Changes a node's properties and labels atomically; returns it afterwards.
    async fn update_node(&self, update: NodeUpdate) -> Result<Node>;
    /// Deletes a node with its relationships; returns how many relationships went with it.
    async fn delete_node(&self, id: u64) -> Result<u64>;
    /// Creates a relationship with a fresh id between two existing nodes.
    async fn create_relationship(
        &self,
        start: u64,
        end: u64,
        rel_type: String,
        properties: Properties,
    ) -> Result<Relationship>;
    /// One relationship by id.
    async fn relationship(&self, id: u64) -> Result<Relationship>;
    /// Deletes a relationship.
    async fn delete_relationship(&self, id: u64) -> Result<()>;
    /// Nodes within the depth range, by depth then id, each once at its shortest depth.
    async fn neighbors(&self, query: NeighborQuery) -> Result<Neighbors>;
    /// One shortest path; NOT_FOUND when there is none within the depth.
    async fn shortest_path(&self, query: PathQuery) -> Result<FoundPath>;
    /// Labels, relationship types and property keys in use, with counts.
    async fn schema(&self) -> Result<Schema>;
    /// Runs one Cypher statement as one transaction (ExecuteQuery and StreamQuery).
    async fn query(&self, query: CypherQuery) -> Result<QueryResult>;
    /// The lowest id of the node `start` names (ListNeighbors' `start`); NOT_FOUND when none.
    /// By default the Cypher statement of [`NodeMatch::lookup`], which every engine runs.
    async fn find_node(&self, start: &NodeMatch, deadline: Option<Instant>) -> Result<u64> {
        let answer = self.query(start.lookup(deadline)).await?;
        start.found(NodeMatch::first_id(&answer))
    }
    /// Makes start-up fast next time (a snapshot); called on graceful shutdown.
    async fn flush(&self) -> Result<()>;
}

/// Where and how the store keeps its data.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The data directory.
    pub(crate) dir: PathBuf,
    /// Write-ahead log size that triggers a snapshot.
    pub(crate) snapshot_after_bytes: u64,
    /// Memory one Cypher query may hold, in bytes.
    pub(crate) query_memory: u64,
    /// Memory the Cypher queries running at once may hold together, in bytes.
    pub(crate) total_query_memory: u64,
    /// Load the demo organisation into an empty graph.
    pub(crate) seed_demo: bool,
}

/// Opens the store `settings` describe (loading its snapshot and log, which takes a while:
/// call it off the async threads). Errors are one line for the start-up report.
pub(crate) fn open(settings: Settings) -> std::result::Result<Arc<dyn GraphStore>, String> {
    let options = StoreOptions {
        snapshot_after_bytes: settings.snapshot_after_bytes,
        query_memory: settings.query_memory,
        total_query_memory: settings.total_query_memory,
    };
    let store = EmbeddedGraph::open(&settings.dir, options)
        .map_err(|e| format!("cannot open the graph store: {e}"))?;
    if settings.seed_demo {
        let (loaded, _) = store
            .write(crate::seed::demo)
            .map_err(|e| format!("cannot load the demo data: {e}"))?;
        if loaded {
            tracing::info!("demo organisation loaded");
        }
    }
    Ok(Arc::new(store))
}
