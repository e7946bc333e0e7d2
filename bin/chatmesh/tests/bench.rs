//! `chatmesh bench` as a user runs it against `chatmesh up`: the loaders put a small workload in
//! through the public APIs (and change nothing the second time), every scenario's calls succeed
//! and are counted, a failing call makes the exit code 1 with its status in the report, and bad
//! input is refused with a one-line reason.

mod common;

use std::path::Path;

use chatmesh_test_support::ports::closed_port;
use common::{Up, chatmesh, text, workload, write_json};

/// Runs a scenario for `requests` measured calls (no warm-up, three workers on two connections)
/// and checks that the report counts them all as successful.
fn scenario_succeeds(addr: &str, name: &str, requests: u64, extra: &[&str]) {
    let requests_arg = requests.to_string();
    let mut args = vec![
        "bench",
        "--addr",
        addr,
        "--scenario",
        name,
        "--requests",
        &requests_arg,
        "--warmup",
        "0s",
        "--concurrency",
        "3",
        "--connections",
        "2",
    ];
    args.extend_from_slice(extra);
    let output = chatmesh(&args);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{name}: {stdout}{stderr}");
    assert!(
        stdout.starts_with(&format!("scenario {name}: concurrency 3, warm-up 0ns")),
        "{stdout}"
    );
    let all_ok = format!("calls {requests}  ok {requests}  failed 0");
    assert!(stdout.contains(&all_ok), "{name}: {stdout}");
    assert!(stdout.contains("latency ms  p50 "), "{stdout}");
}

/// Runs a scenario on one worker for `requests` calls and returns the exit code and report.
fn scenario_once(addr: &str, name: &str, requests: u64) -> (Option<i32>, String, String) {
    let output = chatmesh(&[
        "bench",
        "--addr",
        addr,
        "--scenario",
        name,
        "--requests",
        &requests.to_string(),
        "--warmup",
        "0s",
        "--concurrency",
        "1",
    ]);
    let (stdout, stderr) = text(&output);
    (output.status.code(), stdout, stderr)
}

/// `chatmesh bench <subcommand> --addr <addr> --workload <path>`: exit code, stdout, stderr.
fn loader(subcommand: &str, addr: &str, path: &str) -> (Option<i32>, String, String) {
    loader_with(subcommand, addr, path, &[])
}

/// [`loader`] with more flags.
fn loader_with(
    subcommand: &str,
    addr: &str,
    path: &str,
    extra: &[&str],
) -> (Option<i32>, String, String) {
    let mut args = vec!["bench", subcommand, "--addr", addr, "--workload", path];
    args.extend_from_slice(extra);
    let output = chatmesh(&args);
    let (stdout, stderr) = text(&output);
    (output.status.code(), stdout, stderr)
}

#[test]
fn relational_loader_and_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "workload.json", &workload(120));
    let path = path.to_str().unwrap();
    let up = Up::start(&[]);
    let addr = up.relational();

    // Only the 24 demo orders so far: a 100-row page cannot be full, so every call fails.
    let (code, stdout, _) = scenario_once(&addr, "relational-list100", 4);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("calls 4  ok 0  failed 4"), "{stdout}");
    assert!(stdout.contains("errors FailedPrecondition: 4"), "{stdout}");

    load_orders_is_idempotent(&addr, path);
    for name in [
        "relational-get",
        "relational-create",
        "relational-update",
        "relational-list100",
    ] {
        scenario_succeeds(&addr, name, 12, &["--ids", "120"]);
    }
    // The baseline is answered by any service.
    scenario_succeeds(&addr, "grpc-health", 12, &[]);
    a_duration_bounds_the_measurement(&addr);
    an_unknown_order_status_is_refused(&addr, dir.path());

    let (code, rest) = up.stop();
    assert_eq!(code, Some(0), "{rest}");
}

fn load_orders_is_idempotent(addr: &str, path: &str) {
    for expect in [
        "120 created, 0 already there",
        "0 created, 120 already there",
    ] {
        let output = chatmesh(&[
            "bench",
            "load-orders",
            "--addr",
            addr,
            "--workload",
            path,
            "--concurrency",
            "4",
        ]);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(
            stdout.starts_with(&format!("loaded 120 orders from {path} in ")),
            "{stdout}"
        );
        assert!(stdout.contains(expect), "{stdout}");
    }
}

