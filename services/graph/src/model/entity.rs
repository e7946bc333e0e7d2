//! The graph's entities as every layer speaks of them: a [`Node`], a [`Relationship`] with its
//! end nodes' ids, a [`Path`], the changes an UpdateNode asks for, and the [`Schema`] summary.
//! They hold our own stable ids, never an engine's internal indices, so another engine (Bolt)
//! can answer with the same types.

use std::collections::BTreeSet;

use super::value::{Properties, Value};

/// A node: its id (ours, never reused), labels and properties.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The contract's node id.
    pub id: u64,
    /// Labels, distinct and sorted.
    pub labels: BTreeSet<String>,
    /// Properties, never null.
    pub properties: Properties,
}

/// A relationship: its id, type, end nodes and properties.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    /// The contract's relationship id.
    pub id: u64,
    /// The relationship type.
    pub rel_type: String,
    /// The start node's id.
    pub start: u64,
    /// The end node's id.
    pub end: u64,
    /// Properties, never null.
    pub properties: Properties,
}

/// A walk: `nodes` and the relationships between them, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Path {
    /// One more than the relationships (or both empty).
    pub nodes: Vec<Node>,
    /// The relationships, in walk order.
    pub relationships: Vec<Relationship>,
}

/// A validated UpdateNode request.
#[derive(Debug, Clone, Default)]
pub(crate) struct NodeUpdate {
    /// The node.
    pub(crate) id: u64,
    /// Properties to set; `Null` removes the key.
    pub(crate) set_properties: Vec<(String, Value)>,
    /// Keys to remove.
    pub(crate) remove_keys: Vec<String>,
    /// Labels to add.
    pub(crate) add_labels: Vec<String>,
    /// Labels to remove.
    pub(crate) remove_labels: Vec<String>,
}

/// How often a property key is used, on nodes and on relationships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyCount {
    pub(crate) key: String,
    pub(crate) node_count: u64,
    pub(crate) relationship_count: u64,
}

/// Labels, relationship types and property keys in use, each list sorted by name (bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// Label and how many nodes carry it.
    pub(crate) labels: Vec<(String, u64)>,
    /// Relationship type and how many relationships have it.
    pub(crate) relationship_types: Vec<(String, u64)>,
    /// Property keys in use.
    pub(crate) property_keys: Vec<KeyCount>,
    /// All nodes.
    pub node_count: u64,
    /// All relationships.
    pub relationship_count: u64,
}
