//! Conversions between the JSON the tools speak and the protobuf that carries it:
//! `google.protobuf.Struct` ↔ `serde_json`, and any chatmesh message → its proto3 JSON mapping
//! (the tools' structured results), through the descriptor set compiled into `chatmesh-proto`.

use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, DynamicMessage};
use prost_types::value::Kind;
use serde_json::{Map, Number, Value};

/// Integers up to 2^53 survive a round trip through a double exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A `Struct` as a JSON object.
pub fn struct_to_json(value: &prost_types::Struct) -> Map<String, Value> {
    value
        .fields
        .iter()
        .map(|(name, v)| (name.clone(), value_to_json(v)))
        .collect()
}

/// A protobuf `Value` as JSON. `Struct` numbers are doubles; whole ones become JSON integers so
/// that `100001` stays an integer. NaN and infinities (which JSON cannot carry) become null.
pub fn value_to_json(value: &prost_types::Value) -> Value {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) => number_to_json(*n),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(list)) => {
            Value::Array(list.values.iter().map(value_to_json).collect())
        }
        Some(Kind::StructValue(object)) => Value::Object(struct_to_json(object)),
    }
}

fn number_to_json(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER {
        Value::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// A JSON object as a `Struct`.
pub fn json_to_struct(object: &Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: object
            .iter()
            .map(|(name, v)| (name.clone(), json_to_value(v)))
            .collect(),
    }
}

/// JSON as a protobuf `Value` (numbers become doubles, as `Struct` requires).
pub fn json_to_value(value: &Value) -> prost_types::Value {
    let kind = match value {
        Value::Null => Kind::NullValue(prost_types::NullValue::NullValue as i32),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(json_to_value).collect(),
        }),
        Value::Object(object) => Kind::StructValue(json_to_struct(object)),
    };
    prost_types::Value { kind: Some(kind) }
}

static POOL: LazyLock<Result<DescriptorPool, String>> = LazyLock::new(|| {
    DescriptorPool::decode(chatmesh_proto::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())
});

/// `message` in the proto3 JSON mapping (camelCase names, 64-bit integers as strings, enums
/// by name, default values left out). `full_name` is its protobuf name, e.g.
/// `chatmesh.graph.v1.ExecuteQueryResponse`.
pub fn proto_json<M: prost::Message>(
    message: &M,
    full_name: &str,
) -> Result<Map<String, Value>, String> {
    let pool = POOL.as_ref().map_err(Clone::clone)?;
    let descriptor = pool
        .get_message_by_name(full_name)
        .ok_or_else(|| format!("message {full_name} is not in the descriptor set"))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .map_err(|e| format!("cannot re-read {full_name}: {e}"))?;
    match serde_json::to_value(&dynamic) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(format!("{full_name} became JSON {other}, not an object")),
        Err(e) => Err(format!("cannot write {full_name} as JSON: {e}")),
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
        let back = struct_to_json(&json_to_struct(&object));
        assert_eq!(back, object);
        assert!(back["id"].is_i64());
    }

    #[test]
    fn non_finite_numbers_become_null() {
        let value = prost_types::Value {
            kind: Some(Kind::NumberValue(f64::NAN)),
        };
        assert_eq!(value_to_json(&value), Value::Null);
    }

    #[test]
    fn messages_use_the_proto3_json_mapping() {
        use chatmesh_proto::relational::{GetOrderResponse, Order, OrderStatus};
        let response = GetOrderResponse {
            order: Some(Order {
                id: 100001,
                customer: "Ada Lovelace".into(),
                status: OrderStatus::Paid as i32,
                total_cents: 1999,
                ..Default::default()
            }),
        };
        let object = proto_json(&response, "chatmesh.relational.v1.GetOrderResponse").unwrap();
        assert_eq!(
            Value::Object(object),
            json!({"order": {"id": "100001", "customer": "Ada Lovelace",
                "status": "ORDER_STATUS_PAID", "totalCents": "1999"}})
        );
    }

    #[test]
    fn unknown_message_names_are_reported() {
        let err = proto_json(
            &chatmesh_proto::relational::GetOrderResponse::default(),
            "chatmesh.nope.v1.Missing",
        )
        .unwrap_err();
        assert!(err.contains("chatmesh.nope.v1.Missing"), "{err}");
    }
}
