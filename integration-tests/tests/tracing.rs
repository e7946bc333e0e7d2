//! Tracing across service hops, over real sockets: three gRPC servers, each a `GrpcServer` of
//! the shared runtime, forward one unary call front → middle → back through
//! `chatmesh_runtime::channel::TracedChannel`, the way chatbot → router → backend do. An OTLP
//! collector inside the test receives the spans: one SERVER span per hop and one CLIENT span per
//! call between hops, all in one trace, each the child of the one before it (server → client →
//! server …), named after the gRPC method; the server spans carry the status.
//! Then the real thing: one chat through the chatbot, the router and the graph (started in this
//! process) is one trace, each hop's span descending from the previous hop's.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chatmesh_integration_tests::testing::sleep_service_client::SleepServiceClient;
use chatmesh_integration_tests::testing::sleep_service_server::{SleepService, SleepServiceServer};
use chatmesh_integration_tests::testing::{SleepRequest, SleepResponse};
use chatmesh_runtime::channel::{ClientArgs, TracedChannel, connect_traced};
use chatmesh_runtime::{CancellationToken, GrpcServer, ServerArgs, ServiceInfo};
use chatmesh_test_support::otlp::{self, KIND_CLIENT, KIND_SERVER, ReceivedSpan, TestExport};
use chatmesh_test_support::serve::{Running, loopback_listener};

const SPAN_NAME: &str = "chatmesh.testing.v1.SleepService/Sleep";

/// How long the spans may take to reach the collector before the test fails.
const EXPORT_LIMIT: Duration = Duration::from_secs(20);

fn export() -> &'static TestExport {
    otlp::export_to_collector("tracing-test")
}

/// A hop: forwards `Sleep` to the next hop, or answers when it is the last one.
#[derive(Debug, Clone)]
struct Hop {
    next: Option<SleepServiceClient<TracedChannel>>,
}

#[tonic::async_trait]
impl SleepService for Hop {
    async fn sleep(
        &self,
        request: tonic::Request<SleepRequest>,
    ) -> Result<tonic::Response<SleepResponse>, tonic::Status> {
        match &self.next {
            Some(next) => next.clone().sleep(request.into_inner()).await,
            None => Ok(tonic::Response::new(SleepResponse { slept_millis: 0 })),
        }
    }
}

/// Starts one hop as its own server, forwarding to `next` if given.
async fn start_hop(name: &'static str, next: Option<SocketAddr>) -> Running {
    let info = ServiceInfo {
        name,
        fqn: "chatmesh.testing.v1.SleepService",
        default_port: 0,
        file_descriptor_set: &[],
    };
    let next = next.map(|addr| {
        let channel = connect_traced(&addr.to_string(), &ClientArgs::default()).expect("address");
        SleepServiceClient::new(channel)
    });
    let server = GrpcServer::new(&info, &ServerArgs::for_tests())
        .await
        .expect("server")
        .add_service(SleepServiceServer::new(Hop { next }));
    server.health().set_serving().await;
    let listener = loopback_listener().await;
    let addr = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(server.serve(listener, shutdown.clone()));
    Running {
        addr,
        shutdown,
        task,
    }
}

/// front → middle → back.
async fn start_chain() -> [Running; 3] {
    let back = start_hop("back", None).await;
    let middle = start_hop("middle", Some(back.addr)).await;
    let front = start_hop("front", Some(middle.addr)).await;
    [front, middle, back]
}

/// Ids no other test of this process uses.
fn fresh_ids() -> (String, String) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    let salt = u128::from(std::process::id()) << 96;
    (
        format!("{:032x}", nanos ^ salt),
        format!("{:016x}", (nanos as u64).rotate_left(17) | 1),
    )
}

async fn call_front(front: SocketAddr, traceparent: Option<&str>) {
    let channel = chatmesh_test_support::grpc::channel(front).await;
    let mut request = tonic::Request::new(SleepRequest {
        millis: 0,
        padding: Vec::new(),
    });
    if let Some(value) = traceparent {
        request
            .metadata_mut()
            .insert("traceparent", value.parse().expect("ascii"));
    }
    SleepServiceClient::new(channel)
        .sleep(request)
        .await
        .expect("the chain answers");
}

/// Orders the spans of one chain from the front, checking that each hop is the only child of
/// the one before it, and that the front's parent is `front_parent` ("" for a new trace).
fn chain_from(spans: &[ReceivedSpan], front_parent: &str) -> Vec<ReceivedSpan> {
    let mut chain = Vec::new();
    let mut parent = front_parent.to_owned();
    while let Some(span) = {
        let children: Vec<&ReceivedSpan> = spans
            .iter()
            .filter(|s| s.parent_span_id == parent)
            .collect();
        assert!(
            children.len() <= 1,
            "more than one child of {parent:?}: {spans:#?}"
        );
        children.first().copied()
    } {
        parent = span.span_id.clone();
        chain.push(span.clone());
    }
    chain
}

