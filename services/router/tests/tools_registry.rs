//! The tool registry over recording fake backends: what `ListTools` lists and how it pages,
//! which arguments `CallTool` refuses (INVALID_ARGUMENT naming the argument, before any backend
//! call), which backend request each tool sends, and how results and backend failures come back.

mod tools_support;

use chatmesh_proto::graph::{AccessMode, Direction, value};
use chatmesh_proto::json;
use chatmesh_proto::relational::OrderStatus;
use chatmesh_proto::router::{CallToolRequest, CallToolResponse, ListToolsRequest, tool_content};
use chatmesh_proto::vector::search_request;
use chatmesh_router::internals::CallContext;
use chatmesh_router::internals::ToolRegistry;
use serde_json::{Value, json};
use tonic::Code;
use tools_support::{Call, Fake};

const TOOL_NAMES: [&str; 6] = [
    "get_order",
    "graph_neighbors",
    "graph_query",
    "graph_shortest_path",
    "list_orders",
    "vector_search",
];

fn registry() -> (ToolRegistry, Fake) {
    let fake = Fake::default();
    (ToolRegistry::new(fake.backends()), fake)
}

fn request(name: &str, arguments: Value) -> CallToolRequest {
    let Value::Object(object) = arguments else {
        panic!("arguments must be an object")
    };
    CallToolRequest {
        name: name.to_owned(),
        arguments: Some(json::to_struct(&object)),
    }
}

async fn call(
    registry: &ToolRegistry,
    name: &str,
    arguments: Value,
) -> Result<CallToolResponse, tonic::Status> {
    registry
        .call(&CallContext::default(), request(name, arguments))
        .await
        .map_err(tonic::Status::from)
}

