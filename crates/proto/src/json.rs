//! JSON ↔ `google.protobuf.Struct` / `Value`, written once for every crate that carries JSON
//! inside protobuf (the chatbot's workflow events, the router's tool arguments, schemas and
//! results).
//!
//! `Struct` numbers are doubles: JSON numbers become doubles on the way in, and whole doubles
//! that a double holds exactly (up to 2^53) become JSON integers on the way out, so `100001`
//! stays an integer through a round trip. NaN and infinities, which JSON cannot carry, become
//! null.

use prost_types::value::Kind;
use serde_json::{Map, Number, Value};

/// Integers up to 2^53 survive a round trip through a double exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A JSON object as a `Struct`.
pub fn to_struct(object: &Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: object
            .iter()
            .map(|(name, v)| (name.clone(), to_value(v)))
            .collect(),
    }
}

/// JSON as a protobuf `Value` (numbers become doubles, as `Struct` requires).
pub fn to_value(value: &Value) -> prost_types::Value {
    let kind = match value {
        Value::Null => Kind::NullValue(prost_types::NullValue::NullValue as i32),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(to_value).collect(),
        }),
        Value::Object(object) => Kind::StructValue(to_struct(object)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A `Struct` as a JSON object.
pub fn from_struct(value: &prost_types::Struct) -> Map<String, Value> {
    value
        .fields
        .iter()
        .map(|(name, v)| (name.clone(), from_value(v)))
        .collect()
}

/// A protobuf `Value` as JSON: whole numbers become JSON integers, NaN and infinities null.
pub fn from_value(value: &prost_types::Value) -> Value {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) => number(*n),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(list)) => Value::Array(list.values.iter().map(from_value).collect()),
        Some(Kind::StructValue(object)) => Value::Object(from_struct(object)),
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER {
        Value::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn struct_round_trip_keeps_integers_integers() {
        let object = json!({"id": 100001, "k": 2.5, "name": "Ada", "on": true, "none": null,
            "list": [1, "a"], "nested": {"x": -3}});
        let Value::Object(object) = object else {
            unreachable!()
        };
        let back = from_struct(&to_struct(&object));
        assert_eq!(back, object);
        assert!(back["id"].is_i64());
    }

    #[test]
    fn non_finite_numbers_become_null() {
        let value = prost_types::Value {
            kind: Some(Kind::NumberValue(f64::NAN)),
        };
        assert_eq!(from_value(&value), Value::Null);
    }
}