/// Spans in one chain: three hops and the two calls between them.
const CHAIN_SPANS: usize = 5;

fn assert_hop_spans(chain: &[ReceivedSpan], trace_id: &str) {
    assert_eq!(
        chain.len(),
        CHAIN_SPANS,
        "front → call → middle → call → back: {chain:#?}"
    );
    for (position, span) in chain.iter().enumerate() {
        assert_eq!(span.trace_id, trace_id);
        assert_eq!(span.name, SPAN_NAME);
        assert_eq!(span.service_name, "tracing-test", "{span:?}");
        assert_eq!(
            span.attributes.get("rpc.system").map(String::as_str),
            Some("grpc")
        );
        if position % 2 == 1 {
            // A call: the CLIENT span the next hop's SERVER span hangs off.
            assert_eq!(span.kind, KIND_CLIENT, "{span:?}");
            assert_eq!(
                span.attributes.get("rpc.method").map(String::as_str),
                Some("Sleep"),
                "{span:?}"
            );
            continue;
        }
        assert_eq!(span.kind, KIND_SERVER, "{span:?}");
        assert_eq!(
            span.attributes
                .get("rpc.grpc.status_code")
                .map(String::as_str),
            Some("0"),
            "{span:?}"
        );
    }
}

#[tokio::test]
async fn a_call_with_traceparent_continues_the_callers_trace_across_three_hops() {
    let export = export();
    let hops = start_chain().await;
    let (trace_id, caller_span) = fresh_ids();

    call_front(
        hops[0].addr,
        Some(&format!("00-{trace_id}-{caller_span}-01")),
    )
    .await;

    let spans = export
        .wait_for_trace(&trace_id, CHAIN_SPANS, EXPORT_LIMIT)
        .await;
    let chain = chain_from(&spans, &caller_span);
    assert_hop_spans(&chain, &trace_id);
    assert_eq!(
        spans.len(),
        CHAIN_SPANS,
        "no other span in the trace: {spans:#?}"
    );
    for hop in hops {
        hop.stop().await.expect("clean stop");
    }
}

#[tokio::test]
async fn a_call_without_traceparent_starts_one_trace_shared_by_all_hops() {
    let export = export();
    let hops = start_chain().await;

    call_front(hops[0].addr, None).await;

    // The front started a new trace, so its span is the only root span with this name (the
    // other test's front continues its caller's trace).
    let trace_id = export
        .wait_until(EXPORT_LIMIT, |export| {
            let roots = export.received(|s| s.name == SPAN_NAME && s.parent_span_id.is_empty());
            assert!(roots.len() <= 1, "{roots:#?}");
            roots.first().map(|root| root.trace_id.clone())
        })
        .await;
    let spans = export
        .wait_for_trace(&trace_id, CHAIN_SPANS, EXPORT_LIMIT)
        .await;
    let chain = chain_from(&spans, "");
    assert_hop_spans(&chain, &trace_id);
    for hop in hops {
        hop.stop().await.expect("clean stop");
    }
}

