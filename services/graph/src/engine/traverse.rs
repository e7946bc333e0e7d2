//! Walks over the graph: breadth-first neighbor listing, shortest paths by hop count
//! (breadth-first) and by a weight property (Dijkstra over (node, hops) states, so the hop
//! limit never hides a cheaper path). Ties are broken by node and relationship ids, so the
//! same graph always gives the same answer.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};

use petgraph::Direction as PetDirection;
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;

use super::budget::Budget;
use super::state::GraphState;
use crate::error::{GraphError, Result};
use crate::model::{
    Direction, FoundPath, Neighbor, NeighborQuery, Neighbors, Path, PathQuery, Relationship, Weight,
};

/// One step from a node: the relationship taken and the node reached.
#[derive(Debug, Clone, Copy)]
struct Step {
    edge: EdgeIndex,
    to: NodeIndex,
}

/// The steps a traversal may take from `at`, in relationship id order.
fn steps(state: &GraphState, at: NodeIndex, direction: Direction, types: &[String]) -> Vec<Step> {
    let mut out = Vec::new();
    steps_into(state, at, direction, types, &mut out);
    out
}

/// [`steps`] into `out` (cleared first), so that a walk reuses one buffer for every node.
fn steps_into(
    state: &GraphState,
    at: NodeIndex,
    direction: Direction,
    types: &[String],
    out: &mut Vec<Step>,
) {
    let graph = state.graph();
    out.clear();
    let mut take = |dir: PetDirection| {
        for e in graph.edges_directed(at, dir) {
            if types.is_empty() || types.iter().any(|t| *t == e.weight().rel_type) {
                let to = if dir == PetDirection::Outgoing {
                    e.target()
                } else {
                    e.source()
                };
                out.push(Step { edge: e.id(), to });
            }
        }
    };
    if direction != Direction::Incoming {
        take(PetDirection::Outgoing);
    }
    if direction != Direction::Outgoing {
        take(PetDirection::Incoming);
    }
    out.sort_by_key(|s| (graph[s.edge].id, graph[s.to].id));
}

/// A node reached by a walk: the node, its depth, the relationship it was reached by.
type Reached = (NodeIndex, u32, EdgeIndex);

/// Lists nodes within `[min_depth, max_depth]` by depth then id, each once at its shortest
/// depth; the start node is never listed.
pub(crate) fn neighbors(state: &GraphState, query: &NeighborQuery) -> Result<Neighbors> {
    // Without a step limit the walk always finishes, so the fallback never applies.
    Ok(neighbors_within(state, query, usize::MAX)?.unwrap_or_default())
}

/// [`neighbors`], giving up (`None`) once it has taken more than `max_steps` relationships:
/// a walk that is sure to be short can then run where a long one must not (an async thread).
pub(crate) fn neighbors_within(
    state: &GraphState,
    query: &NeighborQuery,
    max_steps: usize,
) -> Result<Option<Neighbors>> {
    match walk_within(state, query, max_steps)? {
        None => Ok(None),
        Some((reached, limit_reached)) => Ok(Some(Neighbors {
            list: resolve(state, reached)?,
            limit_reached,
        })),
    }
}

/// The entities of the nodes a walk reached, and the relationships it reached them by.
fn resolve(state: &GraphState, reached: Vec<Reached>) -> Result<Vec<Neighbor>> {
    reached
        .into_iter()
        .map(|(node, depth, edge)| {
            Ok(Neighbor {
                node: state.shared_node(node),
                depth,
                relationship: relationship_at(state, edge)?,
            })
        })
        .collect()
}

/// The relationship at `edge`, an index a walk took from the graph it still holds.
fn relationship_at(state: &GraphState, edge: EdgeIndex) -> Result<Relationship> {
    let (data, start, end) = state
        .relationship_at(edge)
        .ok_or_else(|| GraphError::Corrupt(format!("a walk's relationship {edge:?} is gone")))?;
    Ok(data.to_relationship(start, end))
}

/// The breadth-first walk of [`neighbors_within`]: what it reached, and whether the limit cut
/// the list.
fn walk_within(
    state: &GraphState,
    query: &NeighborQuery,
    max_steps: usize,
) -> Result<Option<(Vec<Reached>, bool)>> {
    let graph = state.graph();
    let budget = Budget::new(query.deadline);
    let start = state.node_index(query.node_id)?;
    let mut seen = HashSet::from([start]);
    let mut frontier = vec![start];
    let mut listed = Vec::new();
    let mut taken = 0usize;
    // One buffer each for a node's steps and a depth's next nodes, reused across the walk.
    let mut steps = Vec::new();
    let mut next: Vec<(u64, NodeIndex, EdgeIndex)> = Vec::new();
    for depth in 1..=query.max_depth {
        next.clear();
        for &at in &frontier {
            budget.tick()?;
            steps_into(state, at, query.direction, &query.types, &mut steps);
            taken = taken.saturating_add(steps.len());
            if taken > max_steps {
                return Ok(None);
            }
            for step in steps.drain(..) {
                if seen.insert(step.to) {
                    next.push((graph[step.to].id, step.to, step.edge));
                }
            }
        }
        next.sort_by_key(|(id, _, _)| *id);
        if depth >= query.min_depth {
            for &(_, node, edge) in &next {
                if query.limit.is_some_and(|limit| listed.len() >= limit) {
                    return Ok(Some((listed, true)));
                }
                listed.push((node, depth, edge));
            }
        }
        if next.is_empty() {
            break;
        }
        frontier.clear();
        frontier.extend(next.iter().map(|&(_, index, _)| index));
    }
    Ok(Some((listed, false)))
}