fn text(response: &CallToolResponse) -> String {
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

fn structured(response: &CallToolResponse) -> Value {
    response
        .content
        .iter()
        .find_map(|c| match &c.kind {
            Some(tool_content::Kind::Structured(s)) => Some(Value::Object(json::from_struct(s))),
            _ => None,
        })
        .expect("a structured content")
}

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

#[tokio::test]
async fn arguments_breaking_the_schema_are_refused_before_any_backend_call() {
    let (registry, fake) = registry();
    let cases = [
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
    ];
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

#[tokio::test]
async fn get_order_returns_text_and_the_order_as_proto3_json() {
    let (registry, fake) = registry();
    let response = call(&registry, "get_order", json!({"order_id": 100001}))
        .await
        .unwrap();
    assert!(!response.is_error);
    assert!(
        text(&response).starts_with(
            "order 100001: Ada Lovelace ordered 1 x 4k monitor, status paid, total 389.00"
        ),
        "{}",
        text(&response)
    );
    let order = &structured(&response)["order"];
    assert_eq!(order["id"], "100001");
    assert_eq!(order["status"], "ORDER_STATUS_PAID");
    assert_eq!(order["totalCents"], "38900");
    assert_eq!(fake.calls().len(), 1);
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
async fn graph_query_runs_read_only_with_typed_parameters() {
    let (registry, fake) = registry();
    let response = call(
        &registry,
        "graph_query",
        json!({"cypher": "MATCH (m)-[:MANAGES]->(n {name: $name}) RETURN m.name, n",
               "parameters": {"name": "Grace Hopper", "age": 40, "ratio": 0.5}}),
    )
    .await
    .unwrap();
    assert!(!response.is_error);
    assert_eq!(
        text(&response),
        "1 row:\n- m.name = Ada Lovelace, n = Grace Hopper [Person] (node 2)"
    );
    assert_eq!(structured(&response)["columns"], json!(["m.name", "n"]));
    let calls = fake.calls();
    let [Call::Query(sent)] = calls.as_slice() else {
        panic!("one query: {calls:?}")
    };
    assert_eq!(sent.access_mode, AccessMode::Read as i32);
    assert_eq!(sent.row_limit, 100);
    assert_eq!(sent.parameters["age"].kind, Some(value::Kind::IntValue(40)));
    assert_eq!(
        sent.parameters["ratio"].kind,
        Some(value::Kind::DoubleValue(0.5))
    );
}

#[tokio::test]
async fn graph_neighbors_resolves_a_name_then_lists() {
    let (registry, fake) = registry();
    let response = call(
        &registry,
        "graph_neighbors",
        json!({"node": "Ada Lovelace", "direction": "outgoing", "relationship_types": ["MANAGES"], "max_depth": 2}),
    )
    .await
    .unwrap();
    assert!(!response.is_error, "{}", text(&response));
    assert_eq!(
        text(&response),
        "1 neighbour of Ada Lovelace (node 1) within 2 hops:\n\
         - Grace Hopper [Person] (node 2), depth 1, via (node 1)-[:MANAGES]->(node 2)"
    );
    let calls = fake.calls();
    let [Call::Query(lookup), Call::Neighbors(sent)] = calls.as_slice() else {
        panic!("a lookup, then the listing: {calls:?}")
    };
    assert_eq!(lookup.access_mode, AccessMode::Read as i32);
    assert_eq!(sent.node_id, 1);
    assert_eq!(sent.direction, Direction::Outgoing as i32);
    assert_eq!(sent.relationship_types, ["MANAGES"]);
    assert_eq!((sent.min_depth, sent.max_depth, sent.limit), (1, 2, 100));
}

#[tokio::test]
async fn graph_neighbors_by_id_skips_the_lookup() {
    let (registry, fake) = registry();
    let response = call(&registry, "graph_neighbors", json!({"node": 1}))
        .await
        .unwrap();
    assert!(!response.is_error);
    assert!(matches!(fake.calls().as_slice(), [Call::Neighbors(r)] if r.node_id == 1));
    let response = call(&registry, "graph_neighbors", json!({"node": 99}))
        .await
        .unwrap();
    assert!(response.is_error);
    assert_eq!(
        text(&response),
        "the graph service answered NOT_FOUND: node 99 does not exist"
    );
}

#[tokio::test]
async fn ambiguous_or_unknown_names_are_tool_errors_that_say_what_to_do() {
    let (registry, fake) = registry();
    let response = call(&registry, "graph_neighbors", json!({"node": "Sam"}))
        .await
        .unwrap();
    assert!(response.is_error);
    assert_eq!(
        text(&response),
        "2 nodes are named \"Sam\" (ids 7, 8); pass `node` as one of these ids or give a label"
    );
    let response = call(
        &registry,
        "graph_neighbors",
        json!({"node": "Sam", "label": "Team"}),
    )
    .await
    .unwrap();
    assert!(!response.is_error, "{}", text(&response));
    assert!(matches!(fake.calls().last(), Some(Call::Neighbors(r)) if r.node_id == 8));
    let response = call(
        &registry,
        "graph_shortest_path",
        json!({"from": "Nobody", "to": 1}),
    )
    .await
    .unwrap();
    assert!(response.is_error);
    assert!(
        text(&response).starts_with("no node is named \"Nobody\""),
        "{}",
        text(&response)
    );
}

#[tokio::test]
async fn graph_shortest_path_connects_two_named_nodes() {
    let (registry, fake) = registry();
    let response = call(
        &registry,
        "graph_shortest_path",
        json!({"from": "Ada Lovelace", "to": "Grace Hopper"}),
    )
    .await
    .unwrap();
    assert!(!response.is_error, "{}", text(&response));
    assert_eq!(
        text(&response),
        "Shortest path from Ada Lovelace (node 1) to Grace Hopper (node 2), 1 hop: \
         Ada Lovelace -[:MANAGES]-> Grace Hopper"
    );
    assert_eq!(structured(&response)["hopCount"], 1);
    let Some(Call::ShortestPath(sent)) = fake.calls().last().cloned() else {
        panic!("a path request")
    };
    assert_eq!(
        (sent.source_node_id, sent.target_node_id, sent.max_depth),
        (1, 2, 15)
    );
}

#[tokio::test]
async fn vector_search_by_text_or_vector_with_a_payload_filter() {
    let (registry, fake) = registry();
    let response = call(
        &registry,
        "vector_search",
        json!({"text": "cluster access", "k": 2, "filter": {"team": "Platform"}}),
    )
    .await
    .unwrap();
    assert!(!response.is_error);
    assert_eq!(
        text(&response),
        "2 hits in docs, best first:\n1. doc-001 (score 0.900) [team=Platform]: document 1\n\
         2. doc-002 (score 0.800) [team=Platform]: document 2"
    );
    assert_eq!(structured(&response)["hits"][0]["id"], "doc-001");
    let Some(Call::Search(sent)) = fake.calls().last().cloned() else {
        panic!("a search")
    };
    assert_eq!(sent.collection, "docs");
    assert_eq!(sent.k, 2);
    assert!(sent.include_payload && !sent.include_vector);
    assert_eq!(
        sent.query,
        Some(search_request::Query::NearText("cluster access".into()))
    );
    assert!(sent.filter.is_some());

    let response = call(
        &registry,
        "vector_search",
        json!({"vector": [0.1, 0.2, 0.3], "include_vectors": true}),
    )
    .await
    .unwrap();
    assert!(!response.is_error);
    let Some(Call::Search(sent)) = fake.calls().last().cloned() else {
        panic!("a search")
    };
    assert!(sent.include_vector);
    assert_eq!(sent.k, 5);
    let Some(search_request::Query::NearVector(near)) = sent.query else {
        panic!("near a vector")
    };
    assert_eq!(near.vector, [0.1f32, 0.2, 0.3]);

    let response = call(
        &registry,
        "vector_search",
        json!({"text": "x", "collection": "nope"}),
    )
    .await
    .unwrap();
    assert!(response.is_error);
    assert!(text(&response).contains("NOT_FOUND"), "{}", text(&response));
}

#[tokio::test]
async fn list_orders_sends_the_filter_and_reports_totals() {
    let (registry, fake) = registry();
    let response = call(
        &registry,
        "list_orders",
        json!({"customer": "Grace Hopper", "statuses": ["shipped", "paid"], "order_by": "total_cents desc"}),
    )
    .await
    .unwrap();
    assert!(!response.is_error);
    assert!(
        text(&response)
            .starts_with("1 order on this page, 1 matching in all:\n- order 100002: Grace Hopper"),
        "{}",
        text(&response)
    );
    assert_eq!(structured(&response)["totalSize"], "1");
    let Some(Call::ListOrders(sent)) = fake.calls().last().cloned() else {
        panic!("a listing")
    };
    let filter = sent.filter.unwrap();
    assert_eq!(filter.customer, "Grace Hopper");
    assert_eq!(
        filter.statuses,
        [OrderStatus::Shipped as i32, OrderStatus::Paid as i32]
    );
    assert_eq!(sent.order_by, "total_cents desc");
    assert_eq!(sent.page_size, 20);
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

#[tokio::test]
async fn route_routes_a_question_and_says_why() {
    use chatmesh_router::internals::{Classifier, Rules};
    let fake = Fake::default();
    let registry = ToolRegistry::new(fake.backends()).with_router(std::sync::Arc::new(
        Classifier::new(Rules::built_in(), None),
    ));
    let names: Vec<String> = registry.tools().into_iter().map(|t| t.name).collect();
    assert_eq!(names.iter().filter(|n| *n == "route").count(), 1);
    assert!(names.is_sorted());

    let response = call(
        &registry,
        "route",
        json!({"query": "what is the status of order 100002?"}),
    )
    .await
    .unwrap();
    assert!(!response.is_error, "{}", text(&response));
    assert!(
        text(&response).starts_with("Answered by the relational service, by rule "),
        "{}",
        text(&response)
    );
    assert!(
        text(&response).contains("order 100002: Grace Hopper"),
        "{}",
        text(&response)
    );
    assert_eq!(structured(&response)["target"], "TARGET_RELATIONAL");
    assert!(matches!(fake.calls().last(), Some(Call::GetOrder(r)) if r.id == 100002));

    let response = call(
        &registry,
        "route",
        json!({"query": "anything", "target": "vector"}),
    )
    .await
    .unwrap();
    assert!(
        text(&response).starts_with("Answered by the vector service, as asked"),
        "{}",
        text(&response)
    );

    let status = call(&registry, "route", json!({"query": "x", "target": "sql"}))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("argument `target` must be one of"),
        "{}",
        status.message()
    );
}
