//! Every hop checks its caller (#18.3, #18.4), over the real mesh: all five services in this
//! process on loopback with the demo data and a peer tokens file (`NAME TOKEN` lines for the
//! chatbot, the router and `admin`); the chatbot and the router send their own token
//! (`--service-token-file`). Users authenticate at the chatbot and at `/mcp` with static
//! tokens (`token-1`, `token-2`), and only `token-2` may send free-form Cypher.
//!
//! What it shows: chats still answer from all three backends through checked hops; a data
//! service refuses a call without a token (UNAUTHENTICATED), a known caller it does not allow
//! (PERMISSION_DENIED naming the caller and the method) and a write from the router, and
//! accepts the router's reads and `admin`'s writes; the router refuses a data service's token;
//! health and reflection answer without credentials; free-form Cypher is refused to `token-1`
//! and answered for `token-2`, on gRPC, on `POST /v1/chat` and on `/mcp`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use chatmesh_proto::chat::chat_service_client::ChatServiceClient;
use chatmesh_proto::chat::{ChatRequest, ChatResponse};
use chatmesh_proto::graph::graph_service_client::GraphServiceClient;
use chatmesh_proto::graph::{self as graph_pb, Value, value::Kind};
use chatmesh_proto::router::router_service_client::RouterServiceClient;
use chatmesh_proto::router::{RouteHints, RouteRequest, Target};
use chatmesh_runtime::auth::BearerToken;
use chatmesh_test_support::grpc::{channel, raw_unary, reflection_services_v1, wait_serving};
use chatmesh_test_support::serve::{Running, config, start};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

const CHATBOT: &str = "chatbot-peer-token-5b0e7c1d";
const ROUTER: &str = "router-peer-token-8f3a2c64";
const ADMIN: &str = "admin-peer-token-2d9b41e7";
/// Users at the edge: `token-1` and `token-2` (only the second may send Cypher).
const USER_1: &str = "user-one-token-6c1f";
const USER_2: &str = "user-two-token-93ab";

struct Mesh {
    graph: Running,
    vector: Running,
    relational: Running,
    router: Running,
    chatbot: Running,
}

/// Writes the peer tokens, the two services' own tokens and the users' tokens to `dir`.
fn write_secrets(dir: &Path) {
    let peers = format!("# who calls whom\nchatbot {CHATBOT}\nrouter {ROUTER}\nadmin {ADMIN}\n");
    std::fs::write(dir.join("peers"), peers).unwrap();
    std::fs::write(dir.join("chatbot.token"), format!("{CHATBOT}\n")).unwrap();
    std::fs::write(dir.join("router.token"), format!("{ROUTER}\n")).unwrap();
    std::fs::write(dir.join("users"), format!("{USER_1}\n{USER_2}\n")).unwrap();
}

async fn start_mesh(secrets: &Path, data: &Path) -> Mesh {
    let file = |name: &str| secrets.join(name).display().to_string();
    let dir = |name: &str| data.join(name).display().to_string();
    let (peers, users) = (file("peers"), file("users"));
    let sqlite = format!("sqlite://{}/chatmesh.db", dir("relational"));
    let checked = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        all.extend(["--peer-tokens-file".to_owned(), peers.clone()]);
        all
    };
    let graph_args = checked(&["--data-dir", &dir("graph"), "--seed-demo"]);
    let graph = start(
        config(&chatmesh_graph::INFO, &args(&graph_args)),
        chatmesh_graph::serve_on,
    )
    .await;
    let vector_args = checked(&["--data-dir", &dir("vector"), "--seed-demo"]);
    let vector = start(
        config(&chatmesh_vector::INFO, &args(&vector_args)),
        chatmesh_vector::serve_on,
    )
    .await;
    let relational_args = checked(&["--database-url", &sqlite, "--seed-demo"]);
    let relational = start(
        config(&chatmesh_relational::INFO, &args(&relational_args)),
        chatmesh_relational::serve_on,
    )
    .await;
    let (g, v, r) = (graph.url(), vector.url(), relational.url());
    let router_token = file("router.token");
    let router_args = checked(&[
        "--graph-addr",
        &g,
        "--vector-addr",
        &v,
        "--relational-addr",
        &r,
        "--service-token-file",
        &router_token,
        "--auth-tokens-file",
        &users,
        "--cypher-hint-principals",
        "token-2",
    ]);
    let router = start(
        config::<chatmesh_router::Config>(&chatmesh_router::INFO, &args(&router_args)),
        chatmesh_router::serve_on,
    )
    .await;
    let (router_url, chatbot_token) = (router.url(), file("chatbot.token"));
    let chatbot = start(
        config::<chatmesh_chatbot::Config>(
            &chatmesh_chatbot::INFO,
            &[
                "--router-addr",
                &router_url,
                "--service-token-file",
                &chatbot_token,
                "--auth-tokens-file",
                &users,
                "--cypher-hint-principals",
                "token-2",
            ],
        ),
        chatmesh_chatbot::serve_on,
    )
    .await;
    let limit = Duration::from_secs(60);
    for (running, info) in [
        (&graph, chatmesh_graph::INFO),
        (&vector, chatmesh_vector::INFO),
        (&relational, chatmesh_relational::INFO),
        (&router, chatmesh_router::INFO),
        (&chatbot, chatmesh_chatbot::INFO),
    ] {
        wait_serving(running.addr, info.fqn, limit).await;
    }
    Mesh {
        graph,
        vector,
        relational,
        router,
        chatbot,
    }
}

