//! Property values and names: the typed values nodes and relationships carry, their
//! conversion from and to the wire `Value`, and the contract's validation rules (name syntax,
//! value kinds, sizes). As in Neo4j, a property value is a string, integer, float or boolean,
//! or a list of those; maps, nested lists and nulls inside lists are refused.

use std::collections::{BTreeMap, HashMap};

use chatmesh_proto::graph::{self as pb, value::Kind};

use crate::error::{Result, invalid};

/// Longest label, relationship type or property key, in bytes.
pub const MAX_NAME_BYTES: usize = 128;
/// Most labels on one node.
pub const MAX_LABELS: usize = 32;
/// Most properties on one node or relationship.
pub const MAX_PROPERTIES: usize = 1024;
/// Longest string property value, in bytes.
pub const MAX_STRING_BYTES: usize = 1024 * 1024;

/// What property values may be, for error messages.
const PROPERTY_KINDS: &str =
    "property values are strings, integers, floats, booleans and lists of these";

/// A property value. `Null` never sits in a property map (writing null removes the key), and a
/// `List` holds neither nulls nor lists.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// The absent value.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A finite IEEE 754 double.
    Float(f64),
    /// A UTF-8 string.
    String(String),
    /// A list of non-null scalars.
    List(Vec<Value>),
}

/// A node's or relationship's properties, in key order, never holding `Null`.
pub type Properties = BTreeMap<String, Value>;

impl Value {
    /// The value as a number, when it is one (for weights).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Converts to the wire form.
    pub fn to_pb(&self) -> pb::Value {
        let kind = match self {
            Value::Null => Kind::NullValue(prost_types::NullValue::NullValue as i32),
            Value::Bool(b) => Kind::BoolValue(*b),
            Value::Int(i) => Kind::IntValue(*i),
            Value::Float(f) => Kind::DoubleValue(*f),
            Value::String(s) => Kind::StringValue(s.clone()),
            Value::List(items) => Kind::ListValue(pb::ValueList {
                values: items.iter().map(Value::to_pb).collect(),
            }),
        };
        pb::Value { kind: Some(kind) }
    }

    /// Reads a wire value that is to become a property value; `field` names it in errors.
    pub fn from_pb(value: &pb::Value, field: &str) -> Result<Self> {
        let value = match &value.kind {
            Some(Kind::ListValue(list)) => Value::List(
                list.values
                    .iter()
                    .map(|item| Self::scalar_from_pb(item, field))
                    .collect::<Result<_>>()?,
            ),
            _ => Self::scalar_from_pb(value, field)?,
        };
        check_value(&value, field)?;
        Ok(value)
    }

    /// A wire value that is not a list; lists are refused here (they cannot nest).
    fn scalar_from_pb(value: &pb::Value, field: &str) -> Result<Self> {
        Ok(match &value.kind {
            None | Some(Kind::NullValue(_)) => Value::Null,
            Some(Kind::BoolValue(b)) => Value::Bool(*b),
            Some(Kind::IntValue(i)) => Value::Int(*i),
            Some(Kind::DoubleValue(f)) => Value::Float(*f),
            Some(Kind::StringValue(s)) => Value::String(s.clone()),
            Some(Kind::ListValue(_)) => return Err(not_a_property(field, "a list inside a list")),
            Some(Kind::MapValue(_)) => return Err(not_a_property(field, "a map")),
            Some(Kind::NodeValue(_)) => return Err(not_a_property(field, "a node")),
            Some(Kind::RelationshipValue(_)) => {
                return Err(not_a_property(field, "a relationship"));
            }
            Some(Kind::PathValue(_)) => return Err(not_a_property(field, "a path")),
        })
    }
}

/// INVALID_ARGUMENT for a value of a kind properties cannot hold.
pub fn not_a_property(field: &str, what: &str) -> crate::error::GraphError {
    invalid(format!(
        "{field}: {what} is not a property value; {PROPERTY_KINDS}"
    ))
}

