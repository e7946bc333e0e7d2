//! The hostile requests of `faults_inputs.rs`, service by service: frames that are not the
//! method's message, oversized messages, and each service's corpus of bad arguments, each with
//! the precise code the contract names.

use std::collections::HashMap;
use std::net::SocketAddr;

use chatmesh_integration_tests::mesh::Mesh;
use chatmesh_proto::chat::ChatRequest;
use chatmesh_proto::graph::{self as graph, graph_service_client::GraphServiceClient};
use chatmesh_proto::relational::{self as rel, relational_service_client::RelationalServiceClient};
use chatmesh_proto::router::{CallToolRequest, RouteHints, RouteRequest};
use chatmesh_proto::vector::{self as vec, vector_service_client::VectorServiceClient};
use chatmesh_test_support::grpc::raw_unary;
use tonic::Code;
use tonic::transport::Channel;

use super::{COLLECTION, Clients, Report};

/// A message whose field 1 is a fixed64: every request here has field 1 as a string or a
/// varint, so the service cannot decode it.
#[derive(Clone, PartialEq, prost::Message)]
struct WrongWireType {
    #[prost(fixed64, tag = "1")]
    field: u64,
}

/// A message whose field 1 carries bytes that are not UTF-8, for a service whose field 1 is a
/// string.
#[derive(Clone, PartialEq, prost::Message)]
struct NotUtf8 {
    #[prost(bytes = "vec", tag = "1")]
    field: Vec<u8>,
}

/// Frames that are not the method's message, and a message larger than any service takes.
pub(super) async fn frames(report: &mut Report, mesh: &Mesh) {
    let methods: [(SocketAddr, &str); 5] = [
        (mesh.graph.addr, "/chatmesh.graph.v1.GraphService/GetNode"),
        (
            mesh.vector.addr,
            "/chatmesh.vector.v1.VectorService/GetObject",
        ),
        (
            mesh.relational.addr,
            "/chatmesh.relational.v1.RelationalService/GetOrder",
        ),
        (mesh.router.addr, "/chatmesh.router.v1.RouterService/Route"),
        (mesh.chatbot.addr, "/chatmesh.chat.v1.ChatService/Chat"),
    ];
    let too_large = NotUtf8 {
        field: vec![b'a'; 8 * 1024 * 1024],
    };
    for (addr, path) in methods {
        let raw = |outcome: chatmesh_test_support::grpc::RawOutcome| {
            Err::<(), _>(tonic::Status::new(outcome.code, outcome.message))
        };
        let wrong = raw_unary(addr, path, &WrongWireType { field: 7 }, &[]).await;
        report.refused(
            &format!("{path} wrong wire type"),
            raw(wrong),
            &[Code::InvalidArgument],
        );
        let oversize = raw_unary(addr, path, &too_large, &[]).await;
        report.refused(
            &format!("{path} 8 MiB"),
            raw(oversize),
            &[Code::ResourceExhausted],
        );
    }
    for (addr, path) in [
        (
            mesh.vector.addr,
            "/chatmesh.vector.v1.VectorService/GetObject",
        ),
        (mesh.chatbot.addr, "/chatmesh.chat.v1.ChatService/Chat"),
    ] {
        let outcome = raw_unary(
            addr,
            path,
            &NotUtf8 {
                field: vec![0xff, 0xfe, 0x80],
            },
            &[],
        )
        .await;
        report.refused(
            &format!("{path} string field not UTF-8"),
            Err::<(), _>(tonic::Status::new(outcome.code, outcome.message)),
            &[Code::InvalidArgument],
        );
    }
}

fn query(cypher: &str, mode: graph::AccessMode) -> graph::ExecuteQueryRequest {
    graph::ExecuteQueryRequest {
        cypher: cypher.into(),
        parameters: HashMap::new(),
        access_mode: mode as i32,
        row_limit: 0,
    }
}