/// An interceptor sending `token` (none: no header).
fn bearer(token: Option<&str>) -> BearerToken {
    let secret = token.map(|t| t.parse().unwrap());
    BearerToken::new(secret.as_ref()).unwrap()
}

type Intercepted = InterceptedService<Channel, BearerToken>;

async fn chat_client(addr: SocketAddr, token: &str) -> ChatServiceClient<Intercepted> {
    ChatServiceClient::with_interceptor(channel(addr).await, bearer(Some(token)))
}

async fn graph_client(addr: SocketAddr, token: Option<&str>) -> GraphServiceClient<Intercepted> {
    GraphServiceClient::with_interceptor(channel(addr).await, bearer(token))
}

async fn ask(
    chat: &mut ChatServiceClient<Intercepted>,
    message: &str,
    hints: Option<RouteHints>,
) -> Result<ChatResponse, tonic::Status> {
    let mut request = tonic::Request::new(ChatRequest {
        session_id: "callers".into(),
        message: message.into(),
        hints,
    });
    request.set_timeout(Duration::from_secs(20));
    chat.chat(request).await.map(tonic::Response::into_inner)
}

fn answered(r: &ChatResponse, target: Target) {
    assert!(
        !r.fallback && r.degraded.is_none(),
        "expected an answer from {target:?}: {} {:?}",
        r.answer,
        r.degraded
    );
    assert_eq!(r.target, target as i32, "{r:?}");
}