/// Finds one shortest path; NOT_FOUND when none exists within `max_depth` hops.
pub(crate) fn shortest_path(state: &GraphState, query: &PathQuery) -> Result<FoundPath> {
    let source = state.node_index(query.source)?;
    let target = state.node_index(query.target)?;
    let budget = Budget::new(query.deadline);
    let walk = match &query.weight {
        None => hop_search(state, query, &budget, source, target)?,
        Some(weight) => weighted_search(state, query, &budget, weight, source, target)?,
    };
    let (nodes, edges, total_weight) = walk.ok_or_else(|| {
        GraphError::NotFound(format!(
            "no path from node {} to node {} within {} hops",
            query.source, query.target, query.max_depth
        ))
    })?;
    let graph = state.graph();
    let path = Path {
        nodes: nodes.iter().map(|&n| (*graph[n]).clone()).collect(),
        relationships: edges
            .iter()
            .map(|&e| relationship_at(state, e))
            .collect::<Result<_>>()?,
    };
    Ok(FoundPath {
        hop_count: edges.len() as u32,
        total_weight,
        path,
    })
}

type Walk = (Vec<NodeIndex>, Vec<EdgeIndex>, f64);

fn hop_search(
    state: &GraphState,
    query: &PathQuery,
    budget: &Budget,
    source: NodeIndex,
    target: NodeIndex,
) -> Result<Option<Walk>> {
    let mut parent: HashMap<NodeIndex, (NodeIndex, EdgeIndex)> = HashMap::new();
    let mut seen = HashSet::from([source]);
    let mut frontier = vec![source];
    let mut depth = 0;
    while !seen.contains(&target) {
        if depth >= query.max_depth || frontier.is_empty() {
            return Ok(None);
        }
        depth += 1;
        let mut next = Vec::new();
        for &at in &frontier {
            budget.tick()?;
            for step in steps(state, at, query.direction, &query.types) {
                if seen.insert(step.to) {
                    parent.insert(step.to, (at, step.edge));
                    next.push(step.to);
                }
            }
        }
        frontier = next;
    }
    let (nodes, edges) = unwind(target, |n| parent.get(&n).copied());
    let hops = edges.len() as f64;
    Ok(Some((nodes, edges, hops)))
}

/// Follows parent links back from `end`; returns the nodes and relationships in walk order.
fn unwind(
    end: NodeIndex,
    mut parent: impl FnMut(NodeIndex) -> Option<(NodeIndex, EdgeIndex)>,
) -> (Vec<NodeIndex>, Vec<EdgeIndex>) {
    let mut nodes = vec![end];
    let mut edges = Vec::new();
    let mut at = end;
    while let Some((previous, edge)) = parent(at) {
        nodes.push(previous);
        edges.push(edge);
        at = previous;
    }
    nodes.reverse();
    edges.reverse();
    (nodes, edges)
}

/// A Dijkstra queue entry, cheapest (then fewest hops, then lowest node id) first.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    cost: f64,
    hops: u32,
    node_id: u64,
    node: NodeIndex,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .cost
            .total_cmp(&self.cost)
            .then(other.hops.cmp(&self.hops))
            .then(other.node_id.cmp(&self.node_id))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn weighted_search(
    state: &GraphState,
    query: &PathQuery,
    budget: &Budget,
    weight: &Weight,
    source: NodeIndex,
    target: NodeIndex,
) -> Result<Option<Walk>> {
    let graph = state.graph();
    type State = (NodeIndex, u32);
    let mut best: HashMap<State, f64> = HashMap::from([((source, 0), 0.0)]);
    let mut parent: HashMap<State, (State, EdgeIndex)> = HashMap::new();
    // Fewest hops with which each node has been settled; a later (costlier) state with at
    // least as many hops cannot lead anywhere better.
    let mut settled: HashMap<NodeIndex, u32> = HashMap::new();
    let mut queue = BinaryHeap::from([Entry {
        cost: 0.0,
        hops: 0,
        node_id: graph[source].id,
        node: source,
    }]);
    while let Some(entry) = queue.pop() {
        budget.tick()?;
        if best
            .get(&(entry.node, entry.hops))
            .is_some_and(|&c| c < entry.cost)
        {
            continue;
        }
        if settled.get(&entry.node).is_some_and(|&h| h <= entry.hops) {
            continue;
        }
        settled.insert(entry.node, entry.hops);
        if entry.node == target {
            let mut at = (entry.node, entry.hops);
            let (nodes, edges) = unwind(target, |_| {
                let (previous, edge) = parent.get(&at).copied()?;
                at = previous;
                Some((previous.0, edge))
            });
            return Ok(Some((nodes, edges, entry.cost)));
        }
        if entry.hops >= query.max_depth {
            continue;
        }
        for step in steps(state, entry.node, query.direction, &query.types) {
            let data = &graph[step.edge];
            let Some(w) = data
                .properties
                .get(&weight.property)
                .and_then(|v| v.as_f64())
                .or(weight.default)
            else {
                continue;
            };
            if !w.is_finite() || w < 0.0 {
                return Err(GraphError::FailedPrecondition(format!(
                    "relationship {} has weight {w} in '{}'; weights must be finite and >= 0",
                    data.id, weight.property
                )));
            }
            let cost = entry.cost + w;
            let next = (step.to, entry.hops + 1);
            if best.get(&next).is_none_or(|&c| cost < c) {
                best.insert(next, cost);
                parent.insert(next, ((entry.node, entry.hops), step.edge));
                queue.push(Entry {
                    cost,
                    hops: next.1,
                    node_id: graph[step.to].id,
                    node: step.to,
                });
            }
        }
    }
    Ok(None)
}