/// Checks a property value (from the wire or built by Cypher): finite floats, string sizes,
/// and lists of non-null scalars only.
pub fn check_value(value: &Value, field: &str) -> Result<()> {
    fn scalar(value: &Value, field: &str) -> Result<()> {
        match value {
            Value::Float(f) if !f.is_finite() => Err(invalid(format!(
                "{field}: NaN and infinities are not property values"
            ))),
            Value::String(s) if s.len() > MAX_STRING_BYTES => Err(invalid(format!(
                "{field}: string longer than {MAX_STRING_BYTES} bytes"
            ))),
            _ => Ok(()),
        }
    }
    match value {
        Value::List(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| match item {
                Value::Null => Err(not_a_property(
                    field,
                    &format!("a list holding null (at [{i}])"),
                )),
                Value::List(_) => Err(not_a_property(field, "a list inside a list")),
                _ => scalar(item, &format!("{field}[{i}]")),
            }),
        _ => scalar(value, field),
    }
}

/// Checks a label, relationship type or property key.
pub fn check_name(name: &str, field: &str) -> Result<()> {
    if name.is_empty() {
        return Err(invalid(format!("{field}: must not be empty")));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(invalid(format!(
            "{field}: '{name}' is longer than {MAX_NAME_BYTES} bytes"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field}: {name:?} contains a control character"
        )));
    }
    Ok(())
}

/// Reads a wire property map: names checked, nulls dropped, at most [`MAX_PROPERTIES`].
pub fn properties_from_pb(map: &HashMap<String, pb::Value>, field: &str) -> Result<Properties> {
    if map.len() > MAX_PROPERTIES {
        return Err(invalid(format!(
            "{field}: more than {MAX_PROPERTIES} properties"
        )));
    }
    let mut properties = Properties::new();
    for (key, value) in map {
        check_name(key, &format!("{field} key"))?;
        let value = Value::from_pb(value, &format!("{field}.{key}"))?;
        if value != Value::Null {
            properties.insert(key.clone(), value);
        }
    }
    Ok(properties)
}

/// Converts a property map to the wire form.
pub fn properties_to_pb(properties: &Properties) -> HashMap<String, pb::Value> {
    properties
        .iter()
        .map(|(k, v)| (k.clone(), v.to_pb()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let value = Value::List(vec![Value::Int(1), Value::String("a".into())]);
        assert_eq!(Value::from_pb(&value.to_pb(), "v").unwrap(), value);
        let nan = Value::Float(f64::NAN).to_pb();
        assert!(Value::from_pb(&nan, "v").is_err());
        assert!(check_name("", "label").is_err());
        assert!(check_name("a\nb", "label").is_err());
        assert!(check_name(&"x".repeat(129), "label").is_err());
        assert!(check_name("Person", "label").is_ok());
        assert!(check_value(&Value::String("x".repeat(MAX_STRING_BYTES + 1)), "v").is_err());
        assert!(check_value(&Value::List(vec![Value::Float(f64::INFINITY)]), "v").is_err());
        assert!(check_value(&value, "v").is_ok());
        assert!(check_value(&Value::List(Vec::new()), "v").is_ok());
    }

    #[test]
    fn maps_nested_lists_and_nulls_in_lists_are_not_property_values() {
        let map = || pb::Value {
            kind: Some(Kind::MapValue(pb::ValueMap {
                entries: HashMap::from([("num".into(), Value::Int(1).to_pb())]),
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
                list(vec![Value::Int(1).to_pb(), Value::Null.to_pb()]),
                "null",
            ),
        ];
        for (value, why) in refused {
            let err = Value::from_pb(&value, "properties.maplist").unwrap_err();
            let message = err.to_string();
            assert!(
                matches!(err, crate::error::GraphError::InvalidArgument(_)),
                "{message}"
            );
            assert!(message.contains("properties.maplist"), "{message}");
            assert!(message.contains(why), "{message}");
        }
        let nested = Value::List(vec![Value::List(vec![Value::Int(1)])]);
        assert!(check_value(&nested, "p").is_err());
        assert!(check_value(&Value::List(vec![Value::Null]), "p").is_err());
    }
}
