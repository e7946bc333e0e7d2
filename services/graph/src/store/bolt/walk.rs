//! ListNeighbors and FindShortestPath on the Bolt engine.
//!
//! Neighbours are walked breadth-first in Rust, one query per depth level (the frontier's ids
//! in; each relationship and the node at its far end out), never with a variable-length
//! pattern: a variable-length match enumerates paths, which explodes on dense graphs, while
//! the level-by-level walk touches each relationship at most twice. So the depth is the
//! breadth-first distance, a node is listed once, reached by the first relationship in (near
//! node id, relationship id) order, and the list is ordered by depth then id, cut at the limit
//! - all as the embedded engine does.
//!
//! Unweighted shortest paths are the engine's `shortestPath()` (when several paths are
//! equally short, which one comes back is the engine's choice). Weighted ones run Dijkstra
//! here over (node, hops) states like the embedded engine, fetching the relationships of up to
//! [`super::dijkstra`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use neo4rs::{BoltType, Query, query};

use super::values::{self, contract_id, engine_id, quoted};
use super::{BoltGraph, Failure, Tx, column};
use crate::error::{GraphError, Result, node_not_found};
use crate::model::{
    Direction, FoundPath, Neighbor, NeighborQuery, Neighbors, Node, Path, PathQuery, Relationship,
};

/// One step of a walk: from a near node, by a relationship, to the node at its far end.
pub(super) struct Step {
    pub(super) near: u64,
    pub(super) relationship: Relationship,
    pub(super) far: Node,
}

/// The pattern of one step in `direction`, following `types` (empty: all).
fn step_pattern(direction: Direction, types: &[String]) -> String {
    let types = if types.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = types.iter().map(|t| quoted(t)).collect();
        format!(":{}", quoted.join("|"))
    };
    match direction {
        Direction::Outgoing => format!("(a)-[r{types}]->(b)"),
        Direction::Incoming => format!("(a)<-[r{types}]-(b)"),
        Direction::Both => format!("(a)-[r{types}]-(b)"),
    }
}

/// The statement that expands a frontier (`$ids`: engine ids); a frontier node with no step
/// gives one row with nulls, so an empty answer means the nodes do not exist.
pub(super) fn expand_statement(direction: Direction, types: &[String]) -> String {
    format!(
        "UNWIND $ids AS near MATCH (a) WHERE id(a) = near \
         OPTIONAL MATCH {} RETURN near, r, b",
        step_pattern(direction, types)
    )
}

/// The steps from the frontier `ids` (contract ids), in (near, relationship, far) id order,
/// and whether any frontier node exists.
pub(super) async fn expand(
    tx: &mut Tx,
    statement: &str,
    ids: &[u64],
) -> std::result::Result<(Vec<Step>, bool), Failure> {
    let engine_ids: Vec<i64> = ids.iter().filter_map(|&id| engine_id(id)).collect();
    let rows = tx.rows(query(statement).param("ids", engine_ids)).await?;
    let found = !rows.is_empty();
    let mut steps = Vec::with_capacity(rows.len());
    for row in rows {
        let (BoltType::Relation(r), BoltType::Node(b)) = (column(&row, "r")?, column(&row, "b")?)
        else {
            continue;
        };
        let near = contract_id(super::int_column(&row, "near")?)?;
        steps.push(Step {
            near,
            relationship: values::relationship(r)?,
            far: values::node(b)?,
        });
    }
    steps.sort_by_key(|s| (s.near, s.relationship.id, s.far.id));
    Ok((steps, found))
}

async fn neighbors_in(
    tx: &mut Tx,
    query: &NeighborQuery,
) -> std::result::Result<Neighbors, Failure> {
    let statement = expand_statement(query.direction, &query.types);
    let mut seen = HashSet::from([query.node_id]);
    let mut frontier = vec![query.node_id];
    let mut listed = Vec::new();
    for depth in 1..=query.max_depth {
        let (steps, found) = expand(tx, &statement, &frontier).await?;
        if depth == 1 && !found {
            return Err(node_not_found(query.node_id).into());
        }
        let mut next: Vec<Neighbor> = steps
            .into_iter()
            .filter(|step| seen.insert(step.far.id))
            .map(|step| Neighbor {
                node: Arc::new(step.far),
                depth,
                relationship: step.relationship,
            })
            .collect();
        next.sort_by_key(|n| n.node.id);
        frontier = next.iter().map(|n| n.node.id).collect();
        if depth >= query.min_depth {
            for neighbor in next {
                if query.limit.is_some_and(|limit| listed.len() >= limit) {
                    return Ok(Neighbors {
                        list: listed,
                        limit_reached: true,
                    });
                }
                listed.push(neighbor);
            }
        }
        if frontier.is_empty() {
            break;
        }
    }
    Ok(Neighbors {
        list: listed,
        limit_reached: false,
    })
}

