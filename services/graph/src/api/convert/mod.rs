//! The one module that knows the contract's protobuf messages: [`requests`] turns requests into
//! validated domain values (INVALID_ARGUMENT names the field), [`responses`] turns domain answers
//! into messages, [`wire`] writes ListNeighbors' answer in wire form straight from the walk's
//! nodes, and this file converts the values and entities both share. Below the API
//! nothing speaks protobuf (except the embedded store's own on-disk records).

mod requests;
mod responses;
mod wire;

use std::collections::HashMap;

use chatmesh_proto::graph::{self as pb, value::Kind};

use crate::error::{Result, invalid};
use crate::model::{
    Node, Path, Properties, QueryValue, Relationship, Row, Value, check_name, check_property_count,
    check_value, not_a_parameter, not_a_property,
};

pub(crate) use requests::{
    check_id, create_node, create_relationship, execute_query, neighbor_query, path_query,
    stream_query, update_node,
};
pub(crate) use responses::{
    create_node_response, create_relationship_response, delete_node_response, execute_response,
    get_node_response, get_relationship_response, path_response, schema_response, stream_parts,
    update_node_response,
};
pub(crate) use wire::neighbors_answer;

/// The wire form of a null.
fn null() -> Kind {
    Kind::NullValue(prost_types::NullValue::NullValue as i32)
}

/// A property value in its wire form.
fn value_to_pb(value: Value) -> pb::Value {
    let kind = match value {
        Value::Null => null(),
        Value::Bool(b) => Kind::BoolValue(b),
        Value::Int(i) => Kind::IntValue(i),
        Value::Float(f) => Kind::DoubleValue(f),
        Value::String(s) => Kind::StringValue(s),
        Value::List(items) => Kind::ListValue(pb::ValueList {
            values: items.into_iter().map(value_to_pb).collect(),
        }),
    };
    pb::Value { kind: Some(kind) }
}

/// Reads a wire value that is to become a property value; `field` names it in errors.
fn value_from_pb(value: &pb::Value, field: &str) -> Result<Value> {
    let value = match &value.kind {
        Some(Kind::ListValue(list)) => Value::List(
            list.values
                .iter()
                .map(|item| scalar_from_pb(item, field))
                .collect::<Result<_>>()?,
        ),
        _ => scalar_from_pb(value, field)?,
    };
    check_value(&value, field)?;
    Ok(value)
}

/// A wire value that is not a list; lists are refused here (they cannot nest).
fn scalar_from_pb(value: &pb::Value, field: &str) -> Result<Value> {
    Ok(match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::IntValue(i)) => Value::Int(*i),
        Some(Kind::DoubleValue(f)) => Value::Float(*f),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(_)) => return Err(not_a_property(field, "a list inside a list")),
        Some(Kind::MapValue(_)) => return Err(not_a_property(field, "a map")),
        Some(Kind::NodeValue(_)) => return Err(not_a_property(field, "a node")),
        Some(Kind::RelationshipValue(_)) => return Err(not_a_property(field, "a relationship")),
        Some(Kind::PathValue(_)) => return Err(not_a_property(field, "a path")),
    })
}

/// Reads a wire property map: names checked, nulls dropped, at most `MAX_PROPERTIES`.
fn properties_from_pb(map: &HashMap<String, pb::Value>, field: &str) -> Result<Properties> {
    check_property_count(map.len(), field)?;
    let mut properties = Properties::new();
    for (key, value) in map {
        check_name(key, format_args!("{field} key"))?;
        let value = value_from_pb(value, &format!("{field}.{key}"))?;
        if value != Value::Null {
            properties.insert(key.clone(), value);
        }
    }
    Ok(properties)
}

fn properties_to_pb(properties: Properties) -> HashMap<String, pb::Value> {
    let mut map = HashMap::with_capacity(properties.len());
    map.extend(properties.into_iter().map(|(k, v)| (k, value_to_pb(v))));
    map
}

/// A node in its wire form.
pub fn node_to_pb(node: Node) -> pb::Node {
    pb::Node {
        id: node.id,
        labels: node.labels.into_iter().collect(),
        properties: properties_to_pb(node.properties),
    }
}

/// A relationship in its wire form.
pub fn relationship_to_pb(relationship: Relationship) -> pb::Relationship {
    pb::Relationship {
        id: relationship.id,
        r#type: relationship.rel_type,
        start_node_id: relationship.start,
        end_node_id: relationship.end,
        properties: properties_to_pb(relationship.properties),
    }
}