/// The spans from `span` up to the root of its trace (`span` first).
fn ancestry<'a>(span: &'a ReceivedSpan, trace: &'a [ReceivedSpan]) -> Vec<&'a ReceivedSpan> {
    let mut chain = vec![span];
    while let Some(parent) = trace
        .iter()
        .find(|s| s.span_id == chain[chain.len() - 1].parent_span_id)
    {
        assert!(chain.len() <= trace.len(), "a cycle in {trace:#?}");
        chain.push(parent);
    }
    chain
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_chat_is_one_trace_through_chatbot_router_and_backend() {
    use chatmesh_proto::chat::ChatRequest;
    use chatmesh_proto::chat::chat_service_client::ChatServiceClient;

    let export = export();
    let data = tempfile::tempdir().expect("temp dir");
    let [graph, router, chatbot] = start_chat_path(data.path()).await;

    let (trace_id, caller_span) = fresh_ids();
    let mut request = tonic::Request::new(ChatRequest {
        session_id: "tracing".into(),
        message: "Who manages Alan Turing?".into(),
        hints: None,
    });
    request.set_timeout(Duration::from_secs(10));
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-{caller_span}-01")
            .parse()
            .expect("ascii"),
    );
    let channel = chatmesh_test_support::grpc::channel(chatbot.addr).await;
    let answer = ChatServiceClient::new(channel)
        .chat(request)
        .await
        .expect("the chat is answered")
        .into_inner();
    assert!(answer.answer.contains("Grace Hopper"), "{answer:?}");

    // The hops' SERVER spans; each call between hops also has a CLIENT span of the same name.
    let is_chat =
        |s: &ReceivedSpan| s.kind == KIND_SERVER && s.name == "chatmesh.chat.v1.ChatService/Chat";
    let is_route = |s: &ReceivedSpan| {
        s.kind == KIND_SERVER && s.name == "chatmesh.router.v1.RouterService/Route"
    };
    let is_graph = |s: &ReceivedSpan| {
        s.kind == KIND_SERVER && s.name.starts_with("chatmesh.graph.v1.GraphService/")
    };
    let trace = export
        .wait_until(EXPORT_LIMIT, |export| {
            let trace = export.trace(&trace_id);
            let all = trace.iter().any(is_chat)
                && trace.iter().any(is_route)
                && trace.iter().any(is_graph);
            all.then_some(trace)
        })
        .await;
    let one = |pick: &dyn Fn(&ReceivedSpan) -> bool| {
        let found: Vec<&ReceivedSpan> = trace.iter().filter(|s| pick(s)).collect();
        assert_eq!(found.len(), 1, "{trace:#?}");
        found[0]
    };
    let (chat, route) = (one(&is_chat), one(&is_route));
    let backend: Vec<&ReceivedSpan> = trace.iter().filter(|s| is_graph(s)).collect();
    assert_eq!(
        chat.parent_span_id, caller_span,
        "the chat continues the caller's trace"
    );
    for span in [chat, route].into_iter().chain(backend.iter().copied()) {
        assert_eq!(span.kind, KIND_SERVER, "{span:?}");
        assert_eq!(
            span.attributes
                .get("rpc.grpc.status_code")
                .map(String::as_str),
            Some("0"),
            "{span:?}"
        );
    }
    // Each hop's SERVER span is the child of the caller's CLIENT span of the same method.
    for span in [route].into_iter().chain(backend.iter().copied()) {
        let parent = trace
            .iter()
            .find(|s| s.span_id == span.parent_span_id)
            .unwrap_or_else(|| panic!("no parent of {span:?} in {trace:#?}"));
        assert_eq!(parent.kind, KIND_CLIENT, "{parent:?}");
        assert_eq!(parent.name, span.name, "{parent:?}");
    }
    // Workflow steps may sit between the hops; each hop descends from the one before it.
    let route_line = ancestry(route, &trace);
    assert!(
        route_line.iter().any(|s| s.span_id == chat.span_id),
        "the router's span descends from the chatbot's: {trace:#?}"
    );
    for span in backend {
        let backend_line = ancestry(span, &trace);
        assert!(
            backend_line.iter().any(|s| s.span_id == route.span_id),
            "the backend's span descends from the router's: {trace:#?}"
        );
    }
    for running in [chatbot, router, graph] {
        running.stop().await.expect("clean stop");
    }
}

/// Graph, router and chatbot in this process, each SERVING, with data under `data`: the path of
/// a chat the graph answers.
async fn start_chat_path(data: &std::path::Path) -> [Running; 3] {
    use chatmesh_test_support::grpc::wait_serving;
    use chatmesh_test_support::serve::{config, start};

    let graph_dir = data.join("graph").display().to_string();
    let graph = start(
        config(
            &chatmesh_graph::INFO,
            &["--data-dir", &graph_dir, "--seed-demo"],
        ),
        chatmesh_graph::serve_on,
    )
    .await;
    // Only the graph answers this chat; the other backends are never called.
    let nowhere = "http://127.0.0.1:1";
    let router = start(
        config(
            &chatmesh_router::INFO,
            &[
                "--graph-addr",
                &graph.url(),
                "--vector-addr",
                nowhere,
                "--relational-addr",
                nowhere,
            ],
        ),
        chatmesh_router::serve_on,
    )
    .await;
    let chatbot = start(
        config(&chatmesh_chatbot::INFO, &["--router-addr", &router.url()]),
        chatmesh_chatbot::serve_on,
    )
    .await;
    let limit = Duration::from_secs(30);
    wait_serving(graph.addr, chatmesh_graph::INFO.fqn, limit).await;
    wait_serving(router.addr, chatmesh_router::INFO.fqn, limit).await;
    wait_serving(chatbot.addr, chatmesh_chatbot::INFO.fqn, limit).await;

    [graph, router, chatbot]
}
