//! The tool registry over recording fake backends: what `ListTools` lists and how it pages,
//! which arguments `CallTool` refuses (INVALID_ARGUMENT naming the argument, before any backend
//! call), and how backend failures come back. What each tool sends and returns is
//! `tools_calls.rs`.

mod tools_support;

use chatmesh_proto::json;
use chatmesh_proto::router::{CallToolRequest, ListToolsRequest};
use chatmesh_router::internals::CallContext;
use serde_json::{Value, json};
use tonic::Code;
use tools_support::calls::{call, registry, structured, text};

const TOOL_NAMES: [&str; 6] = [
    "get_order",
    "graph_neighbors",
    "graph_query",
    "graph_shortest_path",
    "list_orders",
    "vector_search",
];

#[test]
fn lists_every_tool_in_name_order_with_an_object_schema() {
    let (registry, _) = registry();
    let tools = registry.tools();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, TOOL_NAMES);
    for tool in &tools {
        let schema = Value::Object(json::from_struct(tool.input_schema.as_ref().unwrap()));
        assert_eq!(schema["type"], "object", "{}", tool.name);
        assert!(schema["properties"].is_object(), "{}", tool.name);
        assert!(!tool.description.is_empty(), "{}", tool.name);
    }
    // Schema numbers survive the trip through google.protobuf.Struct as integers.
    let get_order = &tools[0];
    let schema = Value::Object(json::from_struct(get_order.input_schema.as_ref().unwrap()));
    assert_eq!(schema["properties"]["order_id"]["minimum"], json!(1));
    assert_eq!(schema["required"], json!(["order_id"]));
}

#[test]
fn list_tools_pages_through_every_tool_once() {
    let (registry, _) = registry();
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = registry
            .list(&ListToolsRequest {
                page_size: 4,
                page_token: page_token.clone(),
            })
            .unwrap();
        assert!(page.tools.len() <= 4);
        seen.extend(page.tools.into_iter().map(|t| t.name));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen, TOOL_NAMES);
    let all = registry.list(&ListToolsRequest::default()).unwrap();
    assert_eq!(all.tools.len(), TOOL_NAMES.len());
    assert!(all.next_page_token.is_empty());
}

#[test]
fn list_tools_refuses_negative_sizes_and_foreign_tokens() {
    let (registry, _) = registry();
    for (request, expected) in [
        (
            ListToolsRequest {
                page_size: -1,
                page_token: String::new(),
            },
            "page_size must not be negative",
        ),
        (
            ListToolsRequest {
                page_size: 0,
                page_token: "garbage".into(),
            },
            "page_token \"garbage\" is not one this service issued",
        ),
    ] {
        let status = tonic::Status::from(registry.list(&request).unwrap_err());
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains(expected), "{}", status.message());
    }
}

#[tokio::test]
async fn an_unknown_tool_is_not_found_and_names_the_tools() {
    let (registry, fake) = registry();
    let status = call(&registry, "drop_tables", json!({})).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(
        status.message().contains("\"drop_tables\""),
        "{}",
        status.message()
    );
    assert!(
        status.message().contains("get_order, graph_neighbors"),
        "{}",
        status.message()
    );
    assert!(fake.calls().is_empty());
}