fn cypher_hint() -> Option<RouteHints> {
    let name = Value {
        kind: Some(Kind::StringValue("Alan Turing".into())),
    };
    Some(RouteHints {
        target: Some(Target::Graph as i32),
        cypher: Some("MATCH (m:Person)-[:MANAGES]->(p:Person {name: $name}) RETURN m.name".into()),
        parameters: HashMap::from([("name".to_owned(), name)]),
        ..RouteHints::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hop_checks_its_caller_and_the_mesh_still_answers() {
    let secrets = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_secrets(secrets.path());
    let mesh = start_mesh(secrets.path(), data.path()).await;

    chats_answer_through_checked_hops(&mesh).await;
    a_data_service_names_who_it_refuses(&mesh).await;
    every_data_service_and_the_router_check(&mesh).await;
    probes_and_reflection_need_no_credentials(&mesh).await;
    free_form_cypher_only_for_named_users(&mesh).await;

    for running in [
        mesh.chatbot,
        mesh.router,
        mesh.relational,
        mesh.vector,
        mesh.graph,
    ] {
        running.stop().await.expect("clean stop");
    }
}

/// chatbot → router → graph | vector | relational, each hop presenting its own token.
async fn chats_answer_through_checked_hops(mesh: &Mesh) {
    let mut chat = chat_client(mesh.chatbot.addr, USER_1).await;
    let r = ask(&mut chat, "Who manages Alan Turing?", None)
        .await
        .unwrap();
    answered(&r, Target::Graph);
    assert!(r.answer.contains("Grace Hopper"), "{}", r.answer);
    let r = ask(&mut chat, "How do I reset my password?", None)
        .await
        .unwrap();
    answered(&r, Target::Vector);
    let r = ask(&mut chat, "What is the status of order 100001?", None)
        .await
        .unwrap();
    answered(&r, Target::Relational);
}

/// The graph: no token, an unknown one, a known caller it does not allow, a write by a reader.
async fn a_data_service_names_who_it_refuses(mesh: &Mesh) {
    let addr = mesh.graph.addr;
    for token in [None, Some("not-a-peer-token-at-all")] {
        let refused = graph_client(addr, token)
            .await
            .get_schema(graph_pb::GetSchemaRequest {})
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    }
    let refused = graph_client(addr, Some(CHATBOT))
        .await
        .get_schema(graph_pb::GetSchemaRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        refused
            .message()
            .starts_with("caller 'chatbot' may not call chatmesh.graph.v1.GraphService/GetSchema"),
        "{}",
        refused.message()
    );

    let mut router = graph_client(addr, Some(ROUTER)).await;
    let schema = router
        .get_schema(graph_pb::GetSchemaRequest {})
        .await
        .expect("the router reads");
    assert!(!schema.into_inner().labels.is_empty());
    let create = graph_pb::CreateNodeRequest {
        labels: vec!["Person".into()],
        properties: HashMap::new(),
    };
    let refused = router.create_node(create.clone()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        refused
            .message()
            .starts_with("caller 'router' may not call chatmesh.graph.v1.GraphService/CreateNode"),
        "{}",
        refused.message()
    );
    let write_query = graph_pb::ExecuteQueryRequest {
        cypher: "CREATE (n:Person {name: 'Mallory'}) RETURN n".into(),
        access_mode: graph_pb::AccessMode::Write as i32,
        ..Default::default()
    };
    let refused = router.execute_query(write_query).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        refused.message().contains("in ACCESS_MODE_WRITE"),
        "{}",
        refused.message()
    );

    let mut admin = graph_client(addr, Some(ADMIN)).await;
    admin.create_node(create).await.expect("admin writes");
}

/// The same refusals on the wire (grpc-status, grpc-message) for each checked service.
async fn every_data_service_and_the_router_check(mesh: &Mesh) {
    let empty = graph_pb::GetSchemaRequest {};
    let cases = [
        (
            mesh.vector.addr,
            "chatmesh.vector.v1.VectorService/ListCollections",
            CHATBOT,
            "chatbot",
        ),
        (
            mesh.relational.addr,
            "chatmesh.relational.v1.RelationalService/GetOrder",
            CHATBOT,
            "chatbot",
        ),
        (
            mesh.router.addr,
            "chatmesh.router.v1.RouterService/ListBackends",
            ROUTER,
            "router",
        ),
    ];
    for (addr, method, stranger, name) in cases {
        let path = format!("/{method}");
        let none = raw_unary(addr, &path, &empty, &[]).await;
        assert_eq!(none.code, Code::Unauthenticated, "{method}: {none:?}");
        let header = format!("Bearer {stranger}");
        let denied = raw_unary(addr, &path, &empty, &[("authorization", &header)]).await;
        assert_eq!(denied.code, Code::PermissionDenied, "{method}: {denied:?}");
        let expected = format!("caller '{name}' may not call {method}");
        assert!(denied.message.starts_with(&expected), "{denied:?}");
    }
    // The router's own callers: the chatbot and admin.
    for token in [CHATBOT, ADMIN] {
        let mut router = RouterServiceClient::with_interceptor(
            channel(mesh.router.addr).await,
            bearer(Some(token)),
        );
        let routed = router
            .route(RouteRequest {
                query: "Who manages Alan Turing?".into(),
                ..RouteRequest::default()
            })
            .await
            .expect("the chatbot and admin call the router");
        assert_eq!(routed.into_inner().target, Target::Graph as i32);
    }
}

/// Health (Kubernetes probes) and reflection (`grpcurl list`) are not the service's own API.
async fn probes_and_reflection_need_no_credentials(mesh: &Mesh) {
    for (running, info) in [
        (&mesh.graph, chatmesh_graph::INFO),
        (&mesh.vector, chatmesh_vector::INFO),
        (&mesh.relational, chatmesh_relational::INFO),
        (&mesh.router, chatmesh_router::INFO),
    ] {
        wait_serving(running.addr, info.fqn, Duration::from_secs(1)).await;
        let services = reflection_services_v1(running.addr)
            .await
            .expect("reflection answers without credentials");
        assert!(services.iter().any(|s| s == info.fqn), "{services:?}");
    }
}

/// `--cypher-hint-principals token-2` at the chatbot (gRPC and JSON) and at `/mcp`.
async fn free_form_cypher_only_for_named_users(mesh: &Mesh) {
    let mut user_1 = chat_client(mesh.chatbot.addr, USER_1).await;
    let refused = ask(&mut user_1, "Who manages Alan Turing?", cypher_hint())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        refused
            .message()
            .contains("'token-1' may not send Cypher hints"),
        "{}",
        refused.message()
    );
    let mut user_2 = chat_client(mesh.chatbot.addr, USER_2).await;
    let r = ask(&mut user_2, "Who manages Alan Turing?", cypher_hint())
        .await
        .unwrap();
    answered(&r, Target::Graph);
    assert_eq!(r.answer, "Grace Hopper manages Alan Turing.");

    let body = r#"{"session_id":"callers-http","message":"Who manages Alan Turing?",
        "hints":{"cypher":"MATCH (n) RETURN n"}}"#;
    let (status, text) = http_post(mesh.chatbot.addr, "/v1/chat", USER_1, None, body).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("--cypher-hint-principals"), "{text}");

    let query = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"graph_query",
        "arguments":{"cypher":"MATCH (p:Person {name: 'Alan Turing'}) RETURN p.name"}}}"#;
    for (user, allowed) in [(USER_1, false), (USER_2, true)] {
        let session = mcp_session(mesh.router.addr, user).await;
        let (status, text) = http_post(mesh.router.addr, "/mcp", user, Some(&session), query).await;
        assert_eq!(status, 200, "{text}");
        if allowed {
            assert!(text.contains("\"isError\":false"), "{text}");
            assert!(text.contains("Alan Turing"), "{text}");
        } else {
            assert!(text.contains("\"isError\":true"), "{text}");
            assert!(
                text.contains("PERMISSION_DENIED: 'token-1' may not call graph_query"),
                "{text}"
            );
        }
    }
}

