//! A write transaction: changes are applied to the graph at once (under the store's write lock,
//! so no reader sees them early), while the transaction remembers how to undo each one and what
//! to log. The store either logs the changes and commits, or rolls them all back, so a failing
//! multi-step write leaves the graph as it was.

use std::collections::{BTreeMap, BTreeSet};

use super::state::{GraphState, Mutation};
use crate::error::{GraphError, Result, invalid};
use crate::model::{MAX_LABELS, MAX_PROPERTIES, Properties, Value, WriteStats, check_value};

/// The types of the relationships a transaction deleted, by id: Cypher's `type(r)` still
/// answers for them until the statement ends, as in Neo4j.
pub(crate) type DeletedTypes = BTreeMap<u64, String>;

/// See the module documentation.
pub struct Txn<'g> {
    state: &'g mut GraphState,
    start_ids: (u64, u64),
    undo: Vec<Mutation>,
    done: Vec<Mutation>,
    stats: WriteStats,
    deleted_types: DeletedTypes,
}

impl<'g> Txn<'g> {
    /// Starts a transaction on `state`.
    pub fn new(state: &'g mut GraphState) -> Self {
        let start_ids = state.next_ids();
        Self {
            state,
            start_ids,
            undo: Vec::new(),
            done: Vec::new(),
            stats: WriteStats::default(),
            deleted_types: DeletedTypes::new(),
        }
    }

    /// The graph as this transaction sees it (its own changes included).
    pub(crate) fn state(&self) -> &GraphState {
        self.state
    }

    /// The types of the relationships this transaction deleted.
    pub(crate) fn deleted_types(&self) -> &DeletedTypes {
        &self.deleted_types
    }

    /// What the transaction changed so far.
    pub(crate) fn stats(&self) -> WriteStats {
        self.stats
    }

    /// The changes to log, in order; consumes nothing (the store logs, then commits).
    pub(crate) fn mutations(&self) -> &[Mutation] {
        &self.done
    }

    /// Undoes every change, newest first.
    pub fn rollback(mut self) {
        while let Some(inverse) = self.undo.pop() {
            if let Err(e) = self.state.apply(inverse) {
                tracing::error!(error = %e, "rollback step failed; the graph may be inconsistent");
            }
        }
        self.state.set_next_ids(self.start_ids.0, self.start_ids.1);
    }

    fn apply(&mut self, mutation: Mutation) -> Result<()> {
        let inverse = self.state.apply(mutation.clone())?;
        self.undo.push(inverse);
        self.done.push(mutation);
        Ok(())
    }

    /// Creates a node; returns its id.
    pub fn create_node(&mut self, labels: BTreeSet<String>, properties: Properties) -> Result<u64> {
        check_counts(labels.len(), properties.len())?;
        check_properties(&properties)?;
        let id = self.state.allocate_node_id();
        let (labels_added, properties_set) = (labels.len() as u64, properties.len() as u64);
        self.apply(Mutation::CreateNode {
            id,
            labels,
            properties,
        })?;
        self.stats.nodes_created += 1;
        self.stats.labels_added += labels_added;
        self.stats.properties_set += properties_set;
        Ok(id)
    }

    /// Creates a relationship; returns its id. NOT_FOUND names the missing end.
    pub fn create_relationship(
        &mut self,
        start: u64,
        end: u64,
        rel_type: String,
        properties: Properties,
    ) -> Result<u64> {
        check_counts(0, properties.len())?;
        check_properties(&properties)?;
        for (id, which) in [(start, "start"), (end, "end")] {
            if self.state.node_index(id).is_err() {
                return Err(GraphError::NotFound(format!(
                    "{which} node {id} does not exist"
                )));
            }
        }
        let id = self.state.allocate_relationship_id();
        let properties_set = properties.len() as u64;
        self.apply(Mutation::CreateRelationship {
            id,
            rel_type,
            start,
            end,
            properties,
        })?;
        self.stats.relationships_created += 1;
        self.stats.properties_set += properties_set;
        Ok(id)
    }

    /// Deletes a relationship.
    pub(crate) fn delete_relationship(&mut self, id: u64) -> Result<()> {
        let rel_type = self.state.relationship(id)?.0.rel_type.clone();
        self.apply(Mutation::DeleteRelationship { id })?;
        self.deleted_types.insert(id, rel_type);
        self.stats.relationships_deleted += 1;
        Ok(())
    }

