//! The [`GraphStore`] trait, the gRPC layer's only door to data, and its embedded
//! implementation ([`EmbeddedGraph`]: a petgraph in memory made durable by a write-ahead log
//! and snapshots). A Neo4j-backed store would be another implementation.

mod embedded;
pub mod graph;
mod records;
mod schema;
pub mod traverse;
pub mod txn;

pub use embedded::{EmbeddedGraph, StoreOptions};

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use chatmesh_proto::graph as pb;

use crate::error::Result;
use crate::value::{Properties, Value};

/// Which relationships a traversal follows, relative to the node it is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Relationships starting at the node.
    Outgoing,
    /// Relationships ending at the node.
    Incoming,
    /// Both.
    Both,
}

/// A validated UpdateNode request.
#[derive(Debug, Clone, Default)]
pub struct NodeUpdate {
    /// The node.
    pub id: u64,
    /// Properties to set; `Null` removes the key.
    pub set_properties: Vec<(String, Value)>,
    /// Keys to remove.
    pub remove_keys: Vec<String>,
    /// Labels to add.
    pub add_labels: Vec<String>,
    /// Labels to remove.
    pub remove_labels: Vec<String>,
}

/// A validated ListNeighbors request (paging is the API's business).
#[derive(Debug, Clone)]
pub struct NeighborQuery {
    /// Start node.
    pub node_id: u64,
    /// Which relationships to follow.
    pub direction: Direction,
    /// Relationship types to follow; empty follows all.
    pub types: Vec<String>,
    /// Smallest depth listed (>= 1).
    pub min_depth: u32,
    /// Largest depth walked.
    pub max_depth: u32,
    /// Most neighbors listed; `None` lists all.
    pub limit: Option<usize>,
    /// When the caller stops waiting (DEADLINE_EXCEEDED after it).
    pub deadline: Option<Instant>,
}

/// One node reached by a neighbor walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbor {
    /// The node.
    pub node: pb::Node,
    /// Its shortest distance from the start.
    pub depth: u32,
    /// The last relationship of one shortest walk to it.
    pub relationship: pb::Relationship,
}

/// The weight of a weighted shortest-path search.
#[derive(Debug, Clone)]
pub struct Weight {
    /// The numeric relationship property.
    pub property: String,
    /// The weight of relationships lacking it; `None` skips them.
    pub default: Option<f64>,
}

/// A validated FindShortestPath request.
#[derive(Debug, Clone)]
pub struct PathQuery {
    /// Start node.
    pub source: u64,
    /// End node.
    pub target: u64,
    /// Which relationships to follow.
    pub direction: Direction,
    /// Relationship types allowed; empty allows all.
    pub types: Vec<String>,
    /// Most hops.
    pub max_depth: u32,
    /// Weighted search, or hop count when `None`.
    pub weight: Option<Weight>,
    /// When the caller stops waiting (DEADLINE_EXCEEDED after it).
    pub deadline: Option<Instant>,
}

/// A shortest path found.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundPath {
    /// The path.
    pub path: pb::Path,
    /// Relationships on it.
    pub hop_count: u32,
    /// Sum of weights (the hop count when unweighted).
    pub total_weight: f64,
}

/// A Cypher statement to run, checked for size and limits by the API.
#[derive(Debug, Clone)]
pub struct CypherQuery {
    /// The statement text.
    pub text: String,
    /// `$name` bindings.
    pub parameters: HashMap<String, pb::Value>,
    /// Whether the statement may write (ACCESS_MODE_WRITE).
    pub may_write: bool,
    /// Most rows returned; `None` returns all.
    pub row_limit: Option<usize>,
    /// When the caller stops waiting.
    pub deadline: Option<Instant>,
}

/// What a Cypher statement returned and changed.
#[derive(Debug, Clone, Default)]
pub struct CypherResult {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<pb::Row>,
    /// Whether rows beyond the row limit were dropped.
    pub truncated: bool,
    /// What the statement changed (committed).
    pub stats: txn::WriteStats,
}

/// Storage of a property graph.
pub trait GraphStore: Send + Sync + 'static {
    /// Creates a node.
    fn create_node(&self, labels: BTreeSet<String>, properties: Properties) -> Result<pb::Node>;
    /// One node by id.
    fn node(&self, id: u64) -> Result<pb::Node>;
    /// Changes a node's properties and labels atomically; returns it afterwards.
    fn update_node(&self, update: NodeUpdate) -> Result<pb::Node>;
    /// Deletes a node with its relationships; returns how many relationships went with it.
    fn delete_node(&self, id: u64) -> Result<u64>;
    /// Creates a relationship.
    fn create_relationship(
        &self,
        start: u64,
        end: u64,
        rel_type: String,
        properties: Properties,
    ) -> Result<pb::Relationship>;
    /// One relationship by id.
    fn relationship(&self, id: u64) -> Result<pb::Relationship>;
    /// Deletes a relationship.
    fn delete_relationship(&self, id: u64) -> Result<()>;
    /// Nodes within the depth range, by depth then id; and whether the limit cut the list.
    fn neighbors(&self, query: &NeighborQuery) -> Result<(Vec<Neighbor>, bool)>;
    /// [`GraphStore::node`] when it can answer at once; `None` when it would have to wait
    /// (a write holds the graph), so the caller may run it on an async thread and fall back to
    /// the blocking method. The default never answers at once.
    fn try_node(&self, _id: u64) -> Option<Result<pb::Node>> {
        None
    }
    /// [`GraphStore::relationship`] when it can answer at once (see [`GraphStore::try_node`]).
    fn try_relationship(&self, _id: u64) -> Option<Result<pb::Relationship>> {
        None
    }
    /// [`GraphStore::neighbors`] when it can answer at once and the walk takes at most
    /// `max_steps` relationships (see [`GraphStore::try_node`]).
    fn try_neighbors(
        &self,
        _query: &NeighborQuery,
        _max_steps: usize,
    ) -> Option<Result<(Vec<Neighbor>, bool)>> {
        None
    }
    /// One shortest path; NOT_FOUND when there is none within the depth.
    fn shortest_path(&self, query: &PathQuery) -> Result<FoundPath>;
    /// Labels, relationship types and property keys in use, with counts.
    fn schema(&self) -> Result<pb::GetSchemaResponse>;
    /// Runs one Cypher statement as one transaction.
    fn query(&self, query: &CypherQuery) -> Result<CypherResult>;
    /// Makes start-up fast next time (a snapshot); called on graceful shutdown.
    fn flush(&self) -> Result<()>;
}
