//! The on-disk record types of the log and the snapshot, as protobuf messages (prost derive),
//! and their conversion from and to [`Mutation`]s. Nodes, relationships and values reuse the
//! public v1 messages, whose wire format buf's breaking-change check already keeps stable.

use std::collections::BTreeSet;

use chatmesh_proto::graph as pb;

use super::graph::{EdgeData, NodeData};
use super::graph::{Mutation, node_to_pb, relationship_to_pb};
use crate::error::{GraphError, Result};
use crate::value::{Value, properties_from_pb};

/// One logged write request: all of its mutations, applied together or not at all.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LogEntry {
    /// Increases by one per write, across restarts.
    #[prost(uint64, tag = "1")]
    pub lsn: u64,
    /// The mutations, in order.
    #[prost(message, repeated, tag = "2")]
    pub mutations: Vec<MutationRecord>,
}

/// One mutation.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MutationRecord {
    /// Which.
    #[prost(oneof = "MutationKind", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub kind: Option<MutationKind>,
}

/// The kinds of mutation.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum MutationKind {
    /// A node with its id.
    #[prost(message, tag = "1")]
    CreateNode(pb::Node),
    /// A relationship with its id.
    #[prost(message, tag = "2")]
    CreateRelationship(pb::Relationship),
    /// A relationship id.
    #[prost(uint64, tag = "3")]
    DeleteRelationship(u64),
    /// A node id.
    #[prost(uint64, tag = "4")]
    DeleteNode(u64),
    /// A node property set or removed.
    #[prost(message, tag = "5")]
    SetNodeProperty(PropertyChange),
    /// A node label added or removed.
    #[prost(message, tag = "6")]
    SetNodeLabel(LabelChange),
    /// A relationship property set or removed.
    #[prost(message, tag = "7")]
    SetRelationshipProperty(PropertyChange),
}

/// A property of one entity set (or removed, with a null value).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PropertyChange {
    /// Node or relationship id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Property key.
    #[prost(string, tag = "2")]
    pub key: String,
    /// New value; null removes.
    #[prost(message, optional, tag = "3")]
    pub value: Option<pb::Value>,
}

/// A label added or removed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LabelChange {
    /// Node id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Label.
    #[prost(string, tag = "2")]
    pub label: String,
    /// Added (true) or removed.
    #[prost(bool, tag = "3")]
    pub present: bool,
}

/// One record of a snapshot file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SnapshotRecord {
    /// The part.
    #[prost(oneof = "SnapshotPart", tags = "1, 2, 3, 4")]
    pub part: Option<SnapshotPart>,
}

/// The parts of a snapshot, in file order: header, node chunks, relationship chunks, end.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum SnapshotPart {
    /// The sequence number included and the id counters.
    #[prost(message, tag = "1")]
    Header(SnapshotHeader),
    /// Nodes.
    #[prost(message, tag = "2")]
    Nodes(pb::ValueList),
    /// Relationships.
    #[prost(message, tag = "3")]
    Relationships(pb::ValueList),
    /// Totals proving the file is complete.
    #[prost(message, tag = "4")]
    End(SnapshotEnd),
}

/// The first record of a snapshot.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SnapshotHeader {
    /// The log sequence number the snapshot includes (later log entries are replayed).
    #[prost(uint64, tag = "1")]
    pub lsn: u64,
    /// The next node id (deleted ids are never reused, so this is not max id + 1).
    #[prost(uint64, tag = "2")]
    pub next_node_id: u64,
    /// The next relationship id.
    #[prost(uint64, tag = "3")]
    pub next_relationship_id: u64,
}

/// The last record of a snapshot.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SnapshotEnd {
    /// Nodes written.
    #[prost(uint64, tag = "1")]
    pub nodes: u64,
    /// Relationships written.
    #[prost(uint64, tag = "2")]
    pub relationships: u64,
}

/// A node as a snapshot chunk element.
pub fn node_value(node: &NodeData) -> pb::Value {
    pb::Value {
        kind: Some(pb::value::Kind::NodeValue(node_to_pb(node))),
    }
}

/// A relationship as a snapshot chunk element.
pub fn relationship_value(data: &EdgeData, start: u64, end: u64) -> pb::Value {
    pb::Value {
        kind: Some(pb::value::Kind::RelationshipValue(relationship_to_pb(
            data, start, end,
        ))),
    }
}

