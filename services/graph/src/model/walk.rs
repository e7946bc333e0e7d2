//! The walks the graph answers without Cypher: ListNeighbors ([`NeighborQuery`] → [`Neighbors`])
//! and FindShortestPath ([`PathQuery`] → [`FoundPath`]), as validated domain requests. Paging is
//! the API's business; a deadline is part of the request, as every engine must stop at it.

use std::sync::Arc;
use std::time::Instant;

use super::entity::{Node, Path, Relationship};

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
    /// The node, shared with the store that found it (the embedded engine hands out its own
    /// copy without cloning it).
    pub node: Arc<Node>,
    /// Its shortest distance from the start.
    pub depth: u32,
    /// The last relationship of one shortest walk to it.
    pub relationship: Relationship,
}

/// What a neighbor walk found: nodes by depth then id, and whether the limit cut the list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Neighbors {
    /// The nodes reached, each once at its shortest depth.
    pub list: Vec<Neighbor>,
    /// Whether [`NeighborQuery::limit`] cut the list.
    pub limit_reached: bool,
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
    pub path: Path,
    /// Relationships on it.
    pub hop_count: u32,
    /// Sum of weights (the hop count when unweighted).
    pub total_weight: f64,
}
