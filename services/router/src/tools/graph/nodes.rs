//! How the graph tools name a node: by its `name` property (people, teams and services are known
//! by name) or by its id. The published schema says a string, so that it declares one type
//! (function-calling APIs refuse `type` lists): a name, or an id written in digits. Callers
//! that send the id as a JSON integer, as the schema once allowed, are still served
//! ([`lenient`]). A name is looked up with one read-only query; no such node, or several, is a
//! tool failure that says what to do instead.

use std::collections::HashMap;

use chatmesh_proto::graph::{self as pb, AccessMode, ExecuteQueryRequest, value::Kind};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::super::validate::{ArgError, describe, is_integer};
use super::Failure;
use crate::backends::{Backends, CallContext};

/// A node as an argument names it: a name, or an id in digits.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub(crate) struct NodeArg(String);

impl JsonSchema for NodeArg {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NodeArg".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "minLength": 1})
    }
}

impl NodeArg {
    /// The id, when the argument is one (digits).
    fn id(&self) -> Option<u64> {
        let digits = !self.0.is_empty() && self.0.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| self.0.parse().unwrap_or(0))
    }

    /// Refuses an id that no node can have.
    pub(crate) fn check(&self, argument: &str) -> Result<(), ArgError> {
        match self.id() {
            Some(0) => Err(ArgError::new(argument, "must be at least 1")),
            _ => Ok(()),
        }
    }
}

/// Accepts a node id sent as a JSON integer (what the schema allowed before it declared one
/// type) by writing it in digits; anything else but a string keeps its old message.
pub(crate) fn lenient(arguments: &mut Map<String, Json>, argument: &str) -> Result<(), ArgError> {
    let Some(value) = arguments.get_mut(argument) else {
        return Ok(());
    };
    match value {
        Json::String(_) => Ok(()),
        Json::Number(_) if is_integer(value) => {
            let id = value.as_i64().unwrap_or_default();
            if id < 1 {
                return Err(ArgError::new(argument, "must be at least 1"));
            }
            *value = Json::String(id.to_string());
            Ok(())
        }
        other => Err(ArgError::new(
            argument,
            format!("must be an integer or a string, not {}", describe(other)),
        )),
    }
}

/// A node the caller named, with what is known of it for the text.
#[derive(Debug)]
pub(crate) struct NodeRef {
    pub(crate) id: u64,
    name: Option<String>,
}

impl NodeRef {
    pub(crate) fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} (node {})", self.id),
            None => format!("node {}", self.id),
        }
    }
}

/// The node `node` (the argument `argument`) names: an id as given, or the one node whose
/// `name` property (and label, when given) matches.
pub(crate) async fn resolve(
    backends: &Backends,
    ctx: &CallContext,
    node: &NodeArg,
    argument: &str,
    label: Option<&str>,
) -> Result<NodeRef, Failure> {
    let name = node.0.as_str();
    if let Some(id) = node.id() {
        return Ok(NodeRef { id, name: None });
    }
    let mut parameters = HashMap::from([("name".to_owned(), string_value(name))]);
    let cypher = match label {
        Some(label) => {
            parameters.insert("label".to_owned(), string_value(label));
            "MATCH (n) WHERE n.name = $name AND $label IN labels(n) RETURN id(n) ORDER BY id(n)"
        }
        None => "MATCH (n) WHERE n.name = $name RETURN id(n) ORDER BY id(n)",
    };
    let request = ExecuteQueryRequest {
        cypher: cypher.to_owned(),
        parameters,
        access_mode: AccessMode::Read as i32,
        row_limit: 10,
    };
    let response = backends
        .graph
        .query(ctx, request)
        .await
        .map_err(|status| Failure::backend("graph", &status))?;
    let ids: Vec<u64> = response
        .rows
        .iter()
        .filter_map(
            |row| match row.values.first().and_then(|v| v.kind.as_ref()) {
                Some(Kind::IntValue(id)) => u64::try_from(*id).ok(),
                _ => None,
            },
        )
        .collect();
    one_node(&ids, name, argument, label)
}

fn one_node(
    ids: &[u64],
    name: &str,
    argument: &str,
    label: Option<&str>,
) -> Result<NodeRef, Failure> {
    let with_label = label
        .map(|l| format!(" with label {l}"))
        .unwrap_or_default();
    match ids {
        [id] => Ok(NodeRef {
            id: *id,
            name: Some(name.to_owned()),
        }),
        [] => Err(Failure::Tool(format!(
            "no node{with_label} is named {name:?}; check the spelling, or find it with \
             graph_query"
        ))),
        several => Err(Failure::Tool(format!(
            "{} nodes{with_label} are named {name:?} (ids {}); pass `{argument}` as one of \
             these ids{}",
            several.len(),
            several
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            if label.is_some() {
                ""
            } else {
                " or give a label"
            }
        ))),
    }
}

pub(crate) fn string_value(s: &str) -> pb::Value {
    pb::Value {
        kind: Some(Kind::StringValue(s.to_owned())),
    }
}

/// A JSON parameter as a Cypher value: whole numbers are integers, other numbers floats.
pub(crate) fn json_to_graph(value: &Json) -> pb::Value {
    let kind = match value {
        Json::Null => Kind::NullValue(prost_types::NullValue::NullValue as i32),
        Json::Bool(b) => Kind::BoolValue(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Kind::IntValue(i),
            None => Kind::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Kind::StringValue(s.clone()),
        Json::Array(items) => Kind::ListValue(pb::ValueList {
            values: items.iter().map(json_to_graph).collect(),
        }),
        Json::Object(object) => Kind::MapValue(pb::ValueMap {
            entries: object
                .iter()
                .map(|(k, v)| (k.clone(), json_to_graph(v)))
                .collect(),
        }),
    };
    pb::Value { kind: Some(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_parameters_become_typed_cypher_values() {
        assert_eq!(json_to_graph(&json!(3)).kind, Some(Kind::IntValue(3)));
        assert_eq!(
            json_to_graph(&json!(2.5)).kind,
            Some(Kind::DoubleValue(2.5))
        );
        let Some(Kind::MapValue(map)) = json_to_graph(&json!({"a": [true]})).kind else {
            panic!("a map")
        };
        assert_eq!(
            map.entries["a"].kind,
            Some(Kind::ListValue(pb::ValueList {
                values: vec![pb::Value {
                    kind: Some(Kind::BoolValue(true))
                }]
            }))
        );
    }

    #[test]
    fn integer_ids_are_still_accepted_and_other_kinds_refused() {
        let Json::Object(mut args) = json!({"node": 7, "from": true, "to": 0}) else {
            unreachable!()
        };
        lenient(&mut args, "node").unwrap();
        assert_eq!(args["node"], "7");
        assert_eq!(
            lenient(&mut args, "from").unwrap_err().to_string(),
            "argument `from` must be an integer or a string, not a boolean"
        );
        assert_eq!(
            lenient(&mut args, "to").unwrap_err().to_string(),
            "argument `to` must be at least 1"
        );
    }
}
