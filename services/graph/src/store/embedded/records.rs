//! The on-disk format of the embedded store: the log's entries and the snapshot's records, as
//! protobuf messages (prost derive), and their conversion from and to the engine's
//! [`Mutation`]s and entities. Nodes, relationships and values reuse the public v1 messages,
//! whose wire format buf's breaking-change check already keeps stable; what is read back is
//! checked with the model's rules, and anything that fails them is corruption.

use std::collections::BTreeSet;

use chatmesh_proto::graph::{self as pb, value::Kind};

use crate::engine::{EdgeData, Mutation};
use crate::error::{GraphError, Result};
use crate::model::{Node, Properties, Relationship, Value, check_name, check_value};

/// One logged write request: all of its mutations, applied together or not at all.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct LogEntry {
    /// Increases by one per write, across restarts.
    #[prost(uint64, tag = "1")]
    pub(super) lsn: u64,
    /// The mutations, in order.
    #[prost(message, repeated, tag = "2")]
    pub(super) mutations: Vec<MutationRecord>,
}

/// One mutation.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct MutationRecord {
    /// Which.
    #[prost(oneof = "MutationKind", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub(super) kind: Option<MutationKind>,
}

/// The kinds of mutation.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(super) enum MutationKind {
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
pub(super) struct PropertyChange {
    /// Node or relationship id.
    #[prost(uint64, tag = "1")]
    pub(super) id: u64,
    /// Property key.
    #[prost(string, tag = "2")]
    pub(super) key: String,
    /// New value; null removes.
    #[prost(message, optional, tag = "3")]
    pub(super) value: Option<pb::Value>,
}

/// A label added or removed.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct LabelChange {
    /// Node id.
    #[prost(uint64, tag = "1")]
    pub(super) id: u64,
    /// Label.
    #[prost(string, tag = "2")]
    pub(super) label: String,
    /// Added (true) or removed.
    #[prost(bool, tag = "3")]
    pub(super) present: bool,
}

/// One record of a snapshot file.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct SnapshotRecord {
    /// The part.
    #[prost(oneof = "SnapshotPart", tags = "1, 2, 3, 4")]
    pub(super) part: Option<SnapshotPart>,
}

/// The parts of a snapshot, in file order: header, node chunks, relationship chunks, end.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(super) enum SnapshotPart {
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
pub(super) struct SnapshotHeader {
    /// The log sequence number the snapshot includes (later log entries are replayed).
    #[prost(uint64, tag = "1")]
    pub(super) lsn: u64,
    /// The next node id (deleted ids are never reused, so this is not max id + 1).
    #[prost(uint64, tag = "2")]
    pub(super) next_node_id: u64,
    /// The next relationship id.
    #[prost(uint64, tag = "3")]
    pub(super) next_relationship_id: u64,
}

/// The last record of a snapshot.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct SnapshotEnd {
    /// Nodes written.
    #[prost(uint64, tag = "1")]
    pub(super) nodes: u64,
    /// Relationships written.
    #[prost(uint64, tag = "2")]
    pub(super) relationships: u64,
}

/// A chunk of nodes for the snapshot.
pub(super) fn node_chunk(nodes: &[&Node]) -> pb::ValueList {
    let values = nodes.iter().map(|node| Kind::NodeValue(node_record(node)));
    pb::ValueList {
        values: values.map(|kind| pb::Value { kind: Some(kind) }).collect(),
    }
}

/// A chunk of relationships (with their end nodes' ids) for the snapshot.
pub(super) fn relationship_chunk(relationships: &[(&EdgeData, u64, u64)]) -> pb::ValueList {
    let values = relationships.iter().map(|&(data, start, end)| {
        Kind::RelationshipValue(relationship_record(&data.to_relationship(start, end)))
    });
    pb::ValueList {
        values: values.map(|kind| pb::Value { kind: Some(kind) }).collect(),
    }
}

/// The nodes of a snapshot chunk; `Err` says what is wrong with it.
pub(super) fn chunk_nodes(chunk: pb::ValueList) -> Result<Vec<Node>, String> {
    chunk
        .values
        .into_iter()
        .map(|value| match value.kind {
            Some(Kind::NodeValue(node)) => node_from_record(node),
            None => Err("empty entity".into()),
            Some(_) => Err("a node chunk holds something else".into()),
        })
        .collect()
}

/// The relationships of a snapshot chunk; `Err` says what is wrong with it.
pub(super) fn chunk_relationships(chunk: pb::ValueList) -> Result<Vec<Relationship>, String> {
    chunk
        .values
        .into_iter()
        .map(|value| match value.kind {
            Some(Kind::RelationshipValue(rel)) => relationship_from_record(rel),
            None => Err("empty entity".into()),
            Some(_) => Err("a relationship chunk holds something else".into()),
        })
        .collect()
}

