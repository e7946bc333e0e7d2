//! `ListTools` and `CallTool` over real sockets: the router in-process, the three real backend
//! binaries with their demo data as child processes. Every tool answers from the demo
//! organisation; refused arguments and unknown tools get their gRPC codes.

mod common;

use chatmesh_proto::json;
use chatmesh_proto::router::router_service_client::RouterServiceClient;
use chatmesh_proto::router::{CallToolRequest, CallToolResponse, ListToolsRequest, tool_content};
use common::{BackendProcess, Router, free_port};
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

struct Mesh {
    router: Router,
    _backends: Vec<BackendProcess>,
    _data: tempfile::TempDir,
}

async fn mesh() -> Mesh {
    let data = tempfile::tempdir().unwrap();
    let mut backends = Vec::new();
    for name in ["graph", "vector", "relational"] {
        backends.push(BackendProcess::start(name, free_port("127.0.0.1"), data.path()).await);
    }
    let router = Router::start(&[
        "--graph-addr",
        &backends[0].addr,
        "--vector-addr",
        &backends[1].addr,
        "--relational-addr",
        &backends[2].addr,
    ])
    .await;
    Mesh {
        router,
        _backends: backends,
        _data: data,
    }
}

async fn call(
    client: &mut RouterServiceClient<Channel>,
    name: &str,
    arguments: Value,
) -> Result<CallToolResponse, tonic::Status> {
    let Value::Object(arguments) = arguments else {
        panic!("an object")
    };
    client
        .call_tool(CallToolRequest {
            name: name.to_owned(),
            arguments: Some(json::to_struct(&arguments)),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The text and structured parts of a successful result.
fn parts(response: &CallToolResponse) -> (String, Value) {
    let mut text = String::new();
    let mut structured = Value::Null;
    for content in &response.content {
        match &content.kind {
            Some(tool_content::Kind::Text(t)) => text.push_str(t),
            Some(tool_content::Kind::Structured(s)) => {
                structured = Value::Object(json::from_struct(s));
            }
            None => {}
        }
    }
    assert!(!response.is_error, "{text}");
    (text, structured)
}

fn node_names(nodes: &Value) -> Vec<String> {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            n["properties"]["name"]["stringValue"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn every_tool_answers_from_the_demo_data_over_grpc() {
    let mesh = mesh().await;
    let mut client = mesh.router.client().await;
    let listed = client
        .list_tools(ListToolsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = listed.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "get_order",
            "graph_neighbors",
            "graph_query",
            "graph_shortest_path",
            "list_orders",
            "route",
            "vector_search"
        ]
    );

    order_tools(&mut client).await;
    graph_tools(&mut client).await;
    search_and_route(&mut client).await;
}

/// The text of a result.
fn refused_text(response: &CallToolResponse) -> String {
    response
        .content
        .iter()
        .filter_map(|c| match &c.kind {
            Some(tool_content::Kind::Text(t)) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// `get_order` and `list_orders` on the demo orders.
async fn order_tools(client: &mut RouterServiceClient<Channel>) {
    let (text, order) = parts(
        &call(client, "get_order", json!({"order_id": 100001}))
            .await
            .unwrap(),
    );
    assert_eq!(order["order"]["customer"], "Ada Lovelace");
    assert!(text.starts_with("order 100001: Ada Lovelace"), "{text}");

    let (_, listing) = parts(
        &call(client, "list_orders", json!({"customer": "Grace Hopper"}))
            .await
            .unwrap(),
    );
    let customers: Vec<&str> = listing["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["customer"].as_str().unwrap())
        .collect();
    assert!(!customers.is_empty() && customers.iter().all(|c| *c == "Grace Hopper"));
}

/// The three graph tools on the demo organisation.
async fn graph_tools(client: &mut RouterServiceClient<Channel>) {
    let (_, rows) = parts(
        &call(
            client,
            "graph_query",
            json!({"cypher": "MATCH (m:Person)-[:MANAGES]->(p:Person {name: $name}) RETURN m.name",
                   "parameters": {"name": "Ken Thompson"}}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        rows["rows"],
        json!([{"values": [{"stringValue": "Alan Turing"}]}])
    );

    let (_, neighbors) = parts(
        &call(
            client,
            "graph_neighbors",
            json!({"node": "Barbara Liskov", "direction": "outgoing", "relationship_types": ["MANAGES"]}),
        )
        .await
        .unwrap(),
    );
    let reached: Vec<Value> = neighbors["neighbors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node"].clone())
        .collect();
    assert_eq!(node_names(&Value::Array(reached)), ["Linus Torvalds"]);

    let (text, path) = parts(
        &call(
            client,
            "graph_shortest_path",
            json!({"from": "Ada Lovelace", "to": "Margaret Hamilton", "direction": "outgoing"}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(path["hopCount"], 3);
    assert_eq!(
        node_names(&path["path"]["nodes"]),
        [
            "Ada Lovelace",
            "Grace Hopper",
            "Alan Turing",
            "Margaret Hamilton"
        ]
    );
    assert!(
        text.ends_with("Alan Turing -[:MANAGES]-> Margaret Hamilton"),
        "{text}"
    );
}

/// `vector_search`, `route`, and a refused write.
async fn search_and_route(client: &mut RouterServiceClient<Channel>) {
    let (_, hits) = parts(
        &call(
            client,
            "vector_search",
            json!({"text": "How do I reset my password?", "k": 2}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(hits["hits"][0]["id"], "doc-007");

    let (text, routed) = parts(
        &call(client, "route", json!({"query": "status of order 100004"}))
            .await
            .unwrap(),
    );
    assert_eq!(routed["relationalOrder"]["order"]["id"], "100004");
    assert!(
        text.starts_with("Answered by the relational service"),
        "{text}"
    );

    // The router only reads: a writing query fails in-band and changes nothing.
    let refused = call(
        client,
        "graph_query",
        json!({"cypher": "CREATE (n:Person {name: 'Eve'})"}),
    )
    .await
    .unwrap();
    assert!(refused.is_error);
    // ... and says the tool is read-only, not which access mode a gRPC caller would send.
    let text = refused_text(&refused);
    assert!(text.contains("graph_query is read-only"), "{text}");
    assert!(!text.contains("ACCESS_MODE_WRITE"), "{text}");
}

#[tokio::test]
async fn bad_calls_get_their_grpc_codes() {
    let mesh = mesh().await;
    let mut client = mesh.router.client().await;
    let status = call(&mut client, "get_order", json!({"order_id": -3}))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "invalid arguments for tool \"get_order\": argument `order_id` must be at least 1"
    );
    let status = call(&mut client, "no_such_tool", json!({}))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = client
        .list_tools(ListToolsRequest {
            page_size: -5,
            page_token: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    // A backend's NOT_FOUND is the tool's failure, reported in-band.
    let response = call(&mut client, "graph_neighbors", json!({"node": 999_999}))
        .await
        .unwrap();
    assert!(response.is_error);
}