/// A measured duration instead of a number of calls.
fn a_duration_bounds_the_measurement(addr: &str) {
    let output = chatmesh(&[
        "bench",
        "--addr",
        addr,
        "--scenario",
        "grpc-health",
        "--duration",
        "300ms",
        "--warmup",
        "50ms",
        "--concurrency",
        "2",
    ]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let calls: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("calls "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no call count: {stdout}"));
    assert!(calls > 0, "{stdout}");
    assert!(
        stdout.contains(&format!("ok {calls}  failed 0")),
        "{stdout}"
    );
}

/// A workload whose order has a status the contract does not know.
fn an_unknown_order_status_is_refused(addr: &str, dir: &Path) {
    let mut bad = workload(1);
    bad["relational"]["orders"][0]["status"] = "lost".into();
    let bad_path = write_json(dir, "bad.json", &bad);
    let (code, _, stderr) = loader("load-orders", addr, bad_path.to_str().unwrap());
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr.trim(),
        "chatmesh bench: order 1: unknown status 'lost'"
    );
}

#[test]
fn graph_vector_and_chat_loaders_and_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "workload.json", &workload(30));
    let path = path.to_str().unwrap();
    // The chat scenarios' vector questions are about the FAQ texts, in collection `faq`.
    let up = Up::start(&[("CHATMESH_ROUTER_DEFAULT_COLLECTION", "faq")]);

    load_graph_is_idempotent(&up.graph(), path);
    load_faqs_is_idempotent(&up.vector(), path);
    load_faqs_keeps_to_a_named_embedder(&up.vector(), path);
    recall_is_measured(&up.vector(), path);
    let (code, _, stderr) = loader("load-orders", &up.relational(), path);
    assert_eq!(code, Some(0), "{stderr}");

    scenario_succeeds(&up.vector(), "vector-near-text", 9, &["--workload", path]);
    scenario_succeeds(&up.graph(), "graph-neighbors", 9, &[]);
    scenario_succeeds(&up.graph(), "graph-query", 10, &[]);
    for name in ["chat-graph", "chat-vector", "chat-relational", "chat-mix"] {
        scenario_succeeds(&up.chatbot(), name, 9, &["--workload", path]);
    }
    an_edge_to_an_unknown_node_is_refused(&up.graph(), dir.path());
    graph_scenarios_need_the_graph(&up.relational());

    let (code, rest) = up.stop();
    assert_eq!(code, Some(0), "{rest}");
}

fn load_graph_is_idempotent(addr: &str, path: &str) {
    for created in [
        "5 nodes and 5 relationships created",
        "0 nodes and 0 relationships created",
    ] {
        let (code, stdout, stderr) = loader("load-graph", addr, path);
        assert_eq!(code, Some(0), "{stderr}");
        let expected = format!(
            "loaded the workload graph: 5 nodes and 5 relationships in the file, {created}"
        );
        assert!(stdout.starts_with(&expected), "{stdout}");
    }
}

/// The second load finds the collection there and upserts the same ids again.
fn load_faqs_is_idempotent(addr: &str, path: &str) {
    for _ in 0..2 {
        let (code, stdout, stderr) = loader("load-faqs", addr, path);
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(
            stdout.trim(),
            "loaded 6 FAQ texts into collection 'faq' (embedder hashing-v1)"
        );
    }
}

/// A named embedder that is the collection's, or an empty name (whatever it has), loads.
fn load_faqs_keeps_to_a_named_embedder(addr: &str, path: &str) {
    for name in ["hashing-v1", ""] {
        let (code, stdout, stderr) = loader_with("load-faqs", addr, path, &["--embedder", name]);
        assert_eq!(code, Some(0), "{name:?}: {stderr}");
        assert_eq!(
            stdout.trim(),
            "loaded 6 FAQ texts into collection 'faq' (embedder hashing-v1)"
        );
    }
}

/// A collection made with another embedder is not loaded into when an embedder is named, and
/// `none` is refused before anything is created (the FAQs go in as texts).
#[test]
fn load_faqs_refuses_another_embedder() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "workload.json", &workload(1));
    let path = path.to_str().unwrap();
    let up = Up::start(&[]);
    let faqs =
        |embedder: &str| loader_with("load-faqs", &up.vector(), path, &["--embedder", embedder]);

    let (code, _, stderr) = faqs("none");
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr.trim(),
        "chatmesh bench: --embedder none: the FAQs are sent as texts, which need an embedder"
    );
    // The service names the embedders it has.
    let (code, _, stderr) = faqs("wordllama-l2-256");
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("unknown embedder 'wordllama-l2-256'"),
        "{stderr}"
    );

    create_collection(&up.vector(), "faq", "none");
    let (code, stdout, stderr) = faqs("hashing-v1");
    assert_eq!(code, Some(1), "{stdout}");
    assert_eq!(
        stderr.trim(),
        "chatmesh bench: collection 'faq' exists with embedder 'none', not 'hashing-v1' \
         (delete it to load with another)"
    );
    let (code, rest) = up.stop();
    assert_eq!(code, Some(0), "{rest}");
}

/// Creates a 256-dimension cosine collection through the vector service's gRPC API.
fn create_collection(addr: &str, name: &str, embedder: &str) {
    use chatmesh_proto::vector as pb;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut client =
            pb::vector_service_client::VectorServiceClient::connect(format!("http://{addr}"))
                .await
                .unwrap();
        let request = pb::CreateCollectionRequest {
            name: name.into(),
            dimension: 256,
            distance: pb::Distance::Cosine as i32,
            hnsw_config: None,
            embedder: embedder.into(),
        };
        client.create_collection(request).await.unwrap();
    });
}