/// NOT_FOUND for a path that does not exist within the depth.
pub(super) fn no_path(query: &PathQuery) -> GraphError {
    GraphError::NotFound(format!(
        "no path from node {} to node {} within {} hops",
        query.source, query.target, query.max_depth
    ))
}

/// The nodes of `ids` that exist, by contract id.
async fn existing(tx: &mut Tx, ids: &[u64]) -> std::result::Result<HashMap<u64, Node>, Failure> {
    let engine_ids: Vec<i64> = ids.iter().filter_map(|&id| engine_id(id)).collect();
    let statement =
        query("UNWIND $ids AS id MATCH (n) WHERE id(n) = id RETURN n").param("ids", engine_ids);
    let mut found = HashMap::new();
    for row in tx.rows(statement).await? {
        if let BoltType::Node(n) = column(&row, "n")? {
            let node = values::node(n)?;
            found.insert(node.id, node);
        }
    }
    Ok(found)
}

/// The engine's `shortestPath()` between two existing, distinct nodes.
fn shortest_path_statement(query: &PathQuery) -> String {
    let types = if query.types.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = query.types.iter().map(|t| quoted(t)).collect();
        format!(":{}", quoted.join("|"))
    };
    let hops = format!("[{types}*..{}]", query.max_depth);
    let pattern = match query.direction {
        Direction::Outgoing => format!("(a)-{hops}->(b)"),
        Direction::Incoming => format!("(a)<-{hops}-(b)"),
        Direction::Both => format!("(a)-{hops}-(b)"),
    };
    format!(
        "MATCH (a) WHERE id(a) = $source MATCH (b) WHERE id(b) = $target \
         MATCH p = shortestPath({pattern}) RETURN p LIMIT 1"
    )
}

async fn shortest_path_in(
    tx: &mut Tx,
    query: &PathQuery,
) -> std::result::Result<FoundPath, Failure> {
    let mut found = existing(tx, &[query.source, query.target]).await?;
    for id in [query.source, query.target] {
        if !found.contains_key(&id) {
            return Err(node_not_found(id).into());
        }
    }
    if query.source == query.target {
        let node = found.remove(&query.source).expect("checked above");
        return Ok(FoundPath {
            path: Path {
                nodes: vec![node],
                relationships: Vec::new(),
            },
            hop_count: 0,
            total_weight: 0.0,
        });
    }
    if let Some(weight) = &query.weight {
        let source = found.remove(&query.source).expect("checked above");
        let deadline = tx.deadline;
        return super::dijkstra::search(tx, query, weight, source, deadline).await;
    }
    let statement: Query = neo4rs::query(&shortest_path_statement(query))
        .param("source", engine_id(query.source).unwrap_or_default())
        .param("target", engine_id(query.target).unwrap_or_default());
    let rows = tx.rows(statement).await?;
    let Some(row) = rows.first() else {
        return Err(no_path(query).into());
    };
    let BoltType::Path(p) = column(row, "p")? else {
        return Err(no_path(query).into());
    };
    let path = values::path(p)?;
    let hops = path.relationships.len() as u32;
    Ok(FoundPath {
        path,
        hop_count: hops,
        total_weight: f64::from(hops),
    })
}

impl BoltGraph {
    /// Nodes within the depth range, by depth then id, each once at its shortest depth.
    pub(super) async fn neighbors(&self, query: NeighborQuery) -> Result<Neighbors> {
        self.read(query.deadline, query, |tx, query| {
            Box::pin(neighbors_in(tx, query))
        })
        .await
    }

    /// One shortest path; NOT_FOUND when there is none within the depth.
    pub(super) async fn shortest_path(&self, query: PathQuery) -> Result<FoundPath> {
        self.read(query.deadline, query, |tx, query| {
            Box::pin(shortest_path_in(tx, query))
        })
        .await
    }
}
