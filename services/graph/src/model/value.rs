//! Property values and names: the typed values nodes and relationships carry and the contract's
//! validation rules (name syntax, value kinds, sizes). Every layer above checks with these
//! functions, so the rules are written once. As in Neo4j, a property value is a string, integer,
//! float or boolean, or a list of those; maps, nested lists and nulls inside lists are refused.

use std::collections::BTreeMap;

use crate::error::{GraphError, Result, invalid};

/// Longest label, relationship type or property key, in bytes.
pub(crate) const MAX_NAME_BYTES: usize = 128;
/// Most labels on one node.
pub(crate) const MAX_LABELS: usize = 32;
/// Most properties on one node or relationship.
pub(crate) const MAX_PROPERTIES: usize = 1024;
/// Longest string property value, in bytes.
pub(crate) const MAX_STRING_BYTES: usize = 1024 * 1024;

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
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

/// INVALID_ARGUMENT for a value of a kind properties cannot hold.
pub(crate) fn not_a_property(field: &str, what: &str) -> GraphError {
    invalid(format!(
        "{field}: {what} is not a property value; {PROPERTY_KINDS}"
    ))
}

/// Checks a property value (from the wire or built by Cypher): finite floats, string sizes,
/// and lists of non-null scalars only.
pub(crate) fn check_value(value: &Value, field: &str) -> Result<()> {
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

/// Checks a label, relationship type or property key; `field` names it in the error and is
/// formatted only when the check fails.
pub(crate) fn check_name(name: &str, field: impl std::fmt::Display) -> Result<()> {
    if name.is_empty() {
        return Err(invalid(format!("{field}: must not be empty")));
    }
    if name.len() > MAX_NAME_BYTES {
        let start: String = name.chars().take(32).collect();
        return Err(invalid(format!(
            "{field}: '{start}…' is {} bytes, longer than {MAX_NAME_BYTES}",
            name.len()
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field}: {name:?} contains a control character"
        )));
    }
    Ok(())
}

/// Checks a property map's size; its keys with [`check_name`] and values with [`check_value`]
/// are checked as they are read.
pub(crate) fn check_property_count(count: usize, field: &str) -> Result<()> {
    if count > MAX_PROPERTIES {
        return Err(invalid(format!(
            "{field}: more than {MAX_PROPERTIES} properties"
        )));
    }
    Ok(())
}

/// Checks every value of a property map with [`check_value`].
pub(crate) fn check_properties(properties: &Properties) -> Result<()> {
    properties.iter().try_for_each(|(k, v)| check_value(v, k))
}

/// Checks how many labels and properties an entity carries (after a write).
pub(crate) fn check_counts(labels: usize, properties: usize) -> Result<()> {
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
    fn names_and_values_are_checked() {
        assert!(check_name("", "label").is_err());
        assert!(check_name("a\nb", "label").is_err());
        assert!(check_name(&"x".repeat(129), "label").is_err());
        assert!(check_name("Person", "label").is_ok());
        assert!(check_value(&Value::String("x".repeat(MAX_STRING_BYTES + 1)), "v").is_err());
        assert!(check_value(&Value::List(vec![Value::Float(f64::INFINITY)]), "v").is_err());
        let value = Value::List(vec![Value::Int(1), Value::String("a".into())]);
        assert!(check_value(&value, "v").is_ok());
        assert!(check_value(&Value::List(Vec::new()), "v").is_ok());
        let nested = Value::List(vec![Value::List(vec![Value::Int(1)])]);
        assert!(check_value(&nested, "p").is_err());
        assert!(check_value(&Value::List(vec![Value::Null]), "p").is_err());
        assert!(check_property_count(MAX_PROPERTIES + 1, "p").is_err());
    }
}
