//! A Cypher request and its answer in domain terms: the text with its parameters, the access
//! mode, the row limit and the deadline ([`CypherQuery`]); the rows of [`QueryValue`]s and what
//! a write changed ([`QueryResult`], [`WriteStats`]). Any engine that runs Cypher (ours, or a
//! Bolt server) takes and gives these; the protobuf forms are the API's business.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::entity::{Node, Path, Relationship};
use crate::error::{GraphError, invalid};

/// Whether a statement may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    /// A writing clause is refused.
    Read,
    /// Writing clauses run, as one transaction.
    Write,
}

/// A value a query takes as a parameter or returns in a row. Parameters are never nodes,
/// relationships or paths (the API refuses them).
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    /// Null.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A double (any, NaN included).
    Float(f64),
    /// A string.
    String(String),
    /// A list of any values.
    List(Vec<QueryValue>),
    /// A map from keys to values.
    Map(BTreeMap<String, QueryValue>),
    /// A node.
    Node(Node),
    /// A relationship.
    Relationship(Relationship),
    /// A path.
    Path(Path),
}

/// INVALID_ARGUMENT for a parameter that is a node, relationship or path.
pub(crate) fn not_a_parameter(name: &str) -> GraphError {
    invalid(format!(
        "parameter ${name}: nodes, relationships and paths cannot be parameters"
    ))
}

/// One result row: a value per column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// In column order.
    pub values: Vec<QueryValue>,
}

/// A Cypher statement to run, checked for size and limits by the API.
#[derive(Debug, Clone)]
pub struct CypherQuery {
    /// The statement text.
    pub text: String,
    /// `$name` bindings.
    pub parameters: HashMap<String, QueryValue>,
    /// Whether the statement may write.
    pub access_mode: AccessMode,
    /// Most rows returned; `None` returns all.
    pub row_limit: Option<usize>,
    /// When the caller stops waiting.
    pub deadline: Option<Instant>,
}

/// What a write changed (the contract's `QueryStats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub nodes_created: u64,
    pub nodes_deleted: u64,
    pub relationships_created: u64,
    pub relationships_deleted: u64,
    pub properties_set: u64,
    pub labels_added: u64,
    pub labels_removed: u64,
}

/// What a Cypher statement returned and changed.
#[derive(Debug, Clone, Default)]
pub struct QueryResult {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<Row>,
    /// Whether rows beyond the row limit were dropped.
    pub truncated: bool,
    /// What the statement changed (committed).
    pub stats: WriteStats,
}
