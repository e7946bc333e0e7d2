//! Calling the tool registry the way the gRPC API does, and reading what comes back: the
//! helpers the tools tests share.

use chatmesh_proto::json;
use chatmesh_proto::router::{CallToolRequest, CallToolResponse, tool_content};
use chatmesh_router::internals::{CallContext, ToolRegistry};
use serde_json::Value;

use super::Fake;

/// The registry over fresh fake backends, and those backends.
pub(crate) fn registry() -> (ToolRegistry, Fake) {
    let fake = Fake::default();
    (ToolRegistry::new(fake.backends()), fake)
}

/// A `CallTool` request.
pub(crate) fn request(name: &str, arguments: Value) -> CallToolRequest {
    let Value::Object(object) = arguments else {
        panic!("arguments must be an object")
    };
    CallToolRequest {
        name: name.to_owned(),
        arguments: Some(json::to_struct(&object)),
    }
}

/// Calls one tool; a refusal as the gRPC status it becomes.
pub(crate) async fn call(
    registry: &ToolRegistry,
    name: &str,
    arguments: Value,
) -> Result<CallToolResponse, tonic::Status> {
    registry
        .call(&CallContext::default(), request(name, arguments))
        .await
        .map_err(tonic::Status::from)
}

/// The text blocks of a result, joined by newlines.
pub(crate) fn text(response: &CallToolResponse) -> String {
    response
        .content
        .iter()
        .filter_map(|c| match &c.kind {
            Some(tool_content::Kind::Text(t)) => Some(t.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The structured block of a result.
pub(crate) fn structured(response: &CallToolResponse) -> Value {
    response
        .content
        .iter()
        .find_map(|c| match &c.kind {
            Some(tool_content::Kind::Structured(s)) => Some(Value::Object(json::from_struct(s))),
            _ => None,
        })
        .expect("a structured content")
}
