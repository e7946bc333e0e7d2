//! The MCP server with the SDK's own client, over an in-memory byte stream (the stdio framing):
//! initialize, `tools/list` (exactly the registry's tools and schemas), `tools/call` results,
//! and the two kinds of errors MCP distinguishes.

mod tools_support;

use std::sync::Arc;

use chatmesh_proto::json;
use chatmesh_router::internals::McpServer;
use chatmesh_router::internals::ToolRegistry;
use rmcp::model::{CallToolRequestParams, CallToolResult, ErrorCode};
use rmcp::service::{RunningService, ServiceError};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use tools_support::Fake;

async fn connect() -> (RunningService<RoleClient, ()>, ToolRegistry) {
    let registry = ToolRegistry::new(Fake::default().backends());
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = McpServer::new(Arc::new(registry.clone()));
    tokio::spawn(async move {
        let running = server.serve(server_io).await.expect("server initializes");
        let _ = running.waiting().await;
    });
    let client = ().serve(client_io).await.expect("client initializes");
    (client, registry)
}

fn params(name: &str, arguments: Value) -> CallToolRequestParams {
    let Value::Object(arguments) = arguments else {
        panic!("an object")
    };
    let mut params = CallToolRequestParams::new(name.to_owned());
    params.arguments = Some(arguments);
    params
}

fn texts(result: &CallToolResult) -> Vec<String> {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

#[tokio::test]
async fn initialize_reports_the_router_with_tools() {
    let (client, _) = connect().await;
    let info = client.peer_info().expect("server info after initialize");
    assert!(info.capabilities.tools.is_some());
    let server = info.server_info.as_ref().expect("server identity");
    assert_eq!(server.name, "chatmesh-router");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn tools_list_is_the_registry_with_the_same_schemas() {
    let (client, registry) = connect().await;
    let listed = client.list_all_tools().await.unwrap();
    let expected = registry.tools();
    assert_eq!(listed.len(), expected.len());
    for (mcp, grpc) in listed.iter().zip(&expected) {
        assert_eq!(mcp.name, grpc.name);
        assert_eq!(mcp.description.as_deref(), Some(grpc.description.as_str()));
        assert_eq!(
            Value::Object((*mcp.input_schema).clone()),
            Value::Object(json::from_struct(grpc.input_schema.as_ref().unwrap())),
            "{}",
            grpc.name
        );
        let annotations = mcp.annotations.as_ref().expect("annotations");
        assert_eq!(annotations.read_only_hint, Some(true));
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn tools_call_returns_text_and_structured_content() {
    let (client, _) = connect().await;
    let result = client
        .call_tool(params("get_order", json!({"order_id": 100001})))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false));
    let texts = texts(&result);
    assert!(
        texts[0].starts_with("order 100001: Ada Lovelace"),
        "{texts:?}"
    );
    let structured = result
        .structured_content
        .clone()
        .expect("structured content");
    assert_eq!(structured["order"]["id"], "100001");
    // The same JSON also travels as text, for clients that read only text.
    assert_eq!(
        serde_json::from_str::<Value>(&texts[1]).unwrap(),
        structured
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_arguments_are_a_tool_error_the_model_can_read() {
    let (client, _) = connect().await;
    let result = client
        .call_tool(params("get_order", json!({"order_id": "one"})))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    assert_eq!(
        texts(&result),
        [
            "invalid arguments for tool \"get_order\": argument `order_id` must be an integer, not a string"
        ]
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn backend_failures_are_tool_errors_with_the_status_code() {
    let (client, _) = connect().await;
    let result = client
        .call_tool(params("get_order", json!({"order_id": 42})))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    assert_eq!(
        texts(&result),
        ["the relational service answered NOT_FOUND: order 42 does not exist"]
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn an_unknown_tool_is_a_json_rpc_invalid_params_error() {
    let (client, _) = connect().await;
    let error = client
        .call_tool(params("rm_rf", json!({})))
        .await
        .unwrap_err();
    let ServiceError::McpError(error) = error else {
        panic!("a JSON-RPC error, not {error:?}")
    };
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
    assert!(
        error.message.contains("unknown tool \"rm_rf\""),
        "{}",
        error.message
    );
    client.cancel().await.unwrap();
}
