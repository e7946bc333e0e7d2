//! The in-memory property graph: a petgraph `StableGraph` (indices stay valid after deletions)
//! plus maps from the contract's ids to those indices. The contract's ids are our own counters
//! (starting at 1, never reused), so they survive snapshots that rebuild the petgraph, and
//! nothing above this layer ever sees a petgraph index except the walks in `engine`.
//!
//! Every change is a [`Mutation`]: validated and applied by [`GraphState::apply`], which also
//! returns the mutation that undoes it. The same function replays the log at start-up.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use petgraph::Direction as PetDirection;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};

use super::lookup::Lookup;
use crate::error::{GraphError, Result, node_not_found, relationship_not_found};
use crate::model::{Node, Properties, Relationship, Value};

/// What a relationship holds (its end nodes are the petgraph edge's endpoints).
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeData {
    /// The contract's relationship id.
    pub id: u64,
    /// The relationship type.
    pub rel_type: String,
    /// Properties, never null.
    pub properties: Properties,
}

impl EdgeData {
    /// The relationship entity, given its end nodes' ids.
    pub fn to_relationship(&self, start: u64, end: u64) -> Relationship {
        Relationship {
            id: self.id,
            rel_type: self.rel_type.clone(),
            start,
            end,
            properties: self.properties.clone(),
        }
    }
}

/// One primitive change of the graph; a write request is a list of these, logged as one entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mutation {
    /// A node with a fresh id.
    CreateNode {
        id: u64,
        labels: BTreeSet<String>,
        properties: Properties,
    },
    /// A relationship with a fresh id between two existing nodes.
    CreateRelationship {
        id: u64,
        rel_type: String,
        start: u64,
        end: u64,
        properties: Properties,
    },
    /// Deletes a relationship.
    DeleteRelationship { id: u64 },
    /// Deletes a node that has no relationships left.
    DeleteNode { id: u64 },
    /// Sets (or, with `Null`, removes) one node property.
    SetNodeProperty { id: u64, key: String, value: Value },
    /// Adds (`present`) or removes one node label.
    SetNodeLabel {
        id: u64,
        label: String,
        present: bool,
    },
    /// Sets (or, with `Null`, removes) one relationship property.
    SetRelationshipProperty { id: u64, key: String, value: Value },
}

impl Mutation {
    /// The mutation that creates `node` with its id.
    pub(crate) fn create_node(node: Node) -> Self {
        Mutation::CreateNode {
            id: node.id,
            labels: node.labels,
            properties: node.properties,
        }
    }

    /// The mutation that creates `relationship` with its id.
    pub(crate) fn create_relationship(relationship: Relationship) -> Self {
        Mutation::CreateRelationship {
            id: relationship.id,
            rel_type: relationship.rel_type,
            start: relationship.start,
            end: relationship.end,
            properties: relationship.properties,
        }
    }
}

/// The graph and its id maps.
///
/// Nodes are kept behind an `Arc` so that a walk hands out a found node by reference count
/// instead of copying its labels and properties (a ListNeighbors answer of a few nodes spent a
/// tenth of the graph service's time in those copies); a change to a node copies it only
/// while an answer still holds it (`Arc::make_mut`).
#[derive(Debug, Clone, Default)]
pub struct GraphState {
    graph: StableGraph<Arc<Node>, EdgeData>,
    nodes: HashMap<u64, NodeIndex>,
    edges: HashMap<u64, EdgeIndex>,
    next_node_id: u64,
    next_relationship_id: u64,
    lookup: Lookup,
}

impl GraphState {
    /// An empty graph whose first ids will be 1.
    pub fn new() -> Self {
        Self {
            next_node_id: 1,
            next_relationship_id: 1,
            ..Self::default()
        }
    }

    /// The petgraph itself, for the walks of this layer.
    pub(super) fn graph(&self) -> &StableGraph<Arc<Node>, EdgeData> {
        &self.graph
    }

    /// The label and property indexes of the nodes, for pattern matching.
    pub(crate) fn lookup(&self) -> &Lookup {
        &self.lookup
    }

    /// The id counters: the next node id and the next relationship id.
    pub(crate) fn next_ids(&self) -> (u64, u64) {
        (self.next_node_id, self.next_relationship_id)
    }

    /// Sets the id counters (snapshot load, rollback); they never go below what is in use.
    pub(crate) fn set_next_ids(&mut self, node: u64, relationship: u64) {
        self.next_node_id = node.max(1);
        self.next_relationship_id = relationship.max(1);
    }