/// Calls each case and asserts INVALID_ARGUMENT naming the tool and containing the expected
/// text, with no backend called.
async fn assert_refused(cases: &[(&str, Value, &str)]) {
    let (registry, fake) = registry();
    for (tool, arguments, expected) in cases {
        let status = call(&registry, tool, arguments.clone()).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{tool} {arguments}");
        assert!(
            status
                .message()
                .starts_with(&format!("invalid arguments for tool \"{tool}\": ")),
            "{}",
            status.message()
        );
        assert!(
            status.message().contains(expected),
            "{tool} {arguments}: {:?} does not contain {expected:?}",
            status.message()
        );
    }
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

/// The graph tools' arguments.
#[tokio::test]
async fn graph_arguments_breaking_the_schema_are_refused() {
    assert_refused(&[
        (
            "graph_query",
            json!({"cypher": ""}),
            "argument `cypher` must not be empty",
        ),
        (
            "graph_query",
            json!({"cypher": "MATCH (n) RETURN n", "row_limit": 10001}),
            "argument `row_limit` must be at most 10000",
        ),
        (
            "graph_query",
            json!({"cypher": "RETURN 1", "parameters": [1]}),
            "argument `parameters` must be an object, not an array",
        ),
        (
            "graph_neighbors",
            json!({"node": true}),
            "argument `node` must be an integer or a string, not a boolean",
        ),
        (
            "graph_neighbors",
            json!({"node": 1, "direction": "up"}),
            "argument `direction` must be one of \"outgoing\", \"incoming\", \"both\"",
        ),
        (
            "graph_neighbors",
            json!({"node": 1, "max_depth": 11}),
            "argument `max_depth` must be at most 10",
        ),
        (
            "graph_neighbors",
            json!({"node": 1, "relationship_types": ["MANAGES", 3]}),
            "argument `relationship_types[1]` must be a string, not an integer",
        ),
        (
            "graph_shortest_path",
            json!({"from": 1}),
            "argument `to` is required",
        ),
    ])
    .await;
}

/// The order and search tools' arguments.
#[tokio::test]
async fn order_and_search_arguments_breaking_the_schema_are_refused() {
    assert_refused(&[
        ("get_order", json!({}), "argument `order_id` is required"),
        (
            "get_order",
            json!({"order_id": "100001"}),
            "argument `order_id` must be an integer, not a string",
        ),
        (
            "get_order",
            json!({"order_id": 0}),
            "argument `order_id` must be at least 1",
        ),
        (
            "get_order",
            json!({"order_id": 1.5}),
            "argument `order_id` must be an integer, not a number",
        ),
        (
            "get_order",
            json!({"order_id": 1, "id": 2}),
            "argument `id` is not a known argument (known: order_id)",
        ),
        (
            "vector_search",
            json!({}),
            "exactly one of `text`, `vector` is required",
        ),
        (
            "vector_search",
            json!({"text": "a", "vector": [1]}),
            "only one of `text`, `vector` may be given",
        ),
        (
            "vector_search",
            json!({"text": "a", "k": 0}),
            "argument `k` must be at least 1",
        ),
        (
            "vector_search",
            json!({"vector": ["a"]}),
            "argument `vector[0]` must be a number, not a string",
        ),
        (
            "vector_search",
            json!({"text": "a", "filter": {"team": ["x"]}}),
            "argument `filter.team` must be a string or a number or a boolean, not an array",
        ),
        (
            "list_orders",
            json!({"statuses": ["lost"]}),
            "argument `statuses[0]` must be one of \"pending\", \"paid\"",
        ),
        (
            "list_orders",
            json!({"page_size": 501}),
            "argument `page_size` must be at most 500",
        ),
    ])
    .await;
}

#[tokio::test]
async fn a_backend_failure_is_an_in_band_tool_error_with_its_status_code() {
    let (registry, _) = registry();
    let response = call(&registry, "get_order", json!({"order_id": 5}))
        .await
        .unwrap();
    assert!(response.is_error);
    assert_eq!(
        text(&response),
        "the relational service answered NOT_FOUND: order 5 does not exist"
    );
    let response = call(&registry, "graph_query", json!({"cypher": "CREATE (n)"}))
        .await
        .unwrap();
    assert!(response.is_error);
    assert!(
        text(&response).contains("INVALID_ARGUMENT"),
        "{}",
        text(&response)
    );
}

#[tokio::test]
async fn missing_arguments_struct_reads_as_an_empty_object() {
    let (registry, _) = registry();
    let response = registry
        .call(
            &CallContext::default(),
            CallToolRequest {
                name: "list_orders".into(),
                arguments: None,
            },
        )
        .await
        .unwrap();
    assert!(!response.is_error);
    assert_eq!(structured(&response)["totalSize"], "2");
}