fn recall_is_measured(addr: &str, path: &str) {
    let (code, stdout, stderr) = loader("vector-recall", addr, path);
    assert_eq!(code, Some(0), "{stderr}");
    let recall: f64 = stdout
        .trim()
        .strip_prefix("recall@5 of near_text against exact search with the same embedder: ")
        .and_then(|rest| rest.strip_suffix(" (6 questions)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected report: {stdout}"));
    // Six documents and k = 5: the index finds almost all of the exact top five.
    assert!((0.8..=1.0).contains(&recall), "{stdout}");
}

/// An edge to a node the workload does not have is refused (after the nodes are merged).
fn an_edge_to_an_unknown_node_is_refused(addr: &str, dir: &Path) {
    let mut bad = workload(1);
    bad["graph"]["edges"][0]["dst"] = "Nobody Known".into();
    let bad_path = write_json(dir, "bad-edge.json", &bad);
    let (code, _, stderr) = loader("load-graph", addr, bad_path.to_str().unwrap());
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr.trim(),
        "chatmesh bench: edge endpoint 'Nobody Known' is not a node of the workload"
    );
}

/// Graph scenarios sent to a service that is not the graph: the neighbours scenario cannot list
/// the people it starts from; the query scenario's calls fail with the status.
fn graph_scenarios_need_the_graph(not_graph: &str) {
    let (code, _, stderr) = scenario_once(not_graph, "graph-neighbors", 1);
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with("chatmesh bench: listing people: code: '")
            && stderr.contains("not implemented"),
        "{stderr}"
    );
    let (code, stdout, _) = scenario_once(not_graph, "graph-query", 2);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("calls 2  ok 0  failed 2"), "{stdout}");
    assert!(stdout.contains("errors Unimplemented: 2"), "{stdout}");
}

#[test]
fn an_unknown_scenario_lists_the_known_ones() {
    let output = chatmesh(&["bench", "--scenario", "relational-frobnicate"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.starts_with(
            "chatmesh bench: unknown scenario 'relational-frobnicate'; known: grpc-health, \
             graph-neighbors, graph-query, relational-get,"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("chat-mix"), "{stderr}");
}

#[test]
fn unreadable_workloads_are_refused_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let missing = missing.to_str().unwrap();
    for scenario in ["vector-near-text", "chat-mix"] {
        let output = chatmesh(&["bench", "--scenario", scenario, "--workload", missing]);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{scenario}");
        assert!(
            stderr.starts_with(&format!("chatmesh bench: {missing}: ")),
            "{stderr}"
        );
    }

    let not_json = dir.path().join("not.json");
    std::fs::write(&not_json, "{ \"graph\": ").unwrap();
    let output = chatmesh(&[
        "bench",
        "--scenario",
        "chat-graph",
        "--workload",
        not_json.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).1.contains("EOF while parsing"),
        "{:?}",
        text(&output)
    );

    // A workload with no orders has no relational questions for the chat scenarios.
    let no_orders = write_json(dir.path(), "no-orders.json", &workload(0));
    let output = chatmesh(&[
        "bench",
        "--scenario",
        "chat-relational",
        "--workload",
        no_orders.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output)
            .1
            .ends_with("the workload lacks questions for an intent\n"),
        "{:?}",
        text(&output)
    );
}

#[test]
fn an_unreachable_service_is_reported() {
    let unreachable = format!("127.0.0.1:{}", closed_port());
    for args in [
        vec!["bench", "--addr", &unreachable, "--scenario", "grpc-health"],
        vec!["bench", "--addr", &unreachable, "--scenario", "graph-query"],
        vec!["bench", "load-orders", "--addr", &unreachable],
        vec!["bench", "load-graph", "--addr", &unreachable],
        vec!["bench", "load-faqs", "--addr", &unreachable],
        vec!["bench", "vector-recall", "--addr", &unreachable],
    ] {
        let output = chatmesh(&args);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let expected = format!("chatmesh bench: cannot connect to {unreachable}: ");
        assert!(stderr.starts_with(&expected), "{args:?}: {stderr}");
    }

    let output = chatmesh(&[
        "bench",
        "--addr",
        "http://[::1",
        "--scenario",
        "grpc-health",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).1.starts_with("chatmesh bench: "));
}

#[test]
fn bad_flags_are_one_line_and_exit_two() {
    for args in [
        vec!["bench", "--concurrency", "0"],
        vec!["bench", "--connections", "1001"],
        vec!["bench", "--requests", "5", "--duration", "1s"],
        vec!["bench", "--duration", "soon"],
        vec!["bench", "load-orders", "--scenario", "grpc-health"],
    ] {
        let output = chatmesh(&args);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("chatmesh: "), "{stderr}");
    }
}