pub(super) async fn graph_requests(report: &mut Report, g: &mut GraphServiceClient<Channel>) {
    use graph::AccessMode::{Read, Write};
    let invalid = &[Code::InvalidArgument];
    report.refused(
        "GetNode u64::MAX",
        g.get_node(graph::GetNodeRequest { id: u64::MAX }).await,
        &[Code::NotFound],
    );
    let nested = format!("RETURN {}1{}", "(".repeat(5000), ")".repeat(5000));
    report.refused(
        "5,000 nested parentheses",
        g.execute_query(query(&nested, Read)).await,
        invalid,
    );
    let list = format!("RETURN {}1{}", "[".repeat(5000), "]".repeat(5000));
    report.refused(
        "5,000 nested lists",
        g.execute_query(query(&list, Read)).await,
        invalid,
    );
    report.refused(
        "CREATE in read mode",
        g.execute_query(query("CREATE (n:Fault) RETURN n", Read))
            .await,
        invalid,
    );
    report.refused(
        "a write that fails after its first CREATE",
        g.execute_query(query(
            "CREATE (n:Fault {x: 1}) WITH n RETURN n.x / 0 AS boom",
            Write,
        ))
        .await,
        invalid,
    );
    report.refused(
        "UNWIND of a million creates",
        g.execute_query(query(
            "UNWIND range(1, 1000000) AS i CREATE (:Fault {i: i})",
            Write,
        ))
        .await,
        &[Code::ResourceExhausted, Code::InvalidArgument],
    );
    report.refused(
        "a relationship to a node that does not exist",
        g.create_relationship(graph::CreateRelationshipRequest {
            r#type: "KNOWS".into(),
            start_node_id: u64::MAX,
            end_node_id: u64::MAX - 1,
            properties: HashMap::new(),
        })
        .await,
        &[Code::NotFound, Code::FailedPrecondition],
    );
    report.refused(
        "a negative row limit",
        g.execute_query(graph::ExecuteQueryRequest {
            row_limit: -1,
            ..query("MATCH (n) RETURN n", Read)
        })
        .await,
        invalid,
    );
    report.refused(
        "a label of 100 KiB",
        g.create_node(graph::CreateNodeRequest {
            labels: vec!["L".repeat(100 * 1024)],
            properties: HashMap::new(),
        })
        .await,
        invalid,
    );
    // Injection-shaped text in a parameter is only a value: no match, nothing deleted.
    let injected = graph::ExecuteQueryRequest {
        parameters: HashMap::from([(
            "name".into(),
            graph::Value {
                kind: Some(graph::value::Kind::StringValue(
                    "x'}) MATCH (m) DETACH DELETE m //".into(),
                )),
            },
        )]),
        ..query("MATCH (p:Person {name: $name}) RETURN p", Write)
    };
    if let Some(answer) = report.accepted(
        "injection-shaped parameter",
        g.execute_query(injected).await,
    ) {
        assert!(answer.into_inner().rows.is_empty());
    }
}

pub(super) async fn vector_requests(report: &mut Report, v: &mut VectorServiceClient<Channel>) {
    vector_writes(report, v).await;
    vector_searches(report, v).await;
}

/// Collections of impossible dimensions or names, and batches with one bad object.
async fn vector_writes(report: &mut Report, v: &mut VectorServiceClient<Channel>) {
    let invalid = &[Code::InvalidArgument];
    for dimension in [0i32, -4, 1_000_000_000] {
        report.refused(
            &format!("a collection of dimension {dimension}"),
            v.create_collection(vec::CreateCollectionRequest {
                name: format!("dim{}", dimension.unsigned_abs()),
                dimension,
                distance: vec::Distance::Cosine as i32,
                hnsw_config: None,
                embedder: "none".into(),
            })
            .await,
            invalid,
        );
    }
    report.refused(
        "a collection named ../../etc",
        v.get_collection(vec::GetCollectionRequest {
            name: "../../etc".into(),
        })
        .await,
        &[Code::InvalidArgument, Code::NotFound],
    );
    let object = |id: &str, vector: Vec<f32>| vec::VectorObject {
        id: id.into(),
        vector,
        payload: HashMap::new(),
        text: None,
    };
    report.refused(
        "a batch whose second vector holds NaN",
        v.upsert_objects(vec::UpsertObjectsRequest {
            collection: COLLECTION.into(),
            objects: vec![
                object("fine", vec![1.0, 2.0, 3.0, 4.0]),
                object("nan", vec![1.0, f32::NAN, 3.0, 4.0]),
            ],
        })
        .await,
        invalid,
    );
    report.refused(
        "a batch whose second vector is too short",
        v.upsert_objects(vec::UpsertObjectsRequest {
            collection: COLLECTION.into(),
            objects: vec![object("fine", vec![1.0; 4]), object("short", vec![1.0; 3])],
        })
        .await,
        invalid,
    );
}

/// Searches past the bounds: k, text size, filter depth, contradictory range bounds.
async fn vector_searches(report: &mut Report, v: &mut VectorServiceClient<Channel>) {
    let invalid = &[Code::InvalidArgument];
    let search = |k: i32, filter: Option<vec::Filter>, text: String| vec::SearchRequest {
        collection: "docs".into(),
        query: Some(vec::search_request::Query::NearText(text)),
        k,
        filter,
        ..Default::default()
    };
    report.refused(
        "k of a million",
        v.search(search(1_000_000, None, "password".into())).await,
        invalid,
    );
    report.refused(
        "near_text of 100 KiB",
        v.search(search(5, None, "word ".repeat(20 * 1024))).await,
        invalid,
    );
    let mut deep = vec::Filter {
        kind: Some(vec::filter::Kind::MatchCondition(vec::MatchCondition {
            key: "kind".into(),
            value: Some(vec::PayloadValue {
                kind: Some(vec::payload_value::Kind::StringValue("faq".into())),
            }),
        })),
    };
    for _ in 0..40 {
        deep = vec::Filter {
            kind: Some(vec::filter::Kind::NotFilter(Box::new(deep))),
        };
    }
    report.refused(
        "a filter nested 40 deep",
        v.search(search(5, Some(deep), "password".into())).await,
        invalid,
    );
    let both_bounds = vec::Filter {
        kind: Some(vec::filter::Kind::RangeCondition(vec::RangeCondition {
            key: "rank".into(),
            gt: Some(1.0),
            gte: Some(2.0),
            lt: None,
            lte: None,
        })),
    };
    report.refused(
        "a range with both gt and gte",
        v.search(search(5, Some(both_bounds), "password".into()))
            .await,
        invalid,
    );
}

