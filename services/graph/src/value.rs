//! Property values and names: the typed values nodes and relationships carry, their
//! conversion from and to the wire `Value`, and the contract's validation rules (name syntax,
//! value kinds, sizes, nesting depth).

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
/// Deepest nesting of lists and maps.
pub const MAX_DEPTH: usize = 32;

/// A property value. `Null` never sits in a property map: writing null removes the key.
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
    /// A list of values.
    List(Vec<Value>),
    /// A map with string keys.
    Map(BTreeMap<String, Value>),
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
            Value::Map(entries) => Kind::MapValue(pb::ValueMap {
                entries: entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_pb()))
                    .collect(),
            }),
        };
        pb::Value { kind: Some(kind) }
    }

    /// Reads a wire value that is to become a property value; `field` names it in errors.
    pub fn from_pb(value: &pb::Value, field: &str) -> Result<Self> {
        Self::from_pb_at(value, field, 0)
    }

    fn from_pb_at(value: &pb::Value, field: &str, depth: usize) -> Result<Self> {
        if depth > MAX_DEPTH {
            return Err(invalid(format!(
                "{field}: lists and maps nest deeper than {MAX_DEPTH}"
            )));
        }
        Ok(match &value.kind {
            None | Some(Kind::NullValue(_)) => Value::Null,
            Some(Kind::BoolValue(b)) => Value::Bool(*b),
            Some(Kind::IntValue(i)) => Value::Int(*i),
            Some(Kind::DoubleValue(f)) => {
                if !f.is_finite() {
                    return Err(invalid(format!(
                        "{field}: NaN and infinities are not property values"
                    )));
                }
                Value::Float(*f)
            }
            Some(Kind::StringValue(s)) => {
                if s.len() > MAX_STRING_BYTES {
                    return Err(invalid(format!(
                        "{field}: string longer than {MAX_STRING_BYTES} bytes"
                    )));
                }
                Value::String(s.clone())
            }
            Some(Kind::ListValue(list)) => Value::List(
                list.values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Self::from_pb_at(v, &format!("{field}[{i}]"), depth + 1))
                    .collect::<Result<_>>()?,
            ),
            Some(Kind::MapValue(map)) => {
                let mut entries = BTreeMap::new();
                for (key, v) in &map.entries {
                    check_name(key, &format!("{field} key"))?;
                    entries.insert(
                        key.clone(),
                        Self::from_pb_at(v, &format!("{field}.{key}"), depth + 1)?,
                    );
                }
                Value::Map(entries)
            }
            Some(Kind::NodeValue(_) | Kind::RelationshipValue(_) | Kind::PathValue(_)) => {
                return Err(invalid(format!(
                    "{field}: nodes, relationships and paths are not property values"
                )));
            }
        })
    }
}

/// Checks a property value built inside the service (Cypher writes): sizes, nesting depth,
/// finite floats and map keys, as [`Value::from_pb`] does for values from the wire.
pub fn check_value(value: &Value, field: &str) -> Result<()> {
    fn walk(value: &Value, field: &str, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(invalid(format!(
                "{field}: lists and maps nest deeper than {MAX_DEPTH}"
            )));
        }
        match value {
            Value::Float(f) if !f.is_finite() => Err(invalid(format!(
                "{field}: NaN and infinities are not property values"
            ))),
            Value::String(s) if s.len() > MAX_STRING_BYTES => Err(invalid(format!(
                "{field}: string longer than {MAX_STRING_BYTES} bytes"
            ))),
            Value::List(items) => items.iter().try_for_each(|v| walk(v, field, depth + 1)),
            Value::Map(entries) => entries.iter().try_for_each(|(k, v)| {
                check_name(k, &format!("{field} key"))?;
                walk(v, field, depth + 1)
            }),
            _ => Ok(()),
        }
    }
    walk(value, field, 0)
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
        let value = Value::List(vec![
            Value::Int(1),
            Value::String("a".into()),
            Value::Map(BTreeMap::from([("k".into(), Value::Bool(true))])),
        ]);
        assert_eq!(Value::from_pb(&value.to_pb(), "v").unwrap(), value);
        let nan = Value::Float(f64::NAN).to_pb();
        assert!(Value::from_pb(&nan, "v").is_err());
        let mut deep = Value::Int(0);
        for _ in 0..=MAX_DEPTH {
            deep = Value::List(vec![deep]);
        }
        assert!(Value::from_pb(&deep.to_pb(), "v").is_err());
        assert!(check_name("", "label").is_err());
        assert!(check_name("a\nb", "label").is_err());
        assert!(check_name(&"x".repeat(129), "label").is_err());
        assert!(check_name("Person", "label").is_ok());
        assert!(check_value(&deep, "v").is_err());
        assert!(check_value(&Value::String("x".repeat(MAX_STRING_BYTES + 1)), "v").is_err());
        assert!(check_value(&value, "v").is_ok());
    }
}
