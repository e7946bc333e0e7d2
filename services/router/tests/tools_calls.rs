//! What each tool sends to its backend and what comes back, over recording fake backends:
//! typed requests, texts for people to read, structured results in proto3 JSON.

mod tools_support;

use chatmesh_proto::graph::{AccessMode, Direction, value};
use chatmesh_proto::relational::OrderStatus;
use chatmesh_proto::vector::search_request;
use chatmesh_router::internals::ToolRegistry;
use serde_json::json;
use tonic::Code;
use tools_support::calls::{call, registry, structured, text};
use tools_support::{Call, Fake};

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