    /// Deletes a node; with `detach` its relationships first (else FAILED_PRECONDITION when it
    /// has any). Returns how many relationships were deleted.
    pub(crate) fn delete_node(&mut self, id: u64, detach: bool) -> Result<u64> {
        let relationships = self.state.relationships_of(id)?;
        if detach {
            for &relationship in &relationships {
                self.delete_relationship(relationship)?;
            }
        }
        self.apply(Mutation::DeleteNode { id })?;
        self.stats.nodes_deleted += 1;
        Ok(if detach {
            relationships.len() as u64
        } else {
            0
        })
    }

    /// Sets (or, with `Null`, removes) a node property; removing an absent key changes nothing.
    pub(crate) fn set_node_property(&mut self, id: u64, key: String, value: Value) -> Result<()> {
        let properties = &self.state.node(id)?.properties;
        if changes(properties, &key, &value)? {
            self.apply(Mutation::SetNodeProperty { id, key, value })?;
            self.stats.properties_set += 1;
        }
        Ok(())
    }

    /// Adds or removes a node label; a no-op when the node already is that way.
    pub(crate) fn set_node_label(&mut self, id: u64, label: String, present: bool) -> Result<()> {
        let node = self.state.node(id)?;
        if node.labels.contains(&label) == present {
            return Ok(());
        }
        if present {
            check_counts(node.labels.len() + 1, 0)?;
        }
        self.apply(Mutation::SetNodeLabel { id, label, present })?;
        if present {
            self.stats.labels_added += 1;
        } else {
            self.stats.labels_removed += 1;
        }
        Ok(())
    }

    /// Sets (or, with `Null`, removes) a relationship property.
    pub(crate) fn set_relationship_property(
        &mut self,
        id: u64,
        key: String,
        value: Value,
    ) -> Result<()> {
        let properties = &self.state.relationship(id)?.0.properties;
        if changes(properties, &key, &value)? {
            self.apply(Mutation::SetRelationshipProperty { id, key, value })?;
            self.stats.properties_set += 1;
        }
        Ok(())
    }
}

/// Whether setting `key` to `value` is a write (removing an absent key is not), after checking
/// the value and the property count.
fn changes(properties: &Properties, key: &str, value: &Value) -> Result<bool> {
    check_value(value, key)?;
    let absent = !properties.contains_key(key);
    if absent && *value == Value::Null {
        return Ok(false);
    }
    if absent {
        check_counts(0, properties.len() + 1)?;
    }
    Ok(true)
}

fn check_properties(properties: &Properties) -> Result<()> {
    properties.iter().try_for_each(|(k, v)| check_value(v, k))
}

fn check_counts(labels: usize, properties: usize) -> Result<()> {
    if labels > MAX_LABELS {
        return Err(invalid(format!(
            "a node may carry at most {MAX_LABELS} labels"
        )));
    }
    if properties > MAX_PROPERTIES {
        return Err(invalid(format!(
            "a node or relationship may carry at most {MAX_PROPERTIES} properties"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_restores_everything() {
        let mut state = GraphState::new();
        let mut txn = Txn::new(&mut state);
        let a = txn
            .create_node(BTreeSet::from(["A".into()]), Properties::new())
            .unwrap();
        let b = txn.create_node(BTreeSet::new(), Properties::new()).unwrap();
        txn.create_relationship(a, b, "R".into(), Properties::new())
            .unwrap();
        drop(txn);
        let before_nodes: Vec<_> = state.nodes().cloned().collect();
        let before_ids = state.next_ids();

        let mut txn = Txn::new(&mut state);
        txn.set_node_property(a, "k".into(), Value::Int(1)).unwrap();
        txn.set_node_label(a, "A".into(), false).unwrap();
        txn.create_node(BTreeSet::new(), Properties::new()).unwrap();
        assert_eq!(txn.delete_node(a, true).unwrap(), 1);
        assert!(matches!(txn.delete_node(b, false), Ok(0)));
        txn.rollback();

        let mut after_nodes: Vec<_> = state.nodes().cloned().collect();
        let mut before_nodes = before_nodes;
        before_nodes.sort_by_key(|n| n.id);
        after_nodes.sort_by_key(|n| n.id);
        assert_eq!(after_nodes, before_nodes);
        assert_eq!(state.relationship_count(), 1);
        assert_eq!(state.next_ids(), before_ids);
    }

    #[test]
    fn delete_without_detach_is_refused() {
        let mut state = GraphState::new();
        let mut txn = Txn::new(&mut state);
        let a = txn.create_node(BTreeSet::new(), Properties::new()).unwrap();
        txn.create_relationship(a, a, "SELF".into(), Properties::new())
            .unwrap();
        assert!(matches!(
            txn.delete_node(a, false),
            Err(GraphError::FailedPrecondition(_))
        ));
        assert_eq!(txn.delete_node(a, true).unwrap(), 1);
    }
}