/// Initializes an MCP session at `/mcp` as `user` and returns its id.
async fn mcp_session(addr: SocketAddr, user: &str) -> String {
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"callers-test","version":"1"}}}"#;
    let (status, headers, text) = post(addr, "/mcp", user, None, init).await;
    assert_eq!(status, 200, "{text}");
    let session = headers["mcp-session-id"].to_str().unwrap().to_owned();
    let ack = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let (status, _, text) = post(addr, "/mcp", user, Some(&session), ack).await;
    assert_eq!(status, 202, "{text}");
    session
}

async fn http_post(
    addr: SocketAddr,
    path: &str,
    token: &str,
    session: Option<&str>,
    body: &str,
) -> (u16, String) {
    let (status, _, text) = post(addr, path, token, session, body).await;
    (status, text)
}

/// One HTTP/1.1 POST with a bearer token (and an MCP session); status, headers and body.
async fn post(
    addr: SocketAddr,
    path: &str,
    token: &str,
    session: Option<&str>,
    body: &str,
) -> (u16, http::HeaderMap, String) {
    use http_body_util::BodyExt;
    let mut sender = chatmesh_test_support::http::http1(addr).await;
    let mut request = http::Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", format!("Bearer {token}"));
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-06-18");
    }
    let request = request
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_owned(),
        )))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    let body = tokio::time::timeout(Duration::from_secs(20), response.into_body().collect())
        .await
        .expect("a whole body")
        .unwrap()
        .to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn args(all: &[String]) -> Vec<&str> {
    all.iter().map(String::as_str).collect()
}
