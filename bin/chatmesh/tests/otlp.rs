//! Span export from `chatmesh up` (#19.2): with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the
//! one-process mesh exports spans like the separate binaries do, so one chat shows up at the
//! collector as one trace through the chatbot, the router and a backend, each hop's server span
//! naming its service in the `service.name` attribute, and each hop's call a CLIENT span whose
//! child is the callee's SERVER span (what trace back ends draw service-graph edges from). A
//! turn streamed over HTTP (`POST /v1/chat/stream`, the web page's call) names its trace id in
//! its answer, and that trace holds the router's and the graph's spans.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chatmesh_test_support::otlp::{self, KIND_CLIENT, KIND_SERVER};
use common::{Up, chatmesh, post_json, text};

/// The test process's own spans go to the same collector under this name; the mesh's carry
/// `chatmesh`.
const TEST_SERVICE: &str = "chatmesh-otlp-test";

#[test]
fn up_exports_one_trace_through_chatbot_router_and_a_backend() {
    let export = otlp::export_to_collector(TEST_SERVICE);
    let endpoint = format!("http://{}", export.collector_addr);
    let up = Up::start(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]);
    let output = chatmesh(&[
        "chat",
        "--addr",
        &up.chatbot(),
        "who",
        "manages",
        "Alan Turing?",
    ]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    let streamed = post_json(
        &up.chatbot(),
        "/v1/chat/stream",
        r#"{"session_id":"otlp","message":"Who manages Alan Turing?"}"#,
    );
    let (_, rest) = streamed
        .split_once(r#""trace_id":""#)
        .unwrap_or_else(|| panic!("no trace id in the streamed answer: {streamed}"));
    let streamed_trace = rest[..32].to_owned();
    assert!(
        streamed_trace.chars().all(|c| c.is_ascii_hexdigit()),
        "{streamed}"
    );
    // Stopping flushes the spans still queued.
    let (code, rest) = up.stop();
    assert_eq!(code, Some(0), "{rest}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let trace = runtime.block_on(export.wait_until(Duration::from_secs(20), |export| {
        let mut services: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for span in export.received(|s| s.service_name == "chatmesh" && s.kind == KIND_SERVER) {
            let service = span
                .attributes
                .get("service.name")
                .cloned()
                .unwrap_or_default();
            services.entry(span.trace_id).or_default().insert(service);
        }
        services.into_iter().find(|(_, names)| {
            names.contains("chatbot")
                && names.contains("router")
                && ["graph", "vector", "relational"]
                    .iter()
                    .any(|b| names.contains(*b))
        })
    }));
    let (trace_id, names) = trace;
    assert!(
        names.contains("graph"),
        "the question is the graph's: {names:?}"
    );
    let spans = export.trace(&trace_id);
    for span in &spans {
        assert_eq!(span.service_name, "chatmesh", "{span:?}");
    }
    // Every hop after the first: the callee's SERVER span hangs off a CLIENT span of the same
    // method name, which hangs off the caller's SERVER span's tree.
    for (hop, method) in [
        ("router", "chatmesh.router.v1.RouterService/Route"),
        ("graph", "chatmesh.graph.v1.GraphService/"),
    ] {
        let server = spans
            .iter()
            .find(|s| {
                s.kind == KIND_SERVER
                    && s.attributes.get("service.name").map(String::as_str) == Some(hop)
            })
            .unwrap_or_else(|| panic!("no {hop} server span in {spans:#?}"));
        let parent = spans
            .iter()
            .find(|s| s.span_id == server.parent_span_id)
            .unwrap_or_else(|| {
                panic!("the {hop} server span's parent is not in the trace: {spans:#?}")
            });
        assert_eq!(parent.kind, KIND_CLIENT, "{hop}: {parent:?}");
        assert!(parent.name.starts_with(method), "{hop}: {parent:?}");
        assert_eq!(
            parent.name, server.name,
            "client and server spans share the method name"
        );
        assert_eq!(
            parent.attributes.get("rpc.system").map(String::as_str),
            Some("grpc")
        );
    }

    // The streamed turn's trace: the chatbot's, the router's and the graph's server spans.
    let server_hops = |export: &otlp::TestExport| {
        let hops: BTreeSet<String> = export
            .trace(&streamed_trace)
            .into_iter()
            .filter(|s| s.kind == KIND_SERVER)
            .filter_map(|s| s.attributes.get("service.name").cloned())
            .collect();
        ["chatbot", "router", "graph"]
            .iter()
            .all(|hop| hops.contains(*hop))
            .then_some(hops)
    };
    runtime.block_on(export.wait_until(Duration::from_secs(20), server_hops));
}