fn path_to_pb(path: Path) -> pb::Path {
    pb::Path {
        nodes: path.nodes.into_iter().map(node_to_pb).collect(),
        relationships: path
            .relationships
            .into_iter()
            .map(relationship_to_pb)
            .collect(),
    }
}

/// A query parameter `$name`: any value but a node, relationship or path.
pub fn parameter_from_pb(value: &pb::Value, name: &str) -> Result<QueryValue> {
    let parameter = |v: &pb::Value| parameter_from_pb(v, name);
    Ok(match &value.kind {
        None | Some(Kind::NullValue(_)) => QueryValue::Null,
        Some(Kind::BoolValue(b)) => QueryValue::Bool(*b),
        Some(Kind::IntValue(i)) => QueryValue::Int(*i),
        Some(Kind::DoubleValue(f)) => QueryValue::Float(*f),
        Some(Kind::StringValue(s)) => QueryValue::String(s.clone()),
        Some(Kind::ListValue(list)) => {
            QueryValue::List(list.values.iter().map(parameter).collect::<Result<_>>()?)
        }
        Some(Kind::MapValue(map)) => QueryValue::Map(
            map.entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), parameter(v)?)))
                .collect::<Result<_>>()?,
        ),
        Some(Kind::NodeValue(_) | Kind::RelationshipValue(_) | Kind::PathValue(_)) => {
            return Err(not_a_parameter(name));
        }
    })
}

/// A result value in its wire form.
fn query_value_to_pb(value: QueryValue) -> pb::Value {
    let kind = match value {
        QueryValue::Null => null(),
        QueryValue::Bool(b) => Kind::BoolValue(b),
        QueryValue::Int(i) => Kind::IntValue(i),
        QueryValue::Float(f) => Kind::DoubleValue(f),
        QueryValue::String(s) => Kind::StringValue(s),
        QueryValue::List(items) => Kind::ListValue(pb::ValueList {
            values: items.into_iter().map(query_value_to_pb).collect(),
        }),
        QueryValue::Map(entries) => Kind::MapValue(pb::ValueMap {
            entries: entries
                .into_iter()
                .map(|(k, v)| (k, query_value_to_pb(v)))
                .collect(),
        }),
        QueryValue::Node(node) => Kind::NodeValue(node_to_pb(node)),
        QueryValue::Relationship(rel) => Kind::RelationshipValue(relationship_to_pb(rel)),
        QueryValue::Path(path) => Kind::PathValue(path_to_pb(path)),
    };
    pb::Value { kind: Some(kind) }
}

/// A result row in its wire form.
pub fn row_to_pb(row: Row) -> pb::Row {
    pb::Row {
        values: row.values.into_iter().map(query_value_to_pb).collect(),
    }
}

/// INVALID_ARGUMENT for a list field whose items must be names.
fn names(names: &[String], field: &str) -> Result<Vec<String>> {
    for (i, name) in names.iter().enumerate() {
        check_name(name, format_args!("{field}[{i}]"))?;
    }
    Ok(names.to_vec())
}

/// INVALID_ARGUMENT for a negative count field.
fn not_negative(value: i32, field: &str) -> Result<()> {
    if value < 0 {
        return Err(invalid(format!("{field}: must not be negative")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GraphError;

    #[test]
    fn round_trip_and_rejections() {
        let value = Value::List(vec![Value::Int(1), Value::String("a".into())]);
        assert_eq!(
            value_from_pb(&value_to_pb(value.clone()), "v").unwrap(),
            value
        );
        let nan = value_to_pb(Value::Float(f64::NAN));
        assert!(value_from_pb(&nan, "v").is_err());
    }

    #[test]
    fn maps_nested_lists_and_nulls_in_lists_are_not_property_values() {
        let map = || pb::Value {
            kind: Some(Kind::MapValue(pb::ValueMap {
                entries: HashMap::from([("num".into(), value_to_pb(Value::Int(1)))]),
            })),
        };
        let list = |values| pb::Value {
            kind: Some(Kind::ListValue(pb::ValueList { values })),
        };
        let refused = [
            (map(), "a map"),
            (list(vec![map()]), "a map"),
            (list(vec![list(vec![])]), "a list inside a list"),
            (
                list(vec![value_to_pb(Value::Int(1)), value_to_pb(Value::Null)]),
                "null",
            ),
        ];
        for (value, why) in refused {
            let err = value_from_pb(&value, "properties.maplist").unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, GraphError::InvalidArgument(_)), "{message}");
            assert!(message.contains("properties.maplist"), "{message}");
            assert!(message.contains(why), "{message}");
        }
    }
}