/// The record of a mutation.
pub(super) fn to_record(mutation: &Mutation) -> MutationRecord {
    let property = |id: u64, key: &str, value: &Value| PropertyChange {
        id,
        key: key.to_owned(),
        value: Some(value_record(value)),
    };
    let kind = match mutation {
        Mutation::CreateNode {
            id,
            labels,
            properties,
        } => MutationKind::CreateNode(pb::Node {
            id: *id,
            labels: labels.iter().cloned().collect(),
            properties: properties_record(properties),
        }),
        Mutation::CreateRelationship {
            id,
            rel_type,
            start,
            end,
            properties,
        } => MutationKind::CreateRelationship(pb::Relationship {
            id: *id,
            r#type: rel_type.clone(),
            start_node_id: *start,
            end_node_id: *end,
            properties: properties_record(properties),
        }),
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
pub(super) fn from_record(record: MutationRecord) -> Result<Mutation> {
    let corrupt = |why: String| GraphError::Corrupt(format!("log record: {why}"));
    let value = |change: &PropertyChange| -> Result<Value> {
        match &change.value {
            Some(v) => value_from_record(v, &change.key).map_err(corrupt),
            None => Ok(Value::Null),
        }
    };
    Ok(match record.kind.ok_or_else(|| corrupt("empty".into()))? {
        MutationKind::CreateNode(node) => {
            Mutation::create_node(node_from_record(node).map_err(GraphError::Corrupt)?)
        }
        MutationKind::CreateRelationship(rel) => Mutation::create_relationship(
            relationship_from_record(rel).map_err(GraphError::Corrupt)?,
        ),
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

fn node_record(node: &Node) -> pb::Node {
    pb::Node {
        id: node.id,
        labels: node.labels.iter().cloned().collect(),
        properties: properties_record(&node.properties),
    }
}

fn relationship_record(rel: &Relationship) -> pb::Relationship {
    pb::Relationship {
        id: rel.id,
        r#type: rel.rel_type.clone(),
        start_node_id: rel.start,
        end_node_id: rel.end,
        properties: properties_record(&rel.properties),
    }
}

fn properties_record(properties: &Properties) -> std::collections::HashMap<String, pb::Value> {
    properties
        .iter()
        .map(|(k, v)| (k.clone(), value_record(v)))
        .collect()
}

fn value_record(value: &Value) -> pb::Value {
    let kind = match value {
        Value::Null => Kind::NullValue(prost_types::NullValue::NullValue as i32),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Int(i) => Kind::IntValue(*i),
        Value::Float(f) => Kind::DoubleValue(*f),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::List(items) => Kind::ListValue(pb::ValueList {
            values: items.iter().map(value_record).collect(),
        }),
    };
    pb::Value { kind: Some(kind) }
}

/// A stored node, its properties checked.
fn node_from_record(node: pb::Node) -> Result<Node, String> {
    Ok(Node {
        id: node.id,
        labels: node.labels.into_iter().collect::<BTreeSet<_>>(),
        properties: properties_from_record(node.properties, "node")?,
    })
}

/// A stored relationship, its properties checked.
fn relationship_from_record(rel: pb::Relationship) -> Result<Relationship, String> {
    Ok(Relationship {
        id: rel.id,
        rel_type: rel.r#type,
        start: rel.start_node_id,
        end: rel.end_node_id,
        properties: properties_from_record(rel.properties, "relationship")?,
    })
}

fn properties_from_record(
    map: std::collections::HashMap<String, pb::Value>,
    field: &str,
) -> Result<Properties, String> {
    let mut properties = Properties::new();
    for (key, value) in map {
        check_name(&key, format_args!("{field} key")).map_err(|e| e.to_string())?;
        let value = value_from_record(&value, &format!("{field}.{key}"))?;
        if value != Value::Null {
            properties.insert(key, value);
        }
    }
    Ok(properties)
}

/// A stored property value: a scalar or a list of scalars that passes the model's checks.
fn value_from_record(value: &pb::Value, field: &str) -> Result<Value, String> {
    let scalar = |value: &pb::Value| match &value.kind {
        None | Some(Kind::NullValue(_)) => Ok(Value::Null),
        Some(Kind::BoolValue(b)) => Ok(Value::Bool(*b)),
        Some(Kind::IntValue(i)) => Ok(Value::Int(*i)),
        Some(Kind::DoubleValue(f)) => Ok(Value::Float(*f)),
        Some(Kind::StringValue(s)) => Ok(Value::String(s.clone())),
        Some(_) => Err(format!("{field}: not a property value")),
    };
    let value = match &value.kind {
        Some(Kind::ListValue(list)) => {
            Value::List(list.values.iter().map(scalar).collect::<Result<_, _>>()?)
        }
        _ => scalar(value)?,
    };
    check_value(&value, field).map_err(|e| e.to_string())?;
    Ok(value)
}

impl chatmesh_durable::Entry for LogEntry {
    fn lsn(&self) -> u64 {
        self.lsn
    }
}
