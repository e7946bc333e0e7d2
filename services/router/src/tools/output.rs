//! What a tool returns: a short text for a model or a person to read, and the backend's response
//! as structured content in the proto3 JSON mapping (camelCase names, 64-bit integers as
//! strings, enums by name, default values left out), through the descriptor set compiled into
//! `chatmesh-proto`.
//!
//! [`output_schema`] describes that structured content as JSON Schema (MCP `outputSchema`),
//! derived from the same descriptors, so the schema cannot drift from what is sent. Messages
//! are `$defs` (the graph's values are recursive); the root is the response message itself.

use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

/// What a tool produced: a text to read and, usually, the backend's response as JSON.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub(crate) text: String,
    pub(crate) structured: Option<Map<String, Value>>,
}

impl Output {
    /// `text`, with `response` (a protobuf message named `full_name`) as the structured part.
    pub(crate) fn new<M: prost::Message>(text: String, response: &M, full_name: &str) -> Self {
        let structured = match proto_json(response, full_name) {
            Ok(object) => Some(object),
            Err(error) => {
                // Only possible if the descriptor set and the generated code disagree: keep the
                // text, which already says what matters.
                tracing::warn!(%error, "tool result without structured content");
                None
            }
        };
        Self { text, structured }
    }
}

static POOL: LazyLock<Result<DescriptorPool, String>> = LazyLock::new(|| {
    DescriptorPool::decode(chatmesh_proto::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())
});

fn message(full_name: &str) -> Result<MessageDescriptor, String> {
    let pool = POOL.as_ref().map_err(Clone::clone)?;
    pool.get_message_by_name(full_name)
        .ok_or_else(|| format!("message {full_name} is not in the descriptor set"))
}

/// `message` in the proto3 JSON mapping. `full_name` is its protobuf name, e.g.
/// `chatmesh.graph.v1.ExecuteQueryResponse`.
pub(crate) fn proto_json<M: prost::Message>(
    message_value: &M,
    full_name: &str,
) -> Result<Map<String, Value>, String> {
    let descriptor = message(full_name)?;
    let dynamic = DynamicMessage::decode(descriptor, message_value.encode_to_vec().as_slice())
        .map_err(|e| format!("cannot re-read {full_name}: {e}"))?;
    match serde_json::to_value(&dynamic) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(format!("{full_name} became JSON {other}, not an object")),
        Err(e) => Err(format!("cannot write {full_name} as JSON: {e}")),
    }
}

/// The JSON Schema of [`proto_json`]'s output for the message `full_name`.
pub(crate) fn output_schema(full_name: &str) -> Result<Map<String, Value>, String> {
    let root = message(full_name)?;
    let mut defs = Map::new();
    let mut schema = message_schema(&root, &mut defs);
    if !defs.is_empty() {
        schema.insert("$defs".into(), Value::Object(defs));
    }
    Ok(schema)
}

fn message_schema(
    descriptor: &MessageDescriptor,
    defs: &mut Map<String, Value>,
) -> Map<String, Value> {
    let properties: Map<String, Value> = descriptor
        .fields()
        .map(|field| {
            let schema = if field.is_map() {
                let value = match field.kind() {
                    Kind::Message(entry) => {
                        kind_schema(&entry.map_entry_value_field().kind(), defs)
                    }
                    _ => json!({}),
                };
                json!({"type": "object", "additionalProperties": value})
            } else if field.is_list() {
                json!({"type": "array", "items": kind_schema(&field.kind(), defs)})
            } else {
                kind_schema(&field.kind(), defs)
            };
            (field.json_name().to_owned(), schema)
        })
        .collect();
    let mut schema = Map::new();
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), Value::Object(properties));
    schema
}

fn kind_schema(kind: &Kind, defs: &mut Map<String, Value>) -> Value {
    match kind {
        Kind::Double | Kind::Float => json!({"type": "number"}),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 | Kind::Uint32 | Kind::Fixed32 => {
            json!({"type": "integer"})
        }
        // proto3 JSON writes 64-bit integers as strings; bytes are base64.
        Kind::Int64
        | Kind::Sint64
        | Kind::Sfixed64
        | Kind::Uint64
        | Kind::Fixed64
        | Kind::String
        | Kind::Bytes => json!({"type": "string"}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Enum(e) if e.full_name() == "google.protobuf.NullValue" => json!({"type": "null"}),
        Kind::Enum(e) => {
            let names: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
            json!({"type": "string", "enum": names})
        }
        Kind::Message(m) => message_ref(m, defs),
    }
}

/// A message field: well-known types as their JSON forms, others by reference.
fn message_ref(descriptor: &MessageDescriptor, defs: &mut Map<String, Value>) -> Value {
    let well_known = match descriptor.full_name() {
        "google.protobuf.Timestamp"
        | "google.protobuf.Duration"
        | "google.protobuf.FieldMask"
        | "google.protobuf.StringValue"
        | "google.protobuf.BytesValue"
        | "google.protobuf.Int64Value"
        | "google.protobuf.UInt64Value" => Some(json!({"type": "string"})),
        "google.protobuf.Struct" | "google.protobuf.Empty" | "google.protobuf.Any" => {
            Some(json!({"type": "object"}))
        }
        "google.protobuf.ListValue" => Some(json!({"type": "array"})),
        "google.protobuf.Value" => Some(json!({})),
        "google.protobuf.DoubleValue" | "google.protobuf.FloatValue" => {
            Some(json!({"type": "number"}))
        }
        "google.protobuf.Int32Value" | "google.protobuf.UInt32Value" => {
            Some(json!({"type": "integer"}))
        }
        "google.protobuf.BoolValue" => Some(json!({"type": "boolean"})),
        _ => None,
    };
    if let Some(schema) = well_known {
        return schema;
    }
    let name = descriptor.full_name().to_owned();
    if !defs.contains_key(&name) {
        // A placeholder first, so a recursive message refers to itself instead of looping.
        defs.insert(name.clone(), Value::Bool(true));
        let schema = message_schema(descriptor, defs);
        defs.insert(name.clone(), Value::Object(schema));
    }
    json!({"$ref": format!("#/$defs/{name}")})
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn output_schemas_follow_the_proto3_json_mapping() {
        let schema = output_schema("chatmesh.relational.v1.GetOrderResponse").unwrap();
        assert_eq!(schema["type"], "object");
        assert_eq!(
            schema["properties"]["order"],
            json!({"$ref": "#/$defs/chatmesh.relational.v1.Order"})
        );
        let order = &schema["$defs"]["chatmesh.relational.v1.Order"]["properties"];
        assert_eq!(order["id"], json!({"type": "string"}), "int64 as a string");
        assert_eq!(order["quantity"], json!({"type": "integer"}));
        assert_eq!(order["createTime"], json!({"type": "string"}));
        assert_eq!(order["status"]["enum"][2], "ORDER_STATUS_PAID");
        // Recursive graph values refer to their definitions instead of looping.
        let query = output_schema("chatmesh.graph.v1.ExecuteQueryResponse").unwrap();
        assert!(query["$defs"]["chatmesh.graph.v1.Value"].is_object());
    }
}