    /// Takes the next node id.
    pub(super) fn allocate_node_id(&mut self) -> u64 {
        let id = self.next_node_id;
        self.next_node_id = self.next_node_id.saturating_add(1);
        id
    }

    /// Takes the next relationship id.
    pub(super) fn allocate_relationship_id(&mut self) -> u64 {
        let id = self.next_relationship_id;
        self.next_relationship_id = self.next_relationship_id.saturating_add(1);
        id
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of relationships.
    pub fn relationship_count(&self) -> usize {
        self.edges.len()
    }

    /// The petgraph index of a node id.
    pub(super) fn node_index(&self, id: u64) -> Result<NodeIndex> {
        self.nodes
            .get(&id)
            .copied()
            .ok_or_else(|| node_not_found(id))
    }

    /// The petgraph index of a relationship id.
    fn edge_index(&self, id: u64) -> Result<EdgeIndex> {
        self.edges
            .get(&id)
            .copied()
            .ok_or_else(|| relationship_not_found(id))
    }

    /// A node by id.
    pub(crate) fn node(&self, id: u64) -> Result<&Node> {
        Ok(&*self.graph[self.node_index(id)?])
    }

    /// A relationship by id, with its start and end node ids.
    pub(crate) fn relationship(&self, id: u64) -> Result<(&EdgeData, u64, u64)> {
        self.relationship_at(self.edge_index(id)?)
            .ok_or_else(|| relationship_not_found(id))
    }

    /// A relationship by its petgraph index (the walks of this layer have it), with its start
    /// and end node ids; `None` when the index holds none.
    pub(super) fn relationship_at(&self, index: EdgeIndex) -> Option<(&EdgeData, u64, u64)> {
        let data = self.graph.edge_weight(index)?;
        let (start, end) = self.graph.edge_endpoints(index)?;
        Some((data, self.graph[start].id, self.graph[end].id))
    }

    /// A copy of a node, to hand out.
    pub(crate) fn cloned_node(&self, id: u64) -> Result<Node> {
        self.node(id).cloned()
    }

    /// A node to hand out, shared with the graph (no copy).
    pub(crate) fn shared_node(&self, index: NodeIndex) -> Arc<Node> {
        Arc::clone(&self.graph[index])
    }

    /// A copy of a relationship, to hand out.
    pub(crate) fn cloned_relationship(&self, id: u64) -> Result<Relationship> {
        let (data, start, end) = self.relationship(id)?;
        Ok(data.to_relationship(start, end))
    }

    /// Every node, in no particular order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.graph.node_weights().map(|node| &**node)
    }

    /// Every relationship with its start and end node ids, in no particular order.
    pub fn relationships(&self) -> impl Iterator<Item = (&EdgeData, u64, u64)> {
        (&self.graph).edge_references().map(|e| {
            (
                e.weight(),
                self.graph[e.source()].id,
                self.graph[e.target()].id,
            )
        })
    }