/// The record of a mutation.
pub fn to_record(mutation: &Mutation) -> MutationRecord {
    let property = |id: u64, key: &str, value: &Value| PropertyChange {
        id,
        key: key.to_owned(),
        value: Some(value.to_pb()),
    };
    let kind = match mutation {
        Mutation::CreateNode {
            id,
            labels,
            properties,
        } => MutationKind::CreateNode(node_to_pb(&NodeData {
            id: *id,
            labels: labels.clone(),
            properties: properties.clone(),
        })),
        Mutation::CreateRelationship {
            id,
            rel_type,
            start,
            end,
            properties,
        } => MutationKind::CreateRelationship(relationship_to_pb(
            &EdgeData {
                id: *id,
                rel_type: rel_type.clone(),
                properties: properties.clone(),
            },
            *start,
            *end,
        )),
        Mutation::DeleteRelationship { id } => MutationKind::DeleteRelationship(*id),
        Mutation::DeleteNode { id } => MutationKind::DeleteNode(*id),
        Mutation::SetNodeProperty { id, key, value } => {
            MutationKind::SetNodeProperty(property(*id, key, value))
        }
        Mutation::SetNodeLabel { id, label, present } => MutationKind::SetNodeLabel(LabelChange {
            id: *id,
            label: label.clone(),
            present: *present,
        }),
        Mutation::SetRelationshipProperty { id, key, value } => {
            MutationKind::SetRelationshipProperty(property(*id, key, value))
        }
    };
    MutationRecord { kind: Some(kind) }
}

/// The mutation a record holds.
pub fn from_record(record: MutationRecord) -> Result<Mutation> {
    let corrupt = |why: String| GraphError::Corrupt(format!("log record: {why}"));
    let value = |change: &PropertyChange| -> Result<Value> {
        match &change.value {
            Some(v) => Value::from_pb(v, &change.key).map_err(|e| corrupt(e.to_string())),
            None => Ok(Value::Null),
        }
    };
    Ok(match record.kind.ok_or_else(|| corrupt("empty".into()))? {
        MutationKind::CreateNode(node) => {
            let data = node_from_pb(node)?;
            Mutation::CreateNode {
                id: data.id,
                labels: data.labels,
                properties: data.properties,
            }
        }
        MutationKind::CreateRelationship(rel) => {
            let (data, start, end) = relationship_from_pb(rel)?;
            Mutation::CreateRelationship {
                id: data.id,
                rel_type: data.rel_type,
                start,
                end,
                properties: data.properties,
            }
        }
        MutationKind::DeleteRelationship(id) => Mutation::DeleteRelationship { id },
        MutationKind::DeleteNode(id) => Mutation::DeleteNode { id },
        MutationKind::SetNodeProperty(change) => Mutation::SetNodeProperty {
            id: change.id,
            value: value(&change)?,
            key: change.key,
        },
        MutationKind::SetNodeLabel(change) => Mutation::SetNodeLabel {
            id: change.id,
            label: change.label,
            present: change.present,
        },
        MutationKind::SetRelationshipProperty(change) => Mutation::SetRelationshipProperty {
            id: change.id,
            value: value(&change)?,
            key: change.key,
        },
    })
}

/// A stored node.
pub fn node_from_pb(node: pb::Node) -> Result<NodeData> {
    Ok(NodeData {
        id: node.id,
        labels: node.labels.into_iter().collect::<BTreeSet<_>>(),
        properties: properties_from_pb(&node.properties, "node")
            .map_err(|e| GraphError::Corrupt(e.to_string()))?,
    })
}

/// A stored relationship with its start and end node ids.
pub fn relationship_from_pb(rel: pb::Relationship) -> Result<(EdgeData, u64, u64)> {
    Ok((
        EdgeData {
            id: rel.id,
            rel_type: rel.r#type,
            properties: properties_from_pb(&rel.properties, "relationship")
                .map_err(|e| GraphError::Corrupt(e.to_string()))?,
        },
        rel.start_node_id,
        rel.end_node_id,
    ))
}

impl chatmesh_durable::Entry for LogEntry {
    fn lsn(&self) -> u64 {
        self.lsn
    }
}
