//! The weighted FindShortestPath of the Bolt engine: Dijkstra in Rust over (node, hops)
//! states, like the embedded engine (`engine/traverse.rs`), so the hop limit never hides a
//! cheaper path, ties go to fewer hops then lower node ids, and a negative or non-finite weight
//! is FAILED_PRECONDITION. Cypher has no weighted shortest path without plug-ins (APOC, GDS),
//! which ArcadeDB and Memgraph lack or name differently; so the graph is expanded here,
//! lazily: when the search needs the relationships of a node it has not expanded, one query
//! fetches those of up to [`EXPAND_BATCH`] queued nodes at once.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

use super::walk::{Step, expand, expand_statement, no_path};
use super::{Failure, Tx, past_deadline};
use crate::error::GraphError;
use crate::model::{FoundPath, Node, Path, PathQuery, Relationship, Weight};

/// Most nodes whose relationships one query fetches.
const EXPAND_BATCH: usize = 64;

/// A queue entry, cheapest (then fewest hops, then lowest node id) first.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    cost: f64,
    hops: u32,
    node: u64,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .cost
            .total_cmp(&self.cost)
            .then(other.hops.cmp(&self.hops))
            .then(other.node.cmp(&self.node))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

type State = (u64, u32);

/// The search's memory: expanded relationships, nodes seen, best costs and parents.
struct Search<'q> {
    query: &'q PathQuery,
    weight: &'q Weight,
    statement: String,
    adjacency: HashMap<u64, Vec<Step>>,
    nodes: HashMap<u64, Node>,
    best: HashMap<State, f64>,
    parent: HashMap<State, (State, usize)>,
    queue: BinaryHeap<Entry>,
}

impl Search<'_> {
    /// Expands `node` and up to [`EXPAND_BATCH`] - 1 other queued nodes not expanded yet.
    async fn expand(&mut self, tx: &mut Tx, node: u64) -> Result<(), Failure> {
        let mut batch = vec![node];
        for entry in self.queue.iter() {
            if batch.len() >= EXPAND_BATCH {
                break;
            }
            if !self.adjacency.contains_key(&entry.node) && !batch.contains(&entry.node) {
                batch.push(entry.node);
            }
        }
        let (steps, _) = expand(tx, &self.statement, &batch).await?;
        for id in &batch {
            self.adjacency.entry(*id).or_default();
        }
        for step in steps {
            self.nodes
                .entry(step.far.id)
                .or_insert_with(|| step.far.clone());
            self.adjacency.entry(step.near).or_default().push(step);
        }
        Ok(())
    }

    /// The weight of a relationship; `None` skips it.
    fn weight_of(&self, relationship: &Relationship) -> Result<Option<f64>, Failure> {
        let Some(w) = relationship
            .properties
            .get(&self.weight.property)
            .and_then(|v| v.as_f64())
            .or(self.weight.default)
        else {
            return Ok(None);
        };
        if !w.is_finite() || w < 0.0 {
            return Err(GraphError::FailedPrecondition(format!(
                "relationship {} has weight {w} in '{}'; weights must be finite and >= 0",
                relationship.id, self.weight.property
            ))
            .into());
        }
        Ok(Some(w))
    }

    /// Relaxes the relationships of `entry`'s node.
    fn relax(&mut self, entry: Entry) -> Result<(), Failure> {
        let steps = self.adjacency.get(&entry.node).map_or(0, Vec::len);
        for index in 0..steps {
            let step = &self.adjacency[&entry.node][index];
            let Some(w) = self.weight_of(&step.relationship)? else {
                continue;
            };
            let cost = entry.cost + w;
            let next = (step.far.id, entry.hops + 1);
            if self.best.get(&next).is_none_or(|&c| cost < c) {
                self.best.insert(next, cost);
                self.parent.insert(next, ((entry.node, entry.hops), index));
                self.queue.push(Entry {
                    cost,
                    hops: next.1,
                    node: next.0,
                });
            }
        }
        Ok(())
    }

    /// The path that ends in state `end`, following parents back.
    fn unwind(&self, end: State, cost: f64) -> FoundPath {
        let mut nodes = vec![self.nodes[&end.0].clone()];
        let mut relationships = Vec::new();
        let mut at = end;
        while let Some(&(previous, index)) = self.parent.get(&at) {
            relationships.push(self.adjacency[&previous.0][index].relationship.clone());
            nodes.push(self.nodes[&previous.0].clone());
            at = previous;
        }
        nodes.reverse();
        relationships.reverse();
        FoundPath {
            hop_count: relationships.len() as u32,
            total_weight: cost,
            path: Path {
                nodes,
                relationships,
            },
        }
    }
}

/// Dijkstra from `query.source` (which exists, as `source`) to `query.target`.
pub(super) async fn search(
    tx: &mut Tx,
    query: &PathQuery,
    weight: &Weight,
    source: Node,
    deadline: Instant,
) -> Result<FoundPath, Failure> {
    let mut search = Search {
        query,
        weight,
        statement: expand_statement(query.direction, &query.types),
        adjacency: HashMap::new(),
        nodes: HashMap::from([(source.id, source.clone())]),
        best: HashMap::from([((source.id, 0), 0.0)]),
        parent: HashMap::new(),
        queue: BinaryHeap::from([Entry {
            cost: 0.0,
            hops: 0,
            node: source.id,
        }]),
    };
    // Fewest hops with which each node has been settled.
    let mut settled: HashMap<u64, u32> = HashMap::new();
    while let Some(entry) = search.queue.pop() {
        if Instant::now() >= deadline {
            return Err(past_deadline().into());
        }
        let stale = search
            .best
            .get(&(entry.node, entry.hops))
            .is_some_and(|&c| c < entry.cost);
        if stale || settled.get(&entry.node).is_some_and(|&h| h <= entry.hops) {
            continue;
        }
        settled.insert(entry.node, entry.hops);
        if entry.node == search.query.target {
            return Ok(search.unwind((entry.node, entry.hops), entry.cost));
        }
        if entry.hops >= search.query.max_depth {
            continue;
        }
        if !search.adjacency.contains_key(&entry.node) {
            search.expand(tx, entry.node).await?;
        }
        search.relax(entry)?;
    }
    Err(no_path(query).into())
}