    /// Ids of the relationships touching a node (a self-loop once), in id order.
    pub(crate) fn relationships_of(&self, id: u64) -> Result<Vec<u64>> {
        let index = self.node_index(id)?;
        let mut ids: Vec<u64> = self
            .graph
            .edges_directed(index, PetDirection::Outgoing)
            .chain(self.graph.edges_directed(index, PetDirection::Incoming))
            .map(|e| e.weight().id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// The relationships at node `id` that start there (`outgoing`) or end there, each with
    /// the id of the node at its other end; none when the node does not exist.
    pub(crate) fn relationships_at(
        &self,
        id: u64,
        outgoing: bool,
    ) -> impl Iterator<Item = (&EdgeData, u64)> + '_ {
        let dir = if outgoing {
            PetDirection::Outgoing
        } else {
            PetDirection::Incoming
        };
        self.nodes.get(&id).into_iter().flat_map(move |&index| {
            self.graph.edges_directed(index, dir).map(move |e| {
                let other = if outgoing { e.target() } else { e.source() };
                (e.weight(), self.graph[other].id)
            })
        })
    }

    /// Validates and applies one mutation; returns the mutation that undoes it. Nothing changes
    /// when it fails.
    pub(crate) fn apply(&mut self, mutation: Mutation) -> Result<Mutation> {
        match mutation {
            Mutation::CreateNode {
                id,
                labels,
                properties,
            } => self.add_node(Node {
                id,
                labels,
                properties,
            }),
            Mutation::CreateRelationship {
                id,
                rel_type,
                start,
                end,
                properties,
            } => self.add_edge(
                EdgeData {
                    id,
                    rel_type,
                    properties,
                },
                start,
                end,
            ),
            Mutation::DeleteRelationship { id } => self.remove_edge(id),
            Mutation::DeleteNode { id } => self.remove_node(id),
            Mutation::SetNodeProperty { id, key, value } => {
                let index = self.node_index(id)?;
                let node = Arc::make_mut(&mut self.graph[index]);
                let old = set_property(&mut node.properties, key.clone(), value);
                self.lookup.remove_property(id, &key, &old);
                if let Some(new) = self.graph[index].properties.get(&key) {
                    self.lookup.add_property(id, &key, new);
                }
                Ok(Mutation::SetNodeProperty {
                    id,
                    key,
                    value: old,
                })
            }
            Mutation::SetNodeLabel { id, label, present } => {
                let index = self.node_index(id)?;
                let labels = &mut Arc::make_mut(&mut self.graph[index]).labels;
                let was = if present {
                    !labels.insert(label.clone())
                } else {
                    labels.remove(&label)
                };
                if present {
                    self.lookup.add_label(id, &label);
                } else {
                    self.lookup.remove_label(id, &label);
                }
                Ok(Mutation::SetNodeLabel {
                    id,
                    label,
                    present: was,
                })
            }
            Mutation::SetRelationshipProperty { id, key, value } => {
                let index = self.edge_index(id)?;
                let old = set_property(&mut self.graph[index].properties, key.clone(), value);
                Ok(Mutation::SetRelationshipProperty {
                    id,
                    key,
                    value: old,
                })
            }
        }
    }

    fn add_node(&mut self, node: Node) -> Result<Mutation> {
        let id = node.id;
        if id == 0 || self.nodes.contains_key(&id) {
            return Err(GraphError::Corrupt(format!("node id {id} is taken")));
        }
        self.lookup.add_node(&node);
        let index = self.graph.add_node(Arc::new(node));
        self.nodes.insert(id, index);
        self.next_node_id = self.next_node_id.max(id.saturating_add(1));
        Ok(Mutation::DeleteNode { id })
    }

    fn add_edge(&mut self, data: EdgeData, start: u64, end: u64) -> Result<Mutation> {
        let id = data.id;
        if id == 0 || self.edges.contains_key(&id) {
            return Err(GraphError::Corrupt(format!(
                "relationship id {id} is taken"
            )));
        }
        let from = self.node_index(start)?;
        let to = self.node_index(end)?;
        let index = self.graph.add_edge(from, to, data);
        self.edges.insert(id, index);
        self.next_relationship_id = self.next_relationship_id.max(id.saturating_add(1));
        Ok(Mutation::DeleteRelationship { id })
    }

    fn remove_edge(&mut self, id: u64) -> Result<Mutation> {
        let index = self.edge_index(id)?;
        let (from, to) = self
            .graph
            .edge_endpoints(index)
            .ok_or_else(|| relationship_not_found(id))?;
        let (start, end) = (self.graph[from].id, self.graph[to].id);
        let data = self
            .graph
            .remove_edge(index)
            .ok_or_else(|| relationship_not_found(id))?;
        self.edges.remove(&id);
        Ok(Mutation::CreateRelationship {
            id,
            rel_type: data.rel_type,
            start,
            end,
            properties: data.properties,
        })
    }

    fn remove_node(&mut self, id: u64) -> Result<Mutation> {
        let index = self.node_index(id)?;
        let degree = self.relationships_of(id)?.len();
        if degree > 0 {
            return Err(GraphError::FailedPrecondition(format!(
                "node {id} still has {degree} relationship(s); delete them first or use DETACH DELETE"
            )));
        }
        let node = self
            .graph
            .remove_node(index)
            .map(Arc::unwrap_or_clone)
            .ok_or_else(|| node_not_found(id))?;
        self.nodes.remove(&id);
        self.lookup.remove_node(&node);
        Ok(Mutation::CreateNode {
            id,
            labels: node.labels,
            properties: node.properties,
        })
    }
}

/// Sets or (with `Null`) removes a property; returns the old value (`Null` when absent).
fn set_property(properties: &mut Properties, key: String, value: Value) -> Value {
    let old = if value == Value::Null {
        properties.remove(&key)
    } else {
        properties.insert(key, value)
    };
    old.unwrap_or(Value::Null)
}