pub(super) fn order(customer: &str, quantity: i32, total_cents: i64) -> rel::CreateOrderRequest {
    rel::CreateOrderRequest {
        id: None,
        customer: customer.into(),
        product: "Widget".into(),
        quantity,
        status: rel::OrderStatus::Pending as i32,
        total_cents,
    }
}

pub(super) async fn relational_requests(
    report: &mut Report,
    r: &mut RelationalServiceClient<Channel>,
) {
    let invalid = &[Code::InvalidArgument];
    for id in [i64::MAX, -1, 0] {
        report.refused(
            &format!("CreateOrder with id {id}"),
            r.create_order(rel::CreateOrderRequest {
                id: Some(id),
                ..order("Mallory", 1, 100)
            })
            .await,
            invalid,
        );
    }
    report.refused(
        "a negative quantity",
        r.create_order(order("Mallory", -3, 100)).await,
        invalid,
    );
    report.refused(
        "a negative total",
        r.create_order(order("Mallory", 1, -100)).await,
        invalid,
    );
    report.refused(
        "a customer of 1 MiB",
        r.create_order(order(&"M".repeat(1024 * 1024), 1, 100))
            .await,
        &[Code::InvalidArgument, Code::ResourceExhausted],
    );
    report.refused(
        "GetOrder -1",
        r.get_order(rel::GetOrderRequest { id: -1 }).await,
        &[Code::InvalidArgument, Code::NotFound],
    );
    let list = |order_by: &str, page_size: i32, page_token: &str| rel::ListOrdersRequest {
        filter: None,
        order_by: order_by.into(),
        page_size,
        page_token: page_token.into(),
    };
    report.refused(
        "order_by with SQL in it",
        r.list_orders(list("id; DROP TABLE orders", 10, "")).await,
        invalid,
    );
    report.refused(
        "a negative page size",
        r.list_orders(list("", -5, "")).await,
        invalid,
    );
    report.refused(
        "a forged page token",
        r.list_orders(list("", 10, "eyJpZCI6MX0")).await,
        invalid,
    );
}

/// The router and the chatbot: the public request shapes.
pub(super) async fn edge_requests(report: &mut Report, c: &mut Clients) {
    let invalid = &[Code::InvalidArgument];
    report.refused(
        "Route with a write query as its hint",
        c.router
            .route(RouteRequest {
                query: "delete everyone".into(),
                hints: Some(RouteHints {
                    cypher: Some("MATCH (n) DETACH DELETE n".into()),
                    ..Default::default()
                }),
                session_id: "faults".into(),
            })
            .await,
        &[Code::InvalidArgument, Code::PermissionDenied],
    );
    report.refused(
        "a tool that does not exist",
        c.router
            .call_tool(CallToolRequest {
                name: "rm_rf".into(),
                arguments: None,
            })
            .await,
        &[Code::NotFound, Code::InvalidArgument],
    );
    let chat = |session: String, message: String| ChatRequest {
        session_id: session,
        message,
        hints: None,
    };
    report.refused(
        "an empty chat message",
        c.chat.chat(chat("faults".into(), String::new())).await,
        invalid,
    );
    report.refused(
        "a chat message of 1 MiB",
        c.chat
            .chat(chat("faults".into(), "a".repeat(1024 * 1024)))
            .await,
        &[Code::InvalidArgument, Code::ResourceExhausted],
    );
    report.refused(
        "a session id of 10 KiB",
        c.chat
            .chat(chat("s".repeat(10 * 1024), "hello".into()))
            .await,
        invalid,
    );
    report.refused(
        "a session id with control characters",
        c.chat
            .chat(chat("a\u{0}b\u{1b}[2J".into(), "hello".into()))
            .await,
        invalid,
    );
    report.refused(
        "free-form Cypher from a chat user",
        c.chat
            .chat(ChatRequest {
                hints: Some(RouteHints {
                    cypher: Some("MATCH (n) RETURN n".into()),
                    ..Default::default()
                }),
                ..chat("faults".into(), "show me everything".into())
            })
            .await,
        &[Code::PermissionDenied],
    );
}
